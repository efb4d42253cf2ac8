"""The application lifecycle's guards and argument rules (domain.md §4–5), at their edges, and the change-request
guards (domain.md §6) that share the supervisor's step and the eligibility blockers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from app.domain import applications as rules
from app.domain import change_requests
from app.domain.calls import CallWindow, is_open_on
from app.domain.principal import Principal
from app.domain.publicity import NoticeFact
from app.domain.reference import PLAN_SECTIONS, codes
from app.domain.review import Declaration, ExpertProfile

TODAY = date(2026, 5, 20)
PROVINCE = Principal("p", "province")
SUPERVISOR = Principal("s", "supervisor")
LEAD = Principal("a", "applicant")
PLAN = {section: f"{section} 的内容" for section in codes(PLAN_SECTIONS)}
CALL = CallWindow("published", opens_on=date(2026, 5, 1), closes_on=TODAY)
FAILING = {"rule": "rd_spend", "passed": False, "message_zh": "研发投入不足", "message_en": "R&D spend too low"}
DRAFT = rules.ApplicationFacts(status="draft", today=TODAY, call=CALL, plan=PLAN)
# A notice (公示) that ended yesterday, without objections: what approval waits for.
ENDED = (NoticeFact("n0", TODAY - timedelta(days=1)),)


def blocked(action: str, actor: Principal, facts: rules.ApplicationFacts) -> list[str]:
    return [b.code for b in rules.LIFECYCLE.blockers(action, actor, facts)]


def problems(action: str, body: dict[str, Any], *, today: date = TODAY, concluded: date | None = None) -> list[Any]:
    facts = replace(DRAFT, today=today)
    return rules.argument_problems(action, facts, body, review_concluded_on=concluded)


# --- the call window ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "day", "open_"),
    [
        pytest.param(CALL, date(2026, 4, 30), False, id="the day before it opens"),
        pytest.param(CALL, date(2026, 5, 1), True, id="the day it opens"),
        pytest.param(CALL, TODAY, True, id="the day it closes"),
        pytest.param(CALL, TODAY + timedelta(days=1), False, id="the day after it closes"),
        pytest.param(replace(CALL, status="draft"), TODAY, False, id="a draft call"),
        pytest.param(replace(CALL, status="closed"), TODAY, False, id="a closed call"),
    ],
)
def test_a_call_takes_submissions_on_both_ends_of_its_window_while_published(
    call: CallWindow, day: date, open_: bool
) -> None:
    assert is_open_on(call, day) is open_
    assert (blocked("submit", LEAD, replace(DRAFT, call=call, today=day)) == []) is open_


def test_without_a_call_a_draft_is_not_submitted_but_a_fast_track_one_is() -> None:
    assert blocked("submit", LEAD, replace(DRAFT, call=None)) == ["call-not-open"]
    refusal = rules.LIFECYCLE.blockers("submit", LEAD, replace(DRAFT, call=None))[0]
    assert refusal.data == {"resubmit_by": None}
    assert (refusal.message_zh, refusal.message_en) == ("申报通知未开放或已截止", "The call is not open today.")
    assert blocked("submit", PROVINCE, replace(DRAFT, call=None, fast_track=True)) == []


@pytest.mark.parametrize(
    ("status", "resubmit_by", "expected"),
    [
        pytest.param("returned", TODAY + timedelta(days=1), [], id="returned, on the day before the deadline"),
        pytest.param("returned", TODAY + timedelta(days=2), [], id="returned, well before the deadline"),
        pytest.param("returned", TODAY, [], id="returned, on the deadline"),
        pytest.param("returned", TODAY - timedelta(days=1), ["call-not-open"], id="returned, after the deadline"),
        pytest.param("returned", None, ["call-not-open"], id="returned without a deadline"),
        pytest.param("draft", TODAY, ["call-not-open"], id="a draft has no resubmission deadline"),
    ],
)
def test_a_returned_application_is_resubmitted_until_its_deadline_after_the_call_closes(
    status: str, resubmit_by: date | None, expected: list[str]
) -> None:
    closed = replace(DRAFT, status=status, call=replace(CALL, status="closed"), resubmit_by=resubmit_by)
    assert blocked("submit", LEAD, closed) == expected
    if expected:
        data = rules.LIFECYCLE.blockers("submit", LEAD, closed)[0].data
        assert data == {"resubmit_by": resubmit_by.isoformat() if resubmit_by else None}


# --- the plan and eligibility -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "missing"),
    [
        pytest.param(PLAN, [], id="all seven sections"),
        pytest.param({**PLAN, "funding": "   "}, ["funding"], id="a blank section"),
        pytest.param({k: v for k, v in PLAN.items() if k != "background"}, ["background"], id="an absent section"),
        pytest.param({}, list(codes(PLAN_SECTIONS)), id="nothing"),
    ],
)
def test_every_plan_section_must_be_written(plan: dict[str, str], missing: list[str]) -> None:
    assert len(codes(PLAN_SECTIONS)) == 7
    assert rules.missing_plan_sections(plan) == missing
    found = rules.LIFECYCLE.blockers("submit", LEAD, replace(DRAFT, plan=plan))
    assert [(b.code, b.data) for b in found] == (
        [("plan-incomplete", {"missing_sections": missing})] if missing else []
    )
    if missing:
        assert (found[0].message_zh, found[0].message_en) == (
            "建设方案七个部分均须填写",
            "All seven plan sections are required.",
        )


def test_each_failing_eligibility_check_blocks_submission_and_resubmission() -> None:
    facts = replace(DRAFT, plan=None, failing_checks=(FAILING, {"rule": "other"}))
    found = rules.LIFECYCLE.blockers("submit", LEAD, facts)
    assert [b.code for b in found] == ["plan-incomplete", "eligibility-rule-failed", "eligibility-rule-failed"]
    first, second = found[1:]
    assert (first.message_zh, first.message_en, first.data) == (
        "研发投入不足",
        "R&D spend too low",
        {"rule": "rd_spend", "passed": False},
    )
    assert (second.message_zh, second.message_en, second.data) == ("", "", {"rule": "other"})
    revising = replace(DRAFT, status="revising", failing_checks=(FAILING,))
    assert blocked("resubmit", LEAD, revising) == ["eligibility-rule-failed"]


# --- the supervisor's step -------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["recommend", "return", "reject"])
def test_the_province_takes_the_supervisors_step_only_for_a_lead_without_one(action: str) -> None:
    submitted = replace(DRAFT, status="submitted")
    assert blocked(action, SUPERVISOR, submitted) == []
    assert blocked(action, PROVINCE, submitted) == ["supervisor-decides"]
    assert blocked(action, PROVINCE, replace(submitted, lead_has_supervisor=False)) == []


def test_after_review_the_province_rejects_whatever_the_supervisor() -> None:
    assert blocked("reject", PROVINCE, replace(DRAFT, status="reviewed")) == []


# --- review rounds, scores, approval -------------------------------------------------------------------------------


def test_conclude_waits_for_every_score() -> None:
    under_review = replace(DRAFT, status="under_review")
    assert blocked("conclude_review", PROVINCE, under_review) == []
    found = rules.LIFECYCLE.blockers("conclude_review", PROVINCE, replace(under_review, scores_missing=2))
    assert [(b.code, b.data) for b in found] == [("scores-missing", {"missing_count": 2})]
    assert found[0].message_zh == "尚有 2 位专家未评分"


@pytest.mark.parametrize(
    ("passed", "expected"), [(True, []), (False, ["review-not-passed"]), (None, ["review-not-passed"])]
)
def test_only_a_passed_review_is_approved(passed: bool | None, expected: list[str]) -> None:
    reviewed = replace(DRAFT, status="reviewed", review_passed=passed, aggregate_score="69.99", publicity=ENDED)
    found = rules.LIFECYCLE.blockers("approve", PROVINCE, reviewed)
    assert [b.code for b in found] == expected
    if expected:
        assert found[0].data == {"aggregate_score": "69.99"}


# --- what a request carries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("return", "a reason is required to return"),
        ("reject", "a reason is required to reject"),
        ("request_revision", "a reason is required to request revision"),
    ],
)
def test_returning_rejecting_and_asking_for_a_revision_need_a_reason(action: str, message: str) -> None:
    assert problems(action, {}) == [("reason", message)]
    assert problems(action, {"reason": ""}) == [("reason", message)]
    assert problems(action, {"reason": "材料不全"}) == []


def test_recommending_needs_no_reason() -> None:
    assert problems("recommend", {}) == []


@pytest.mark.parametrize(
    ("days", "ok"),
    [(-1, False), (0, True), (1, True), (29, True), (30, True), (31, False)],
)
def test_a_return_gives_up_to_thirty_days_to_resubmit(days: int, ok: bool) -> None:
    body = {"reason": "材料不全", "resubmit_by": TODAY + timedelta(days=days)}
    expected = [] if ok else [("resubmit_by", "the resubmission deadline is within 30 days from today")]
    assert problems("return", body) == expected


def test_only_a_return_sets_a_resubmission_deadline() -> None:
    body = {"reason": "不予推荐", "resubmit_by": TODAY}
    assert problems("reject", body) == [("resubmit_by", "only a return sets a resubmission deadline")]


@pytest.mark.parametrize(
    ("body", "concluded", "expected"),
    [
        pytest.param({"decision_date": TODAY, "document_no": "豫科〔2026〕8号"}, None, [], id="complete"),
        pytest.param(
            {"document_no": "豫科〔2026〕8号"},
            None,
            [("decision_date", "the approval decision date is required")],
            id="no decision date",
        ),
        # Issue 16 §4: without a number the document register issues the next one.
        pytest.param({"decision_date": TODAY}, None, [], id="no document number"),
        pytest.param(
            {"decision_date": TODAY, "document_no": "豫科〔2026〕8号"},
            TODAY,
            [],
            id="on the day the review concluded",
        ),
        pytest.param(
            {"decision_date": TODAY - timedelta(days=1), "document_no": "豫科〔2026〕8号"},
            TODAY,
            [("decision_date", "the approval cannot be dated before the review concluded")],
            id="before the review concluded",
        ),
    ],
)
def test_an_approval_is_dated_and_numbered(
    body: dict[str, Any], concluded: date | None, expected: list[tuple[str, str]]
) -> None:
    assert problems("approve", body, concluded=concluded) == expected


def test_an_approval_is_not_dated_in_the_future() -> None:
    found = problems("approve", {"decision_date": TODAY + timedelta(days=1), "document_no": "豫科〔2026〕8号"})
    assert [name for name, _ in found] == ["decision_date"]


def test_approval_waits_for_the_public_notice_and_its_objections() -> None:
    """The same guard as recognition (app.domain.publicity), reached through approve: missing, running, objected."""
    reviewed = replace(DRAFT, status="reviewed", review_passed=True)
    assert blocked("approve", PROVINCE, reviewed) == ["publicity-missing"]
    running = (NoticeFact("n1", TODAY),)
    assert blocked("approve", PROVINCE, replace(reviewed, publicity=running)) == ["publicity-running"]
    objected = (NoticeFact("n1", TODAY - timedelta(days=1), open_objections=1),)
    assert blocked("approve", PROVINCE, replace(reviewed, publicity=objected)) == ["objection-unresolved"]
    assert blocked("approve", PROVINCE, replace(reviewed, publicity=ENDED)) == []
    failed = replace(reviewed, review_passed=False, publicity=running)
    assert blocked("approve", PROVINCE, failed) == ["review-not-passed", "publicity-running"]


@pytest.mark.parametrize(
    ("decided", "expected"),
    [
        (TODAY - timedelta(days=2), ["the decision is dated after the public notice ended on 2026-05-18"]),
        (TODAY - timedelta(days=1), []),
    ],
)
def test_an_approval_is_dated_after_the_notice_ended(decided: date, expected: list[str]) -> None:
    facts = replace(DRAFT, status="reviewed", publicity=(NoticeFact("n1", TODAY - timedelta(days=2)),))
    body = {"decision_date": decided, "document_no": "豫科〔2026〕8号"}
    found = rules.argument_problems("approve", facts, body, review_concluded_on=None)
    assert [msg for _, msg in found] == expected


# --- editing ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "fast_track", "status", "expected"),
    [
        (LEAD, False, "draft", []),
        (LEAD, False, "returned", []),
        (LEAD, False, "revising", []),
        (LEAD, False, "submitted", ["wrong-state"]),
        (PROVINCE, False, "draft", ["wrong-role"]),
        (PROVINCE, True, "draft", []),
        (LEAD, True, "draft", ["wrong-role"]),
        (SUPERVISOR, False, "approved", ["wrong-role", "wrong-state"]),
    ],
)
def test_the_lead_edits_a_draft_returned_or_revising_application_the_province_a_fast_track_one(
    actor: Principal, fast_track: bool, status: str, expected: list[str]
) -> None:
    found = rules.update_blockers(actor, replace(DRAFT, status=status, fast_track=fast_track))
    assert [b.code for b in found] == expected
    editor = "province" if fast_track else "applicant"
    messages = {
        "wrong-role": (f"只有 {editor} 可以修改", f"Only the {editor} edits this application.", {}),
        "wrong-state": (f"当前状态（{status}）不能修改", f"Not editable in state '{status}'.", {"status": status}),
    }
    assert [(b.message_zh, b.message_en, b.data) for b in found] == [messages[code] for code in expected]


@pytest.mark.parametrize(
    ("status", "new", "reason", "expected"),
    [
        pytest.param("recommended", ["e3"], None, [], id="before review the panel is free"),
        pytest.param("under_review", ["e1", "e3"], "e2 病休", [], id="replacing one who has not scored"),
        pytest.param(
            "under_review",
            ["e1", "e3"],
            None,
            [("reason", "a reason is required to change the panel during review")],
            id="without a reason",
        ),
        pytest.param(
            "under_review",
            ["e3"],
            "调整",
            [("expert_ids", "members who have scored cannot be replaced: e1")],
            id="removing one who has scored",
        ),
    ],
)
def test_during_review_only_members_who_have_not_scored_are_replaced_with_a_reason(
    status: str, new: list[str], reason: str | None, expected: list[tuple[str, str]]
) -> None:
    found = rules.panel_change_problems(["e1", "e2"], new, ["e1"], status=status, reason=reason)
    assert found == expected


def test_every_scored_member_removed_is_named() -> None:
    found = rules.panel_change_problems(["e1", "e2", "e3"], ["e4"], ["e1", "e3"], status="under_review", reason="x")
    assert found == [("expert_ids", "members who have scored cannot be replaced: e1, e3")]


# --- change requests -------------------------------------------------------------------------------------------------

FILED = change_requests.ChangeFacts(status="filed", kind="name", center_status="recognized", lead_has_supervisor=True)


def change_blocked(action: str, actor: Principal, facts: change_requests.ChangeFacts) -> list[str]:
    return [b.code for b in change_requests.LIFECYCLE.blockers(action, actor, facts)]


@pytest.mark.parametrize("action", ["endorse", "reject"])
def test_the_supervisor_endorses_or_rejects_a_filed_change_the_province_only_without_one(action: str) -> None:
    assert change_blocked(action, SUPERVISOR, FILED) == []
    assert change_blocked(action, PROVINCE, FILED) == ["supervisor-decides"]
    assert change_blocked(action, PROVINCE, replace(FILED, lead_has_supervisor=False)) == []


@pytest.mark.parametrize("center_status", ["revoked", "exited"])
def test_a_closed_centers_change_is_rejected_but_not_endorsed_or_approved(center_status: str) -> None:
    closed = replace(FILED, center_status=center_status)
    assert change_blocked("endorse", SUPERVISOR, closed) == ["center-closed"]
    assert change_blocked("reject", SUPERVISOR, closed) == []
    endorsed = replace(closed, status="endorsed")
    assert change_blocked("approve", PROVINCE, endorsed) == ["center-closed"]
    assert change_blocked("reject", PROVINCE, endorsed) == []


def test_a_new_lead_is_approved_only_if_it_is_eligible() -> None:
    endorsed = replace(FILED, status="endorsed", kind="lead_org", new_lead_failing_checks=(FAILING,))
    assert change_blocked("approve", PROVINCE, endorsed) == ["eligibility-rule-failed"]
    assert change_blocked("approve", PROVINCE, replace(endorsed, new_lead_failing_checks=())) == []
    # The failing checks of a new lead are judged only for a change of lead.
    assert change_blocked("approve", PROVINCE, replace(endorsed, kind="name")) == []


def test_the_province_rejects_an_endorsed_change_whatever_the_supervisor() -> None:
    assert change_blocked("reject", PROVINCE, replace(FILED, status="endorsed")) == []
    refusal = change_requests.LIFECYCLE.blockers("endorse", PROVINCE, FILED)[0]
    assert (refusal.message_zh, refusal.message_en) == (
        "该牵头单位有主管部门，由主管部门办理",
        "The lead has a supervising department; this step is the department's.",
    )


# --- opening a review: a valid panel, on a revised plan, at most twice ------------------------------------------------


def member(expert_id: str, category: str, affiliation: str | None = None) -> ExpertProfile:
    return ExpertProfile(expert_id, f"专家{expert_id}", category, affiliation, frozenset({"org-conflict"}))


CATEGORIES = ("technical", "financial", "management")
MEMBERS = tuple(member(f"e{i}", CATEGORIES[i % 3]) for i in range(5))
PANEL = rules.PanelFacts(members=MEMBERS, involved_org_ids=("org-lead",), min_size=5, categories=CATEGORIES)
RECOMMENDED = replace(DRAFT, status="recommended", panel=PANEL, formal_review_complete=True)


def test_a_review_opens_on_a_valid_panel() -> None:
    assert blocked("open_review", PROVINCE, RECOMMENDED) == []


def test_a_first_review_waits_for_a_complete_formal_review() -> None:
    found = rules.LIFECYCLE.blockers("open_review", PROVINCE, replace(RECOMMENDED, formal_review_complete=False))
    assert [(b.code, b.message_zh, b.message_en, b.data) for b in found] == [
        (
            "formal-review-incomplete",
            "形式审查尚未通过，不能进入专家评审",
            "The formal review (形式审查) has not been completed for this submission.",
            {},
        )
    ]
    # With no panel either, both are listed, the formal review first.
    bare = replace(RECOMMENDED, formal_review_complete=False, panel=None)
    assert blocked("open_review", PROVINCE, bare) == ["formal-review-incomplete", "panel-missing"]


def test_re_opening_review_on_a_revised_plan_needs_no_new_formal_review() -> None:
    reviewed = replace(RECOMMENDED, status="reviewed", revised_since_review=True, formal_review_complete=False)
    assert blocked("open_review", PROVINCE, reviewed) == []


def test_return_incomplete_is_internal_to_the_formal_review() -> None:
    assert "return_incomplete" not in rules.LIFECYCLE.actions(RECOMMENDED)
    assert "return_incomplete" not in rules.LIFECYCLE.allowed(PROVINCE, RECOMMENDED)
    assert "return_incomplete" not in rules.LIFECYCLE.table_open(PROVINCE, RECOMMENDED)


def test_an_incomplete_application_is_editable_and_resubmitted_whatever_the_calls_dates() -> None:
    closed = CallWindow("closed", TODAY - timedelta(days=90), TODAY - timedelta(days=60))
    incomplete = replace(DRAFT, status="incomplete", call=closed)
    assert "incomplete" in rules.EDITABLE_STATUSES
    assert blocked("submit", LEAD, incomplete) == []
    assert blocked("withdraw", LEAD, incomplete) == []
    assert blocked("submit", LEAD, replace(incomplete, status="returned")) == ["call-not-open"]
    assert rules.update_blockers(LEAD, incomplete) == []


@pytest.mark.parametrize("panel", [None, replace(PANEL, members=())])
def test_a_review_needs_a_panel(panel: rules.PanelFacts | None) -> None:
    found = rules.LIFECYCLE.blockers("open_review", PROVINCE, replace(RECOMMENDED, panel=panel))
    assert [(b.code, b.message_zh, b.message_en) for b in found] == [
        ("panel-missing", "尚未组建评审专家组", "No review panel has been formed.")
    ]


def test_a_panel_rule_violation_is_a_blocker_with_its_data() -> None:
    small = replace(PANEL, members=MEMBERS[:4])
    found = rules.panel_blockers(small)
    assert [(b.code, b.data) for b in found] == [("panel-too-small", {"min_size": 5, "size": 4})]
    assert found[0].message_en == "The panel needs at least 5 experts; it has 4"


@pytest.mark.parametrize(
    ("panel", "expected"),
    [
        pytest.param(replace(PANEL, pending=2), [], id="accepted members make a panel: pending ones do not matter"),
        pytest.param(replace(PANEL, members=(), pending=1), ["panel-missing", "panel-invitations-pending"], id="none"),
        pytest.param(
            replace(PANEL, members=MEMBERS[:4], pending=1), ["panel-too-small", "panel-invitations-pending"], id="4"
        ),
        pytest.param(replace(PANEL, members=MEMBERS[:4], pending=0), ["panel-too-small"], id="4, nobody pending"),
    ],
)
def test_only_accepted_members_count_and_pending_invitations_are_named(
    panel: rules.PanelFacts, expected: list[str]
) -> None:
    assert [b.code for b in rules.panel_blockers(panel)] == expected


def test_the_pending_blocker_says_how_many_have_not_answered() -> None:
    found = rules.panel_blockers(replace(PANEL, members=(), pending=3))[1]
    assert (found.message_zh, found.message_en, found.data) == (
        "尚有 3 位受邀专家未答复",
        "3 invited expert(s) have not answered yet; only accepted members count.",
        {"pending": 3},
    )


def test_recusal_on_a_panel_is_judged_on_its_day() -> None:
    left = Declaration("org-lead", "former_employer", date(2023, 6, 1))
    members = (*MEMBERS[:4], ExpertProfile("e9", "专家e9", "technical", None, frozenset(), (left,)))
    on = replace(PANEL, members=members, today=date(2026, 6, 1))
    assert [b.code for b in rules.panel_blockers(on)] == ["conflict-of-interest"]
    assert rules.panel_blockers(replace(on, today=date(2026, 6, 2))) == []


@pytest.mark.parametrize(
    ("members", "involved", "expected"),
    [
        pytest.param(
            (*MEMBERS[:4], member("e9", "technical", affiliation="org-lead")),
            ("org-lead",),
            {"expert_id": "e9", "org_id": "org-lead", "cause": "affiliation"},
            id="an expert of the lead",
        ),
        pytest.param(
            MEMBERS,
            ("org-lead", "org-conflict"),
            {"expert_id": "e0", "org_id": "org-conflict", "cause": "declared_conflict"},
            id="a declared conflict with a participant",
        ),
    ],
)
def test_an_expert_who_must_recuse_blocks_the_review_by_name(
    members: tuple[ExpertProfile, ...], involved: tuple[str, ...], expected: dict[str, str]
) -> None:
    found = rules.panel_blockers(replace(PANEL, members=members, involved_org_ids=involved))
    assert [(b.code, b.data) for b in found] == [("conflict-of-interest", expected)]
    assert found[0].message_zh == f"专家 {expected['expert_id']} 须回避"
    assert found[0].message_en == f"Expert {expected['expert_id']} must recuse ({expected['cause']})."


@pytest.mark.parametrize(
    ("round_", "revised", "expected"),
    [
        pytest.param(1, True, [], id="a revised plan after the first review"),
        pytest.param(1, False, ["not-revised"], id="no revision yet"),
        pytest.param(2, True, ["review-rounds-exhausted"], id="after the second review"),
        pytest.param(2, False, ["not-revised", "review-rounds-exhausted"], id="both"),
    ],
)
def test_a_review_is_reopened_once_and_only_on_a_revised_plan(round_: int, revised: bool, expected: list[str]) -> None:
    reviewed = replace(RECOMMENDED, status="reviewed", review_round=round_, revised_since_review=revised)
    found = rules.LIFECYCLE.blockers("open_review", PROVINCE, reviewed)
    assert [b.code for b in found] == expected
    messages = {
        "not-revised": (
            "须先请申报单位修改建设方案，方可重新评审",
            "A review is re-opened only on a revised plan: request a revision first.",
            {},
        ),
        "review-rounds-exhausted": (
            "已重新评审一次，只能批准或不予支持",
            "The application has been re-reviewed once; it can now only be approved or rejected.",
            {"review_round": round_},
        ),
    }
    assert [(b.message_zh, b.message_en, b.data) for b in found] == [messages[code] for code in expected]
    # A first review is not a re-review: neither condition applies.
    first = replace(RECOMMENDED, review_round=round_, revised_since_review=revised)
    assert blocked("open_review", PROVINCE, first) == []
