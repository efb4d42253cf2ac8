"""The inbox (待办, issue 17 §3): what each role must do now, derived from data at read time for any `as_of`.

An inbox is a registry of *sources*. A source is one kind of fact the database can list (applications waiting for a
recommendation, reports waiting for acceptance, a center's deadlines, ...) and one pure function here that turns a
row of those facts into zero or more items for a date: what is to be done, by when (`due_on`, or None where no rule
sets a date) and whether that date has passed. The query of each source lives in `app.db.repositories.inbox`, under
the same name; `tests/unit/domain/test_inbox.py` pins every decision, and a test checks the two registries agree.

Deadlines are never restated here: annual reports, acceptance windows, rectification and assessment dates come from
`app.domain.deadlines` (`owed`), the call window from `app.domain.calls`.

To add a source: write `decide(row, as_of) -> list[Item]` here (use `undated` for a step no rule dates) and register
it in `SOURCES` with the kinds it yields; add its query to `app.db.repositories.inbox.QUERIES` under the same name;
add a row to the seeded world in `tests/api/test_inbox.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.domain.deadlines import (
    ACCEPTANCE,
    ANNUAL_REPORT,
    RECTIFICATION,
    CenterOnDate,
    acceptance_window,
    owed,
)

API = "/api/v1"
# The reminder stages (`reminder.due`, `reminder.overdue`).
DUE = "due"
OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Subject:
    type: str
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Row:
    """One row a source's query returns: the subject, the center it hangs under (reports, change requests) and the
    facts the source's rule reads (dates already parsed)."""

    source: str
    subject: Subject
    parent_id: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Item:
    kind: str
    subject: Subject
    due_on: date | None
    overdue: bool
    method: str
    path: str
    title_zh: str
    title_en: str

    @property
    def action(self) -> str:
        return f"{self.method} {self.path}"

    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Due date first (undated items last), then a stable key: kind, subject, action path."""
        due = self.due_on.isoformat() if self.due_on is not None else "~"  # "~" sorts after every digit
        return due, self.kind, self.subject.type, self.subject.id, self.path

    def stage(self) -> str | None:
        """The reminder stage of a dated item: `due` until its date, `overdue` after; None without a date."""
        if self.due_on is None:
            return None
        return OVERDUE if self.overdue else DUE


def _item(
    kind: str,
    row: Row,
    as_of: date,
    *,
    due_on: date | None,
    method: str,
    path: str,
    title: tuple[str, str],
) -> Item:
    return Item(
        kind=kind,
        subject=row.subject,
        due_on=due_on,
        overdue=due_on is not None and as_of > due_on,
        method=method,
        path=API + path,
        title_zh=title[0],
        title_en=title[1],
    )


Decide = Callable[[Row, date], list[Item]]


@dataclass(frozen=True, slots=True)
class Source:
    """A registered source: its name (the key of its query), the kinds it yields, the roles whose inbox it feeds and
    whether the worker reminds of its items (only dated items have a reminder)."""

    name: str
    kinds: tuple[str, ...]
    roles: frozenset[str]
    decide: Decide
    dated: bool = False


@dataclass(frozen=True, slots=True)
class undated:
    """A step no rule dates: one item per row, due_on None. `path` is formatted with `id` and `parent_id`.

    A callable class rather than a closure: the registry is built at import time, and the work happens when it is
    called, where the unit tests (and mutation testing) reach it."""

    kind: str
    method: str
    path: str
    title: tuple[str, str]

    def __call__(self, row: Row, as_of: date) -> list[Item]:
        where = self.path.format(id=row.subject.id, parent_id=row.parent_id)
        return [_item(self.kind, row, as_of, due_on=None, method=self.method, path=where, title=self.title)]


@dataclass(frozen=True, slots=True)
class dated_by:
    """A step whose date is recorded on its row (the fact `fact`, a date or None): one item, due that day.

    A panel member's reply deadline, the panel's scoring deadline: the dates were set when the step began, so the
    rule only reads them (a row without one, as a panel set before deadlines existed, is undated)."""

    kind: str
    method: str
    path: str
    title: tuple[str, str]
    fact: str

    def __call__(self, row: Row, as_of: date) -> list[Item]:
        where = self.path.format(id=row.subject.id, parent_id=row.parent_id)
        due = row.facts.get(self.fact)
        return [_item(self.kind, row, as_of, due_on=due, method=self.method, path=where, title=self.title)]


# --- dated sources -------------------------------------------------------------------------------------------------


def application_to_submit(row: Row, as_of: date) -> list[Item]:
    """A draft or returned application of the lead. It is due on the last day its call takes submissions
    (`app.domain.calls.is_open_on`: both ends of the window included), or, after a return with a deadline, on that
    deadline; a fast-track draft has no call and no date. (A call takes submissions on both ends of its window,
    `app.domain.calls.is_open_on`, so the closing day is the last day, and the item is overdue the day after.)"""
    f = row.facts
    due_on: date | None = f.get("resubmit_by") if f.get("status") == "returned" else None
    if due_on is None:
        due_on = f.get("call_closes_on")
    title = ("提交申报书", "Submit the application")
    return [
        _item(
            "application.submit",
            row,
            as_of,
            due_on=due_on,
            method="POST",
            path=f"/applications/{row.subject.id}/submit",
            title=title,
        )
    ]


def center_deadlines(row: Row, as_of: date) -> list[Item]:
    """What a center owes on `as_of` by `app.domain.deadlines.owed` (annual reports due 31 January and overdue from
    1 February, acceptance from 3 months before construction ends, rectification, assessment), judged on the
    center's recorded state: one item per obligation, each with the step that discharges it: for a report, writing
    it, or submitting the draft or returned one (`unfiled_reports`, by year); for an assessment or a rectification
    after an assessment, which no call of the lead's discharges, the center itself."""
    f = row.facts
    center = CenterOnDate(
        center_id=row.subject.id,  # pragma: no mutate - the items name their subject, not this id
        status=f["status"],
        approved_on=f["approved_on"],
        construction_ends_on=f.get("construction_ends_on"),
        recognized_on=f.get("recognized_on"),
        rectifying_kind=f.get("rectifying_kind"),
        rectification_due_on=f.get("rectification_due_on"),
        last_assessed_on=f.get("last_assessed_on"),
        submitted_report_years=frozenset(f.get("submitted_report_years", ())),
    )
    base = f"/centers/{row.subject.id}"
    items = []
    for owed_item in owed(center, as_of):
        if owed_item.kind == ANNUAL_REPORT:
            year = owed_item.period_year
            written = f.get("unfiled_reports", {}).get(str(year))  # a draft or returned report: submit it
            kind, method = "annual_report.due", "POST"
            path = f"{base}/annual-reports" if written is None else f"{base}/annual-reports/{written}/submit"
            title = (f"提交 {year} 年度工作总结和计划", f"File the annual report for {year}")
        elif owed_item.kind == ACCEPTANCE:
            kind, method, path = "center.acceptance_due", "POST", f"{base}/request_acceptance"
            title = ("申请验收", "Request acceptance")
        elif owed_item.kind == RECTIFICATION:
            kind = "center.rectification_due"
            method, path = (
                ("POST", f"{base}/request_acceptance") if center.rectifying_kind == ACCEPTANCE else ("GET", base)
            )
            title = ("完成整改", "Complete the rectification")
        else:  # ASSESSMENT
            kind, method, path = "center.assessment_due", "GET", base
            title = ("准备周期考核", "Prepare for the periodic assessment")
        items.append(Item(kind, row.subject, owed_item.due_on, owed_item.overdue, method, API + path, *title))
    return items


