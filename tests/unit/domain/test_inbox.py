"""The inbox's rules (app/domain/inbox.py): every source's items, due dates and overdue edges, the order and pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.domain import inbox
from app.domain.inbox import API, KINDS, SOURCES, Item, Row, Subject, items_of, page_after, sources_for

CENTER = Subject("center", "c-1", "中心一")
APP = Subject("application", "a-1", "申报一")


def row(source: str, subject: Subject = CENTER, parent_id: str | None = None, **facts: Any) -> Row:
    return Row(source=source, subject=subject, parent_id=parent_id, facts=facts)


def one(source: str, as_of: date, subject: Subject = CENTER, parent_id: str | None = None, **facts: Any) -> Item:
    items = SOURCES[source].decide(row(source, subject, parent_id, **facts), as_of)
    assert len(items) == 1
    return items[0]


# --- undated sources: one item each, the action path from the subject and its parent -------------------------------

UNDATED = [
    (
        "applications_to_recommend",
        "application.recommend",
        "POST",
        "/applications/s-1/recommend",
        ("推荐申报", "Recommend or return"),
    ),
    (
        "applications_to_open_review",
        "application.open_review",
        "POST",
        "/applications/s-1/open_review",
        ("组织评审", "Open review"),
    ),
    (
        "applications_to_conclude_review",
        "application.conclude_review",
        "POST",
        "/applications/s-1/conclude_review",
        ("结束评审", "Conclude the review"),
    ),
    (
        "applications_to_decide",
        "application.decide",
        "POST",
        "/applications/s-1/approve",
        ("审批申报", "Decide the application"),
    ),
    (
        "applications_to_revise",
        "application.resubmit",
        "POST",
        "/applications/s-1/resubmit",
        ("提交修改后的建设方案", "Resubmit the revised plan"),
    ),
    (
        "formal_reviews_to_do",
        "application.formal_review",
        "POST",
        "/applications/s-1/formal-review",
        ("形式审查", "Do the formal review"),
    ),
    (
        "applications_to_complete",
        "application.complete",
        "POST",
        "/applications/s-1/submit",
        ("补正材料后重新提交", "Complete the evidence and submit again"),
    ),
    (
        "objections_to_resolve",
        "objection.resolve",
        "POST",
        "/publicity/p-1/objections/s-1/resolve",
        ("处理公示异议", "Resolve the objection"),
    ),
    (
        "reports_to_endorse",
        "annual_report.endorse",
        "POST",
        "/centers/p-1/annual-reports/s-1/endorse",
        ("审核年度工作总结", "Endorse the annual report"),
    ),
    (
        "reports_to_accept",
        "annual_report.accept",
        "POST",
        "/centers/p-1/annual-reports/s-1/accept",
        ("接收年度工作总结", "Accept the annual report"),
    ),
    (
        "changes_to_endorse",
        "change_request.endorse",
        "POST",
        "/centers/p-1/change-requests/s-1/endorse",
        ("审核变更申请", "Review the change request"),
    ),
    (
        "changes_to_approve",
        "change_request.approve",
        "POST",
        "/centers/p-1/change-requests/s-1/approve",
        ("批复变更申请", "Decide the change request"),
    ),
    (
        "task_books_to_sign",
        "center.sign_task_book",
        "POST",
        "/centers/s-1/sign_task_book",
        ("签订建设目标任务书", "Sign the task book"),
    ),
    (
        "extensions_to_decide",
        "center.decide_extension",
        "POST",
        "/centers/s-1/extend",
        ("审批延期申请", "Decide the extension"),
    ),
    ("exits_to_decide", "center.decide_exit", "POST", "/centers/s-1/exit", ("审批退出申请", "Decide the exit request")),
    (
        "acceptances_to_record",
        "center.record_acceptance",
        "POST",
        "/centers/s-1/record_acceptance",
        ("组织验收并记录结论", "Record the acceptance verdict"),
    ),
    ("centers_to_recognize", "center.recognize", "POST", "/centers/s-1/recognize", ("正式认定", "Formally recognize")),
    (
        "results_to_record",
        "assessment.record_result",
        "PUT",
        "/assessment-cycles/p-1/results/s-1",
        ("记录考核结果", "Record the assessment result"),
    ),
    (
        "cycles_to_finalize",
        "assessment_cycle.finalize",
        "POST",
        "/assessment-cycles/s-1/finalize",
        ("考核定级", "Finalize the assessment cycle"),
    ),
]


@pytest.mark.parametrize(("source", "kind", "method", "path", "title"), UNDATED)
def test_an_undated_source_yields_one_undated_item_with_its_action(
    source: str, kind: str, method: str, path: str, title: tuple[str, str]
) -> None:
    subject = Subject("x", "s-1", "名称")
    item = one(source, date(2026, 1, 1), subject, "p-1")
    assert (item.kind, item.subject, item.due_on, item.overdue) == (kind, subject, None, False)
    assert (item.method, item.path, item.action) == (method, API + path, f"{method} {API}{path}")
    assert (item.title_zh, item.title_en) == title
    assert item.stage() is None
    assert not SOURCES[source].dated


def test_every_kind_is_yielded_by_one_source_and_the_registry_is_keyed_by_name() -> None:
    assert len(KINDS) == len(set(KINDS)) == 28
    assert all(name == source.name for name, source in SOURCES.items())
    assert {s.name for s in SOURCES.values() if s.dated} == {
        "scores_to_give",
        "invitations_to_answer",
        "applications_to_submit",
        "rectification_reviews",
        "center_deadlines",
        "extensions_expiring",
    }


@pytest.mark.parametrize(
    ("role", "names"),
    [
        ("observer", set()),
        ("expert", {"scores_to_give", "invitations_to_answer"}),
        (
            "supervisor",
            {"applications_to_recommend", "reports_to_endorse", "changes_to_endorse"},
        ),
        (
            "applicant",
            {
                "applications_to_submit",
                "applications_to_revise",
                "applications_to_complete",
                "center_deadlines",
                "extensions_expiring",
            },
        ),
        (
            "third_party",
            {"acceptances_to_record", "rectification_reviews", "results_to_record"},
        ),
    ],
)
def test_each_role_reads_its_own_sources(role: str, names: set[str]) -> None:
    assert {s.name for s in sources_for(role)} == names


def test_the_province_reads_every_source_but_the_leads_experts_and_applicants() -> None:
    assert {s.name for s in sources_for("province")} == set(SOURCES) - {
        "applications_to_submit",
        "applications_to_revise",
        "applications_to_complete",
        "scores_to_give",
        "invitations_to_answer",
        "center_deadlines",
        "extensions_expiring",
    }


# --- steps dated on their row: scores and invitations to a panel ---------------------------------------------------


@pytest.mark.parametrize(
    ("source", "fact", "kind", "method", "path", "title"),
    [
        (
            "scores_to_give",
            "scores_due_on",
            "review.score",
            "PUT",
            "/applications/s-1/scores/me",
            ("评审打分", "Score the application"),
        ),
        (
            "invitations_to_answer",
            "reply_by",
            "panel.invitation",
            "POST",
            "/applications/s-1/panel/invitation/accept",
            ("答复评审邀请", "Accept or decline the invitation to the panel"),
        ),
    ],
)
@pytest.mark.parametrize(
    ("as_of", "overdue"), [(date(2026, 3, 9), False), (date(2026, 3, 10), False), (date(2026, 3, 11), True)]
)
def test_a_panel_step_is_due_on_the_date_recorded_with_it(
    source: str, fact: str, kind: str, method: str, path: str, title: tuple[str, str], as_of: date, overdue: bool
) -> None:
    subject = Subject("application", "s-1", "申报")
    item = one(source, as_of, subject, None, **{fact: date(2026, 3, 10)})
    assert (item.kind, item.subject, item.due_on, item.overdue) == (kind, subject, date(2026, 3, 10), overdue)
    assert (item.method, item.path, item.title_zh, item.title_en) == (method, API + path, *title)
    assert item.stage() == ("overdue" if overdue else "due")
    # A panel set before deadlines existed has none: listed, undated, never reminded.
    undated_item = one(source, as_of, subject, None)
    assert (undated_item.due_on, undated_item.overdue, undated_item.stage()) == (None, False, None)


# --- applications to submit ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "due_on"),
    [
        ({"status": "draft", "call_closes_on": date(2026, 3, 31)}, date(2026, 3, 31)),
        ({"status": "draft", "call_closes_on": date(2026, 3, 31), "resubmit_by": date(2026, 4, 9)}, date(2026, 3, 31)),
        (
            {"status": "returned", "call_closes_on": date(2026, 3, 31), "resubmit_by": date(2026, 4, 9)},
            date(2026, 4, 9),
        ),
        ({"status": "returned", "call_closes_on": date(2026, 3, 31), "resubmit_by": None}, date(2026, 3, 31)),
        ({"status": "draft", "call_closes_on": None}, None),
    ],
)
def test_an_application_to_submit_is_due_when_its_call_closes_or_by_the_returns_deadline(
    facts: dict[str, Any], due_on: date | None
) -> None:
    item = one("applications_to_submit", date(2026, 1, 1), APP, **facts)
    assert (item.kind, item.due_on, item.overdue) == ("application.submit", due_on, False)
    assert item.path == f"{API}/applications/a-1/submit"
    assert (item.method, item.title_zh, item.title_en) == ("POST", "提交申报书", "Submit the application")


@pytest.mark.parametrize(
    ("as_of", "overdue", "stage"),
    [(date(2026, 3, 30), False, "due"), (date(2026, 3, 31), False, "due"), (date(2026, 4, 1), True, "overdue")],
)
def test_an_item_is_overdue_only_after_its_due_date(as_of: date, overdue: bool, stage: str) -> None:
    item = one("applications_to_submit", as_of, APP, status="draft", call_closes_on=date(2026, 3, 31))
    assert (item.overdue, item.stage()) == (overdue, stage)


# --- a center's deadlines, by app.domain.deadlines.owed ------------------------------------------------------------


def center(**facts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"status": "under_construction", "approved_on": date(2024, 6, 1)}
    base["construction_ends_on"] = date(2027, 11, 30)
    return {**base, **facts}


def deadlines(as_of: date, **facts: Any) -> list[tuple[str, date | None, bool, str]]:
    items = SOURCES["center_deadlines"].decide(row("center_deadlines", **center(**facts)), as_of)
    return [(i.kind, i.due_on, i.overdue, i.action) for i in items]


REPORTS = f"POST {API}/centers/c-1/annual-reports"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2024, 12, 31), []),
        (date(2025, 1, 1), [("annual_report.due", date(2025, 1, 31), False, REPORTS)]),
        (date(2025, 1, 31), [("annual_report.due", date(2025, 1, 31), False, REPORTS)]),
        (date(2025, 2, 1), [("annual_report.due", date(2025, 1, 31), True, REPORTS)]),
    ],
)
def test_an_annual_report_is_due_on_31_january_and_overdue_from_1_february(
    as_of: date, expected: list[tuple[str, date, bool, str]]
) -> None:
    assert deadlines(as_of) == expected


def test_a_filed_report_is_no_longer_due_and_the_title_names_the_year() -> None:
    assert deadlines(date(2026, 2, 1), submitted_report_years=[2024]) == [
        ("annual_report.due", date(2026, 1, 31), True, REPORTS)
    ]
    item = SOURCES["center_deadlines"].decide(row("center_deadlines", **center()), date(2025, 1, 1))[0]
    assert (item.title_zh, item.title_en) == ("提交 2024 年度工作总结和计划", "File the annual report for 2024")
    assert item.subject == CENTER


def test_a_written_but_unfiled_report_is_to_be_submitted_not_written_again() -> None:
    assert deadlines(date(2026, 2, 1), submitted_report_years=[2024], unfiled_reports={"2025": "r-9"}) == [
        ("annual_report.due", date(2026, 1, 31), True, f"POST {API}/centers/c-1/annual-reports/r-9/submit")
    ]
    assert deadlines(date(2025, 2, 1), unfiled_reports={"2025": "r-9"}) == [
        ("annual_report.due", date(2025, 1, 31), True, REPORTS)
    ]


def test_acceptance_is_listed_from_three_months_before_construction_ends() -> None:
    facts = {"approved_on": date(2026, 6, 1), "construction_ends_on": date(2026, 11, 30)}
    assert deadlines(date(2026, 8, 29), **facts) == []
    accept = f"POST {API}/centers/c-1/request_acceptance"
    assert deadlines(date(2026, 8, 30), **facts) == [("center.acceptance_due", date(2027, 2, 28), False, accept)]
    assert deadlines(date(2026, 12, 31), **facts) == [("center.acceptance_due", date(2027, 2, 28), False, accept)]
    item = SOURCES["center_deadlines"].decide(row("center_deadlines", **center(**facts)), date(2026, 9, 1))[0]
    assert (item.title_zh, item.title_en) == ("申请验收", "Request acceptance")


@pytest.mark.parametrize(
    ("kind", "action"),
    [("acceptance", f"POST {API}/centers/c-1/request_acceptance"), ("assessment", f"GET {API}/centers/c-1")],
)
def test_a_rectification_is_due_on_its_recorded_deadline(kind: str, action: str) -> None:
    facts = {
        "status": "rectifying",
        "approved_on": date(2026, 6, 1),
        "rectifying_kind": kind,
        "rectification_due_on": date(2026, 9, 30),
    }
    assert deadlines(date(2026, 10, 1), **facts) == [("center.rectification_due", date(2026, 9, 30), True, action)]
    item = SOURCES["center_deadlines"].decide(row("center_deadlines", **center(**facts)), date(2026, 9, 30))[0]
    assert (item.overdue, item.title_zh, item.title_en) == (False, "完成整改", "Complete the rectification")


def test_an_assessment_falls_due_three_years_after_the_last_one() -> None:
    facts = {
        "status": "recognized",
        "approved_on": date(2026, 6, 1),
        "recognized_on": date(2026, 7, 1),
        "last_assessed_on": date(2027, 3, 1),
        "submitted_report_years": [2026, 2027, 2028],
    }
    assert deadlines(date(2029, 2, 28), **facts) == []
    assert deadlines(date(2029, 3, 1), **facts) == [
        ("center.assessment_due", date(2030, 3, 1), False, f"GET {API}/centers/c-1")
    ]


def test_an_assessment_is_listed_a_year_before_it_falls_due() -> None:
    facts = {
        "status": "recognized",
        "approved_on": date(2026, 6, 1),
        "recognized_on": date(2026, 7, 1),
        "last_assessed_on": None,
        "submitted_report_years": [2026, 2027],
    }
    assert deadlines(date(2028, 6, 30), **facts) == []
    assert deadlines(date(2028, 7, 1), **facts) == [
        ("center.assessment_due", date(2029, 7, 1), False, f"GET {API}/centers/c-1")
    ]
    item = SOURCES["center_deadlines"].decide(row("center_deadlines", **center(**facts)), date(2028, 7, 1))[0]
    assert (item.title_zh, item.title_en) == ("准备周期考核", "Prepare for the periodic assessment")


# --- extensions ending, rectification reviews -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 8, 29), None),
        (date(2026, 8, 30), False),
        (date(2026, 11, 30), False),
        (date(2026, 12, 1), True),
    ],
)
def test_an_extended_construction_period_is_listed_from_the_acceptance_window_and_due_on_its_end(
    as_of: date, expected: bool | None
) -> None:
    items = SOURCES["extensions_expiring"].decide(
        row("extensions_expiring", construction_ends_on=date(2026, 11, 30)), as_of
    )
    if expected is None:
        assert items == []
        return
    (item,) = items
    assert (item.kind, item.due_on, item.overdue) == ("center.extension_expiring", date(2026, 11, 30), expected)
    assert item.action == f"POST {API}/centers/c-1/request_acceptance"
    assert (item.title_zh, item.title_en) == ("延期建设期即将届满", "The extended construction period is ending")


def test_a_rectification_review_is_due_when_the_rectification_period_ends() -> None:
    item = one("rectification_reviews", date(2026, 10, 1), rectification_due_on=date(2026, 9, 30))
    assert (item.kind, item.due_on, item.overdue) == ("center.rectification_review", date(2026, 9, 30), True)
    assert item.action == f"POST {API}/centers/c-1/record_rectification_review"
    assert (item.title_zh, item.title_en) == ("整改复核", "Review the rectification")
    assert one("rectification_reviews", date(2026, 9, 30), rectification_due_on=date(2026, 9, 30)).overdue is False


# --- order and pages --------------------------------------------------------------------------------------------


def test_items_come_by_due_date_with_undated_items_last_then_by_kind_and_subject() -> None:
    rows = [
        row("task_books_to_sign", Subject("center", "b", "乙")),
        row("task_books_to_sign", Subject("center", "a", "甲")),
        row("applications_to_recommend", Subject("application", "z", "丙")),
        row("rectification_reviews", Subject("center", "y", "丁"), rectification_due_on=date(2026, 5, 1)),
        row("rectification_reviews", Subject("center", "x", "戊"), rectification_due_on=date(2026, 6, 1)),
    ]
    items = items_of(rows, date(2026, 1, 1))
    assert [(i.kind, i.subject.id) for i in items] == [
        ("center.rectification_review", "y"),
        ("center.rectification_review", "x"),
        ("application.recommend", "z"),
        ("center.sign_task_book", "a"),
        ("center.sign_task_book", "b"),
    ]
    assert items[0].sort_key() == ("2026-05-01", "center.rectification_review", "center", "y", items[0].path)
    assert items[2].sort_key()[0] == "~"


def test_a_page_starts_after_the_cursor_and_names_its_last_item_only_when_more_follow() -> None:
    rows = [row("task_books_to_sign", Subject("center", str(n), "中心")) for n in range(5)]
    items = items_of(rows, date(2026, 1, 1))
    page, last = page_after(items, None, 2)
    assert ([i.subject.id for i in page], last) == (["0", "1"], items[1])
    page, last = page_after(items, items[1].sort_key(), 2)
    assert ([i.subject.id for i in page], last) == (["2", "3"], items[3])
    page, last = page_after(items, items[3].sort_key(), 2)
    assert ([i.subject.id for i in page], last) == (["4"], None)
    page, last = page_after(items, None, 5)
    assert (len(page), last) == (5, None)
    assert page_after(items, items[4].sort_key(), 2) == ([], None)


def test_the_next_cursor_is_the_last_item_of_a_page_longer_than_two() -> None:
    rows = [row("task_books_to_sign", Subject("center", str(n), "中心")) for n in range(5)]
    items = items_of(rows, date(2026, 1, 1))
    page, last = page_after(items, None, 3)
    assert ([i.subject.id for i in page], last) == (["0", "1", "2"], items[2])


def test_the_stage_of_a_dated_item_is_due_then_overdue() -> None:
    due = one("rectification_reviews", date(2026, 9, 30), rectification_due_on=date(2026, 9, 30))
    late = one("rectification_reviews", date(2026, 10, 1), rectification_due_on=date(2026, 9, 30))
    assert (due.stage(), late.stage()) == (inbox.DUE, inbox.OVERDUE) == ("due", "overdue")
