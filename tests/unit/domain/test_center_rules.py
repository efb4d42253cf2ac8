"""The center lifecycle's guards and argument rules (domain.md §6; 豫科〔2021〕116号 五(四)), at their edges."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from app.domain import annual_reports
from app.domain import centers as rules
from app.domain.annual_reports import period_year_problem
from app.domain.annual_reports import update_blockers as update_report_blockers
from app.domain.errors import ActionBlocked
from app.domain.principal import Principal
from app.domain.publicity import NoticeFact

INDEPENDENT = {"status": "independent", "kind": "enterprise", "credit_code": "91350100M000100Y43"}
AGENCY = uuid.uuid4()
PROVINCE = Principal("p", "province")
LEAD = Principal("a", "applicant", org_id=uuid.uuid4())
ENTRUSTED = Principal("t", "third_party", org_id=AGENCY)
STRANGER = Principal("t2", "third_party", org_id=uuid.uuid4())
END = date(2026, 11, 30)

BUILDING = rules.CenterFacts(
    status="under_construction",
    today=date(2026, 9, 1),
    approved_on=date(2023, 8, 11),
    has_task_book=True,
    construction_ends_on=END,
    accepted_report_years=frozenset({2023, 2024, 2025}),
    legal_entity=INDEPENDENT,
    acceptance_agency_org_id=str(AGENCY),
)


def codes(action: str, actor: Principal, facts: rules.CenterFacts) -> list[str]:
    return [b.code for b in rules.LIFECYCLE.blockers(action, actor, facts)]


def problems(action: str, facts: rules.CenterFacts, **body: Any) -> list[str]:
    return [name for name, _ in rules.argument_problems(action, facts, body)]


# --- acceptance: requested in the last 3 months, decided after the end --------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 8, 29), ["acceptance-too-early"]), (date(2026, 8, 30), []), (END, [])],
)
def test_acceptance_may_be_requested_from_exactly_three_months_before_construction_ends(
    today: date, expected: list[str]
) -> None:
    assert codes("request_acceptance", LEAD, replace(BUILDING, today=today)) == expected


def test_the_acceptance_window_does_not_apply_after_a_failed_acceptance() -> None:
    rectifying = replace(BUILDING, status="rectifying", rectifying_kind="acceptance", today=date(2020, 1, 1))
    assert codes("request_acceptance", LEAD, rectifying) == []


def test_a_center_rectifying_after_an_assessment_does_not_request_acceptance() -> None:
    rectifying = replace(BUILDING, status="rectifying", rectifying_kind="assessment")
    assert codes("request_acceptance", LEAD, rectifying) == ["rectifying-after-assessment"]


def test_acceptance_needs_every_due_report_accepted_and_an_independent_legal_entity() -> None:
    facts = replace(
        BUILDING,
        accepted_report_years=frozenset({2023, 2024}),
        legal_entity={"status": "relatively_independent", "kind": None, "credit_code": None},
    )
    assert codes("request_acceptance", LEAD, facts) == ["annual-reports-missing", "legal-entity-not-independent"]


def test_the_report_for_last_year_is_due_on_31_january_and_not_before() -> None:
    facts = replace(BUILDING, accepted_report_years=frozenset({2023, 2024}))
    assert "annual-reports-missing" not in codes("request_acceptance", LEAD, replace(facts, today=date(2026, 1, 30)))
    assert "annual-reports-missing" in codes("request_acceptance", LEAD, replace(facts, today=date(2026, 1, 31)))


def test_a_pending_extension_request_is_decided_before_acceptance() -> None:
    facts = replace(BUILDING, extension_requested_on=date(2026, 9, 1))
    assert codes("request_acceptance", LEAD, facts) == ["extension-pending"]


@pytest.mark.parametrize(("today", "expected"), [(END.replace(day=29), ["construction-not-ended"]), (END, [])])
def test_the_acceptance_verdict_is_recorded_only_once_construction_has_ended(today: date, expected: list[str]) -> None:
    pending = replace(BUILDING, status="acceptance_pending", today=today, acceptance_requested_on=date(2026, 9, 1))
    assert codes("record_acceptance", PROVINCE, pending) == expected


def test_only_the_entrusted_agency_records_an_acceptance_among_third_parties() -> None:
    pending = replace(BUILDING, status="acceptance_pending", today=date(2027, 1, 5))
    assert codes("record_acceptance", ENTRUSTED, pending) == []
    assert codes("record_acceptance", STRANGER, pending) == ["not-entrusted"]
    assert codes("record_acceptance", LEAD, pending) == ["wrong-role"]


@pytest.mark.parametrize(
    ("decided_on", "bad"),
    [
        (date(2026, 11, 29), ["decided_on"]),  # the day before the end
        (date(2026, 11, 30), []),  # the last day of construction
        (date(2027, 1, 5), []),  # today
        (date(2027, 1, 6), ["decided_on"]),  # tomorrow
    ],
)
def test_an_acceptance_verdict_is_dated_between_the_end_of_construction_and_today(
    decided_on: date, bad: list[str]
) -> None:
    pending = replace(BUILDING, status="acceptance_pending", today=date(2027, 1, 5))
    assert problems("record_acceptance", pending, result="passed", decided_on=decided_on) == bad


def test_an_acceptance_verdict_is_not_dated_before_the_request() -> None:
    pending = replace(
        BUILDING, status="acceptance_pending", today=date(2027, 6, 1), acceptance_requested_on=date(2027, 1, 10)
    )
    assert problems("record_acceptance", pending, result="failed", decided_on=date(2027, 1, 9)) == ["decided_on"]
    assert problems("record_acceptance", pending, result="failed", decided_on=date(2027, 1, 10)) == []


def test_a_passed_acceptance_makes_the_center_accepted_not_recognized() -> None:
    assert rules.acceptance_outcome(passed=True, failures_before=0, decided_on=END).status == "accepted"


def test_a_first_failure_gives_three_months_to_rectify_and_a_second_revokes() -> None:
    first = rules.acceptance_outcome(passed=False, failures_before=0, decided_on=date(2026, 11, 30))
    assert (first.status, first.rectifying_kind, first.rectification_due_on) == (
        "rectifying",
        "acceptance",
        date(2027, 2, 28),
    )
    second = rules.acceptance_outcome(passed=False, failures_before=1, decided_on=date(2027, 2, 1))
    assert (second.status, second.revocation_reason) == ("revoked", "failed_acceptance")


def test_only_the_province_recognizes_and_only_an_accepted_center() -> None:
    accepted = replace(BUILDING, status="accepted", publicity=(NoticeFact("n0", date(2026, 8, 31)),))
    assert codes("recognize", PROVINCE, accepted) == []
    assert codes("recognize", ENTRUSTED, accepted) == ["wrong-role"]
    assert codes("recognize", PROVINCE, replace(BUILDING, status="acceptance_pending")) == ["wrong-state"]
    # The document number is optional (issue 16 §4): the register issues one when it is omitted.
    assert problems("recognize", replace(accepted, today=date(2027, 3, 1)), decided_on=date(2027, 3, 1)) == []


def test_recognition_waits_for_the_public_notice_and_is_dated_after_it() -> None:
    accepted = replace(BUILDING, status="accepted", today=date(2026, 11, 5))
    assert codes("recognize", PROVINCE, accepted) == ["publicity-missing"]
    running = replace(accepted, publicity=(NoticeFact("n1", date(2026, 11, 5)),))
    assert codes("recognize", PROVINCE, running) == ["publicity-running"]
    upheld = replace(accepted, publicity=(NoticeFact("n1", date(2026, 11, 4), upheld_objections=1),))
    assert codes("recognize", PROVINCE, upheld) == ["objection-upheld"]
    ended = replace(accepted, publicity=(NoticeFact("n1", date(2026, 11, 4)),))
    body = {"document_no": "豫科〔2026〕3号"}
    assert rules.argument_problems("recognize", ended, {**body, "decided_on": date(2026, 11, 4)}) == [
        ("decided_on", "the decision is dated after the public notice ended on 2026-11-04")
    ]
    assert rules.argument_problems("recognize", ended, {**body, "decided_on": date(2026, 11, 5)}) == []


# --- extension: asked for before the end, decided later, once ------------------------------------------------------


@pytest.mark.parametrize(("today", "expected"), [(END, []), (date(2026, 12, 1), ["construction-ended"])])
def test_an_extension_is_requested_at_the_latest_on_the_last_day_of_construction(
    today: date, expected: list[str]
) -> None:
    assert codes("request_extension", LEAD, replace(BUILDING, today=today)) == expected


def test_an_extension_asked_a_week_before_the_end_can_be_granted_after_the_end() -> None:
    asked = replace(BUILDING, extension_requested_on=date(2026, 11, 23), today=date(2027, 1, 15))
    assert codes("extend", PROVINCE, asked) == []
    assert codes("decline_extension", PROVINCE, asked) == []
    assert problems("extend", asked, months=12, reason="设备延期到货", decided_on=date(2027, 1, 15)) == []


def test_the_province_extends_only_what_was_asked_and_only_once() -> None:
    assert codes("extend", PROVINCE, BUILDING) == ["extension-not-requested"]
    extended = replace(BUILDING, extension_months=6)
    assert codes("request_extension", LEAD, extended) == ["already-extended"]
    assert codes("request_extension", LEAD, replace(BUILDING, extension_requested_on=date(2026, 9, 1))) == [
        "extension-already-requested"
    ]


@pytest.mark.parametrize(("months", "bad"), [(0, ["months"]), (1, []), (12, []), (13, ["months"])])
def test_an_extension_is_one_to_twelve_months(months: int, bad: list[str]) -> None:
    assert problems("request_extension", BUILDING, months=months, reason="理由") == bad


def test_an_extension_decision_is_not_dated_before_its_request_nor_in_the_future() -> None:
    asked = replace(BUILDING, extension_requested_on=date(2026, 11, 23), today=date(2026, 12, 10))
    body = {"months": 6, "reason": "理由"}
    assert problems("extend", asked, decided_on=date(2026, 11, 22), **body) == ["decided_on"]
    assert problems("extend", asked, decided_on=date(2026, 12, 11), **body) == ["decided_on"]
    assert problems("extend", asked, decided_on=date(2026, 11, 23), **body) == []


# --- exit: asked, then approved, declined or withdrawn ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "actor", "requested", "expected"),
    [
        ("request_exit", LEAD, False, []),
        ("request_exit", LEAD, True, ["exit-already-requested"]),
        ("exit", PROVINCE, True, []),
        ("exit", PROVINCE, False, ["exit-not-requested"]),
        ("decline_exit", PROVINCE, True, []),
        ("decline_exit", PROVINCE, False, ["exit-not-requested"]),
        ("withdraw_exit", LEAD, True, []),
        ("withdraw_exit", LEAD, False, ["exit-not-requested"]),
        ("withdraw_exit", PROVINCE, True, ["wrong-role"]),
        ("revoke", PROVINCE, False, []),
    ],
)
def test_exit_is_asked_then_approved_declined_or_withdrawn(
    action: str, actor: Principal, requested: bool, expected: list[str]
) -> None:
    facts = replace(BUILDING, exit_requested_on=date(2026, 9, 1) if requested else None)
    assert codes(action, actor, facts) == expected


def test_a_rectification_review_follows_only_an_assessment_and_only_by_its_agency() -> None:
    after_assessment = replace(
        BUILDING, status="rectifying", rectifying_kind="assessment", assessment_agency_org_ids=frozenset({str(AGENCY)})
    )
    assert codes("record_rectification_review", PROVINCE, after_assessment) == []
    assert codes("record_rectification_review", ENTRUSTED, after_assessment) == []
    assert codes("record_rectification_review", STRANGER, after_assessment) == ["not-entrusted"]
    after_acceptance = replace(after_assessment, rectifying_kind="acceptance")
    assert codes("record_rectification_review", PROVINCE, after_acceptance) == ["not-rectifying-after-assessment"]


def test_the_refusal_carries_exactly_the_blockers_the_explanation_lists() -> None:
    facts = replace(BUILDING, today=date(2026, 1, 1), accepted_report_years=frozenset())
    listed = next(v for v in rules.LIFECYCLE.views(LEAD, facts) if v.action == "request_acceptance")
    with pytest.raises(ActionBlocked) as refused:
        rules.LIFECYCLE.check("request_acceptance", LEAD, facts)
    assert refused.value.blockers == [b.as_dict() for b in listed.blocked_by]
    assert refused.value.allowed == rules.LIFECYCLE.allowed(LEAD, facts)
    assert "request_acceptance" not in refused.value.allowed


def test_record_assessment_is_internal_and_never_offered() -> None:
    recognized = replace(BUILDING, status="recognized")
    assert "record_assessment" not in rules.LIFECYCLE.allowed(PROVINCE, recognized)
    assert "record_assessment" not in [v.action for v in rules.LIFECYCLE.views(PROVINCE, recognized)]


# --- editing the center ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "frozen"),
    [
        ("under_construction", False),
        ("acceptance_pending", True),
        ("accepted", True),
        ("recognized", True),
        ("rectifying", False),
    ],
)
def test_the_legal_entity_is_frozen_from_the_acceptance_request_on(status: str, frozen: bool) -> None:
    blockers = rules.update_blockers(LEAD, replace(BUILDING, status=status), {"legal_entity"})
    assert [b.code for b in blockers] == (["legal-entity-frozen"] if frozen else [])
    assert rules.update_blockers(LEAD, replace(BUILDING, status=status), {"governance"}) == []


def test_the_director_changes_only_by_change_request() -> None:
    current = {"board": [], "director": "张主任", "expert_committee": [], "technical_committee": []}
    assert rules.director_change_blockers(current, {**current, "board": ["李理事"]}) == []
    assert [b.code for b in rules.director_change_blockers(current, {**current, "director": "王主任"})] == [
        "director-by-change-request"
    ]


def test_observers_experts_and_supervisors_do_not_edit_a_center() -> None:
    for role in ("observer", "expert", "supervisor", "third_party"):
        assert [b.code for b in rules.update_blockers(Principal("x", role), BUILDING, {"governance"})] == ["wrong-role"]


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "bad"),
    [
        ("2023-08-10", None, [("starts_on",)]),  # the day before approval
        ("2023-08-11", None, []),
        ("2023-08-11", "2033-08-11", []),  # exactly 10 years
        ("2023-08-11", "2033-08-12", [("ends_on",)]),
        ("2023-08-11", "2023-08-11", [("ends_on",)]),
    ],
)
def test_a_task_book_starts_on_or_after_approval_and_lasts_at_most_ten_years(
    starts_on: str, ends_on: str | None, bad: list[tuple[str, ...]]
) -> None:
    book = {"targets": [], "starts_on": starts_on, "ends_on": ends_on}
    assert [where for where, _ in rules.task_book_problems(book, approved_on=date(2023, 8, 11))] == bad


@pytest.mark.parametrize(("year", "ok"), [(2022, False), (2023, True), (2025, True), (2026, False)])
def test_an_annual_report_covers_a_finished_year_from_the_approval_year(year: int, ok: bool) -> None:
    problem = period_year_problem(year, approved_on=date(2023, 8, 11), today=date(2026, 12, 31))
    assert (problem is None) == ok


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("applicant", "draft", []),
        ("applicant", "returned", []),
        ("applicant", "submitted", ["wrong-state"]),
        ("supervisor", "draft", ["wrong-role"]),
        ("province", "accepted", ["wrong-role", "wrong-state"]),
    ],
)
def test_only_the_lead_edits_a_draft_or_returned_report(role: str, status: str, expected: list[str]) -> None:
    assert [b.code for b in update_report_blockers(Principal("x", role), status)] == expected


# --- the legal entity acceptance judges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("legal_entity", "blocked"),
    [
        pytest.param(INDEPENDENT, False, id="independent with its own credit code"),
        pytest.param({**INDEPENDENT, "credit_code": None}, True, id="independent without a credit code"),
        pytest.param({**INDEPENDENT, "credit_code": ""}, True, id="independent with an empty credit code"),
        pytest.param({**INDEPENDENT, "status": "relatively_independent"}, True, id="relatively independent"),
        pytest.param({}, True, id="nothing recorded"),
    ],
)
def test_acceptance_needs_an_independent_legal_entity_with_its_own_credit_code(
    legal_entity: dict[str, Any], blocked: bool
) -> None:
    facts = replace(BUILDING, legal_entity=legal_entity)
    assert ("legal-entity-not-independent" in codes("request_acceptance", LEAD, facts)) is blocked
    found = rules.legal_entity_blockers(legal_entity)
    assert [b.code for b in found] == (["legal-entity-not-independent"] if blocked else [])
    if blocked:
        assert found[0].data == {"legal_entity_status": legal_entity.get("status")}
        assert found[0].message_en == "Acceptance requires an independent legal entity with its own credit code."
        assert found[0].message_zh == "验收须已建成独立法人实体"


@pytest.mark.parametrize(
    ("legal_entity", "fields"),
    [
        pytest.param(INDEPENDENT, [], id="a complete independent entity"),
        pytest.param({**INDEPENDENT, "kind": "public_institution"}, [], id="a public institution"),
        pytest.param({**INDEPENDENT, "kind": "association"}, ["kind"], id="an unknown kind"),
        pytest.param({**INDEPENDENT, "kind": None}, ["kind"], id="no kind"),
        pytest.param({**INDEPENDENT, "credit_code": ""}, ["credit_code"], id="no credit code"),
        pytest.param({"status": "independent"}, ["kind", "credit_code"], id="only the status"),
        pytest.param({"status": "relatively_independent"}, [], id="not independent: nothing more is asked"),
        pytest.param({"status": "none", "kind": "association"}, [], id="no entity: the kind is not judged"),
    ],
)
def test_an_independent_legal_entity_is_an_enterprise_or_public_institution_with_a_credit_code(
    legal_entity: dict[str, Any], fields: list[str]
) -> None:
    messages = {
        "kind": "an independent legal entity is an enterprise or a public_institution",
        "credit_code": "an independent legal entity has its own credit code",
    }
    assert rules.legal_entity_problems(legal_entity) == [(name, messages[name]) for name in fields]


# --- every action's body, field by field --------------------------------------------------------------------------

REASON = ("reason", "a reason is required")
DECIDED_ON = ("decided_on", "the decision date is required")
RESULT = ("result", "result is passed or failed")


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("request_extension", [("months", "months (1–12) is required"), REASON]),
        ("extend", [("months", "months (1–12) is required"), REASON, DECIDED_ON]),
        ("decline_extension", [REASON]),
        ("request_exit", [REASON]),
        ("decline_exit", [REASON]),
        ("exit", [DECIDED_ON]),
        ("withdraw_exit", []),
        ("record_acceptance", [DECIDED_ON, RESULT]),
        ("record_rectification_review", [DECIDED_ON, RESULT]),
        ("recognize", [DECIDED_ON]),
        ("revoke", [REASON, DECIDED_ON, ("reason_code", "a revocation reason code is required")]),
        ("sign_task_book", []),
        ("request_acceptance", []),
    ],
)
def test_each_action_names_every_field_it_is_missing(action: str, expected: list[tuple[str, str]]) -> None:
    assert rules.argument_problems(action, BUILDING, {}) == expected
    # An empty string is as missing as an absent field.
    assert rules.argument_problems(action, BUILDING, dict.fromkeys((name for name, _ in expected), "")) == expected


@pytest.mark.parametrize(("reason_code", "bad"), [("fraud", []), ("failed_acceptance", ["recover_funds"])])
def test_funds_are_recovered_only_for_fraud(reason_code: str, bad: list[str]) -> None:
    body = {"reason": "核查", "reason_code": reason_code, "decided_on": date(2026, 9, 1), "recover_funds": True}
    assert rules.argument_problems("revoke", BUILDING, body) == [
        (name, "recovery of funds is ordered only for fraud") for name in bad
    ]
    assert rules.argument_problems("revoke", BUILDING, {**body, "recover_funds": False}) == []


def test_an_extension_out_of_range_names_the_range() -> None:
    assert rules.argument_problems("request_extension", BUILDING, {"months": "13", "reason": "理由"}) == [
        ("months", "an extension is 1 to 12 months")
    ]


@pytest.mark.parametrize(
    ("action", "decided_on", "message"),
    [
        ("exit", date(2023, 8, 10), "a decision cannot be dated before the center's approval"),
        ("exit", date(2023, 8, 11), None),
        ("revoke", date(2023, 8, 10), "a decision cannot be dated before the center's approval"),
    ],
)
def test_no_decision_is_dated_before_the_approval(action: str, decided_on: date, message: str | None) -> None:
    body = {"decided_on": decided_on, "reason": "理由", "reason_code": "fraud"}
    assert rules.argument_problems(action, BUILDING, body) == ([("decided_on", message)] if message else [])


def test_the_date_messages_say_what_they_are_measured_against() -> None:
    asked = replace(BUILDING, extension_requested_on=date(2026, 11, 23), today=date(2026, 12, 10))
    assert rules.argument_problems("extend", asked, {"months": 6, "reason": "r", "decided_on": date(2026, 11, 22)}) == [
        ("decided_on", "the extension is decided on or after the day it was requested")
    ]
    pending = replace(BUILDING, today=date(2027, 6, 1), acceptance_requested_on=date(2027, 1, 10))
    body = {"result": "failed"}
    assert rules.argument_problems("record_acceptance", pending, {**body, "decided_on": date(2026, 11, 29)}) == [
        ("decided_on", "the acceptance verdict is dated on or after the end of construction")
    ]
    assert rules.argument_problems("record_acceptance", pending, {**body, "decided_on": date(2027, 1, 9)}) == [
        ("decided_on", "the acceptance verdict is dated on or after the request")
    ]


@pytest.mark.parametrize(
    ("actor", "status", "fields", "expected"),
    [
        pytest.param(
            Principal("x", "supervisor"),
            "revoked",
            {"legal_entity"},
            [
                (
                    "wrong-role",
                    "只有省科技厅和牵头单位可以修改中心信息",
                    "Only the province and the lead edit a center.",
                    {},
                )
            ],
            id="a supervisor, whatever the state",
        ),
        pytest.param(
            PROVINCE,
            "revoked",
            {"legal_entity"},
            [("wrong-state", "中心已撤销或退出", "The center has been revoked or has exited.", {"status": "revoked"})],
            id="a revoked center",
        ),
        pytest.param(
            LEAD,
            "exited",
            {"governance"},
            [("wrong-state", "中心已撤销或退出", "The center has been revoked or has exited.", {"status": "exited"})],
            id="an exited center",
        ),
        pytest.param(
            LEAD,
            "accepted",
            {"legal_entity", "acceptance_agency_org_id"},
            [
                (
                    "legal-entity-frozen",
                    "已申请验收，法人实体信息不能修改",
                    "The legal entity is frozen from the acceptance request on.",
                    {"status": "accepted"},
                ),
                ("wrong-role", "只有省科技厅可以委托验收机构", "Only the province entrusts the acceptance.", {}),
            ],
            id="the lead on a frozen entity and the agency",
        ),
        pytest.param(PROVINCE, "under_construction", {"acceptance_agency_org_id"}, [], id="the province entrusts"),
        pytest.param(LEAD, "under_construction", {"legal_entity", "governance"}, [], id="the lead while building"),
    ],
)
def test_who_edits_a_center_and_what_the_refusal_says(
    actor: Principal, status: str, fields: set[str], expected: list[tuple[str, str, str, dict[str, Any]]]
) -> None:
    found = rules.update_blockers(actor, replace(BUILDING, status=status), fields)
    assert [(b.code, b.message_zh, b.message_en, b.data) for b in found] == expected


def test_a_director_change_by_editing_is_refused_with_its_reason() -> None:
    current = {"director": "张主任"}
    found = rules.director_change_blockers(current, {"director": "王主任"})
    assert [(b.message_zh, b.message_en) for b in found] == [
        ("中心主任变更须提交变更备案", "The director changes only through a 'director' change request.")
    ]
    assert rules.director_change_blockers(current, {"board": []}) == []
    assert rules.director_change_blockers({}, {"director": None}) == []


def test_a_task_book_names_each_duplicate_target_and_says_why_a_date_is_refused() -> None:
    book = {
        "targets": [{"code": "T1"}, {"code": "T2"}, {"code": "T1"}, {"code": "T2"}, {"code": "T3"}],
        "starts_on": "2023-08-10",
        "ends_on": "2023-08-10",
    }
    assert rules.task_book_problems(book, approved_on=date(2023, 8, 11)) == [
        (("targets", 2, "code"), "duplicate target code"),
        (("targets", 3, "code"), "duplicate target code"),
        (("starts_on",), "construction cannot start before the approval decision"),
        (("ends_on",), "the construction end must be after its start"),
    ]
    ten_years_and_a_day = {"targets": [], "starts_on": "2023-08-11", "ends_on": "2033-08-12"}
    assert rules.task_book_problems(ten_years_and_a_day, approved_on=date(2023, 8, 11)) == [
        (("ends_on",), "construction lasts at most 10 years")
    ]


def test_a_task_book_start_is_judged_against_today_once_it_follows_the_approval() -> None:
    book = {"targets": [], "starts_on": "2040-01-01"}
    found = rules.task_book_problems(book, approved_on=date(2023, 8, 11), today=date(2026, 9, 1))
    assert [where for where, _ in found] == [("starts_on",)]
    assert found[0][1].startswith("a construction start cannot be after ")
    assert rules.task_book_problems(book, approved_on=date(2023, 8, 11)) == []


def test_what_a_refused_acceptance_request_says() -> None:
    rectifying = replace(BUILDING, status="rectifying", rectifying_kind="assessment")
    not_started = replace(BUILDING, construction_ends_on=None)
    pending = replace(BUILDING, extension_requested_on=date(2026, 9, 1))
    early = replace(BUILDING, today=date(2026, 8, 29), accepted_report_years=frozenset({2023}))
    said = {
        name: [
            (b.code, b.message_zh, b.message_en, b.data)
            for b in rules.LIFECYCLE.blockers("request_acceptance", LEAD, facts)
        ]
        for name, facts in {"rectifying": rectifying, "not_started": not_started, "pending": pending}.items()
    }
    assert said == {
        "rectifying": [
            (
                "rectifying-after-assessment",
                "考核整改期间不能申请验收",
                "A center rectifying after an assessment does not request acceptance.",
                {},
            )
        ],
        "not_started": [("construction-not-started", "尚未开始建设", "Construction has not started.", {})],
        "pending": [
            (
                "extension-pending",
                "延期申请尚未决定",
                "An extension request is pending; the province decides it first.",
                {},
            )
        ],
    }
    found = rules.LIFECYCLE.blockers("request_acceptance", LEAD, early)
    assert [(b.code, b.message_zh, b.message_en, b.data) for b in found] == [
        (
            "acceptance-too-early",
            "验收申请须在 2026-08-30 之后提出",
            "Acceptance may be requested from 2026-08-30 (3 months before construction ends).",
            {"opens_on": "2026-08-30"},
        ),
        (
            "annual-reports-missing",
            "2024, 2025 年度工作总结尚未通过省科技厅审核",
            "Annual reports not yet accepted: 2024, 2025.",
            {"missing_years": [2024, 2025]},
        ),
    ]


def test_after_a_failed_acceptance_the_window_is_the_rectification_period() -> None:
    after_failure = replace(BUILDING, status="rectifying", rectifying_kind="acceptance", today=date(2026, 1, 5))
    assert codes("request_acceptance", LEAD, after_failure) == []
    # Only the failed acceptance lifts "too early": a center building normally is still held to the window.
    assert codes("request_acceptance", LEAD, replace(after_failure, status="under_construction")) == [
        "acceptance-too-early"
    ]


# --- what the other center refusals say -----------------------------------------------------------------------------


def said(action: str, actor: Principal, facts: rules.CenterFacts) -> list[tuple[str, str, str]]:
    return [(b.code, b.message_zh, b.message_en) for b in rules.LIFECYCLE.blockers(action, actor, facts)]


def test_what_a_refused_extension_request_says() -> None:
    again = replace(BUILDING, extension_months=6, extension_requested_on=date(2026, 9, 1), construction_ends_on=None)
    assert said("request_extension", LEAD, again) == [
        ("already-extended", "建设期只能延期一次", "Construction may be extended only once."),
        ("extension-already-requested", "已提出延期申请，待省科技厅决定", "An extension is pending."),
        (
            "construction-ended",
            "建设期已结束，不能申请延期",
            "Construction has ended; an extension can no longer be requested.",
        ),
    ]
    assert said("extend", PROVINCE, BUILDING) == [
        ("extension-not-requested", "牵头单位尚未提出延期申请", "The lead has not asked for an extension.")
    ]


def test_what_a_refused_exit_or_rectification_review_says() -> None:
    assert said("request_exit", LEAD, replace(BUILDING, exit_requested_on=date(2026, 9, 1))) == [
        ("exit-already-requested", "已提出退出申请", "An exit has already been requested.")
    ]
    assert said("exit", PROVINCE, BUILDING) == [
        ("exit-not-requested", "牵头单位尚未提出退出申请", "The lead has not asked to exit.")
    ]
    after_acceptance = replace(BUILDING, status="rectifying", rectifying_kind="acceptance")
    assert said("record_rectification_review", STRANGER, after_acceptance) == [
        ("not-entrusted", "本机构未受委托", "This agency has not been entrusted with this center."),
        (
            "not-rectifying-after-assessment",
            "仅适用于考核整改",
            "Only a center rectifying after an assessment has a rectification review; after a failed "
            "acceptance it requests acceptance again.",
        ),
    ]
    assert said("sign_task_book", PROVINCE, replace(BUILDING, status="approved", has_task_book=False)) == [
        ("task-book-missing", "尚未填写建设目标任务书", "No task book has been drafted.")
    ]


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("supervisor", "submitted", []),
        ("province", "submitted", ["supervisor-decides"]),
        ("province", "endorsed", []),
    ],
)
def test_the_province_returns_a_submitted_report_only_for_a_lead_without_a_supervisor(
    role: str, status: str, expected: list[str]
) -> None:
    facts = annual_reports.ReportFacts(status=status, lead_has_supervisor=True)
    found = annual_reports.LIFECYCLE.blockers("return", Principal("x", role), facts)
    assert [b.code for b in found] == expected
    no_supervisor = annual_reports.ReportFacts(status=status, lead_has_supervisor=False)
    assert annual_reports.LIFECYCLE.blockers("return", Principal("x", role), no_supervisor) == []


def test_what_a_refused_report_edit_says() -> None:
    found = update_report_blockers(Principal("x", "province"), "accepted")
    assert [(b.code, b.message_zh, b.message_en, b.data) for b in found] == [
        ("wrong-role", "只有牵头单位可以修改年度总结", "Only the lead edits its report.", {}),
        (
            "wrong-state",
            "当前状态（accepted）不能修改",
            "A report is not edited in state 'accepted'.",
            {"status": "accepted"},
        ),
    ]