def extension_expiring(row: Row, as_of: date) -> list[Item]:
    """An extended construction period ending: listed from the day acceptance may be requested (3 months before the
    end, `app.domain.deadlines.acceptance_window`), due on the extended end."""
    ends_on: date = row.facts["construction_ends_on"]
    opens_on, _ = acceptance_window(ends_on)
    if as_of < opens_on:
        return []
    title = ("延期建设期即将届满", "The extended construction period is ending")
    path = f"/centers/{row.subject.id}/request_acceptance"
    return [_item("center.extension_expiring", row, as_of, due_on=ends_on, method="POST", path=path, title=title)]


def rectification_review(row: Row, as_of: date) -> list[Item]:
    """A center rectifying after an assessment: its rectification review is due when the rectification period ends
    (recorded when the period began, `app.domain.deadlines.rectification_due_on`)."""
    title = ("整改复核", "Review the rectification")
    path = f"/centers/{row.subject.id}/record_rectification_review"
    due_on = row.facts.get("rectification_due_on")
    return [_item("center.rectification_review", row, as_of, due_on=due_on, method="POST", path=path, title=title)]


# --- the registry --------------------------------------------------------------------------------------------------

_PROVINCE = frozenset({"province"})
_SUPERVISING = frozenset({"province", "supervisor"})
_APPLICANT = frozenset({"applicant"})

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        # applications
        Source(
            "applications_to_recommend",
            ("application.recommend",),
            _SUPERVISING,
            undated(
                "application.recommend", "POST", "/applications/{id}/recommend", ("推荐申报", "Recommend or return")
            ),
        ),
        Source(
            "applications_to_open_review",
            ("application.open_review",),
            _PROVINCE,
            undated("application.open_review", "POST", "/applications/{id}/open_review", ("组织评审", "Open review")),
        ),
        Source(
            "applications_to_conclude_review",
            ("application.conclude_review",),
            _PROVINCE,
            undated(
                "application.conclude_review",
                "POST",
                "/applications/{id}/conclude_review",
                ("结束评审", "Conclude the review"),
            ),
        ),
        Source(
            "applications_to_decide",
            ("application.decide",),
            _PROVINCE,
            undated("application.decide", "POST", "/applications/{id}/approve", ("审批申报", "Decide the application")),
        ),
        Source("applications_to_submit", ("application.submit",), _APPLICANT, application_to_submit, dated=True),
        Source(
            "applications_to_revise",
            ("application.resubmit",),
            _APPLICANT,
            undated(
                "application.resubmit",
                "POST",
                "/applications/{id}/resubmit",
                ("提交修改后的建设方案", "Resubmit the revised plan"),
            ),
        ),
        Source(
            "scores_to_give",
            ("review.score",),
            frozenset({"expert"}),
            dated_by(
                "review.score",
                "PUT",
                "/applications/{id}/scores/me",
                ("评审打分", "Score the application"),
                "scores_due_on",
            ),
            dated=True,
        ),
        # issue 16/17: the formal review, the lead's corrections, objections to a notice, invitations to a panel
        Source(
            "formal_reviews_to_do",
            ("application.formal_review",),
            _PROVINCE,
            undated(
                "application.formal_review",
                "POST",
                "/applications/{id}/formal-review",
                ("形式审查", "Do the formal review"),
            ),
        ),
        Source(
            "applications_to_complete",
            ("application.complete",),
            _APPLICANT,
            undated(
                "application.complete",
                "POST",
                "/applications/{id}/submit",
                ("补正材料后重新提交", "Complete the evidence and submit again"),
            ),
        ),
        Source(
            "objections_to_resolve",
            ("objection.resolve",),
            _PROVINCE,
            undated(
                "objection.resolve",
                "POST",
                "/publicity/{parent_id}/objections/{id}/resolve",
                ("处理公示异议", "Resolve the objection"),
            ),
        ),
        Source(
            "invitations_to_answer",
            ("panel.invitation",),
            frozenset({"expert"}),
            dated_by(
                "panel.invitation",
                "POST",
                "/applications/{id}/panel/invitation/accept",
                ("答复评审邀请", "Accept or decline the invitation to the panel"),
                "reply_by",
            ),
            dated=True,
        ),
        # annual reports and change requests
        Source(
            "reports_to_endorse",
            ("annual_report.endorse",),
            _SUPERVISING,
            undated(
                "annual_report.endorse",
                "POST",
                "/centers/{parent_id}/annual-reports/{id}/endorse",
                ("审核年度工作总结", "Endorse the annual report"),
            ),
        ),
        Source(
            "reports_to_accept",
            ("annual_report.accept",),
            _PROVINCE,
            undated(
                "annual_report.accept",
                "POST",
                "/centers/{parent_id}/annual-reports/{id}/accept",
                ("接收年度工作总结", "Accept the annual report"),
            ),
        ),
        Source(
            "changes_to_endorse",
            ("change_request.endorse",),
            _SUPERVISING,
            undated(
                "change_request.endorse",
                "POST",
                "/centers/{parent_id}/change-requests/{id}/endorse",
                ("审核变更申请", "Review the change request"),
            ),
        ),
        Source(
            "changes_to_approve",
            ("change_request.approve",),
            _PROVINCE,
            undated(
                "change_request.approve",
                "POST",
                "/centers/{parent_id}/change-requests/{id}/approve",
                ("批复变更申请", "Decide the change request"),
            ),
        ),
        # centers
        Source(
            "task_books_to_sign",
            ("center.sign_task_book",),
            _PROVINCE,
            undated(
                "center.sign_task_book",
                "POST",
                "/centers/{id}/sign_task_book",
                ("签订建设目标任务书", "Sign the task book"),
            ),
        ),
        Source(
            "extensions_to_decide",
            ("center.decide_extension",),
            _PROVINCE,
            undated(
                "center.decide_extension", "POST", "/centers/{id}/extend", ("审批延期申请", "Decide the extension")
            ),
        ),
        Source(
            "exits_to_decide",
            ("center.decide_exit",),
            _PROVINCE,
            undated("center.decide_exit", "POST", "/centers/{id}/exit", ("审批退出申请", "Decide the exit request")),
        ),
        Source(
            "acceptances_to_record",
            ("center.record_acceptance",),
            frozenset({"province", "third_party"}),
            undated(
                "center.record_acceptance",
                "POST",
                "/centers/{id}/record_acceptance",
                ("组织验收并记录结论", "Record the acceptance verdict"),
            ),
        ),
        Source(
            "centers_to_recognize",
            ("center.recognize",),
            _PROVINCE,
            undated("center.recognize", "POST", "/centers/{id}/recognize", ("正式认定", "Formally recognize")),
        ),
        Source(
            "rectification_reviews",
            ("center.rectification_review",),
            frozenset({"province", "third_party"}),
            rectification_review,
            dated=True,
        ),
        Source(
            "center_deadlines",
            ("annual_report.due", "center.acceptance_due", "center.rectification_due", "center.assessment_due"),
            _APPLICANT,
            center_deadlines,
            dated=True,
        ),
        Source("extensions_expiring", ("center.extension_expiring",), _APPLICANT, extension_expiring, dated=True),
        # assessment
        Source(
            "results_to_record",
            ("assessment.record_result",),
            frozenset({"province", "third_party"}),
            undated(
                "assessment.record_result",
                "PUT",
                "/assessment-cycles/{parent_id}/results/{id}",
                ("记录考核结果", "Record the assessment result"),
            ),
        ),
        Source(
            "cycles_to_finalize",
            ("assessment_cycle.finalize",),
            _PROVINCE,
            undated(
                "assessment_cycle.finalize",
                "POST",
                "/assessment-cycles/{id}/finalize",
                ("考核定级", "Finalize the assessment cycle"),
            ),
        ),
    )
}

KINDS: tuple[str, ...] = tuple(kind for source in SOURCES.values() for kind in source.kinds)


def sources_for(role: str) -> list[Source]:
    """The sources whose items a role's inbox shows (none for an observer, who never acts)."""
    return [source for source in SOURCES.values() if role in source.roles]


def items_of(rows: Iterable[Row], as_of: date) -> list[Item]:
    """Every row's items, sorted by due date (undated last), then kind, subject and action path."""
    items = [item for row in rows for item in SOURCES[row.source].decide(row, as_of)]
    return sorted(items, key=Item.sort_key)


def page_after(items: Sequence[Item], after: tuple[str, ...] | None, limit: int) -> tuple[list[Item], Item | None]:
    """The `limit` items after the position `after` (a previous page's last sort key), and the last item shown when
    more follow (its key is the next cursor)."""
    rest = [item for item in items if after is None or item.sort_key() > after]
    page = rest[:limit]
    return page, (page[-1] if len(rest) > limit else None)
