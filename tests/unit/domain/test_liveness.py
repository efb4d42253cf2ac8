"""Liveness of every lifecycle, proven against the domain (issue 11 §2; docs/lifecycles.md).

A Hypothesis state machine drives each lifecycle through random actions by random roles on random days, with the
facts the guards read changing as the services change them (an effect model of each action, written from domain.md)
and as people change them in the documented ways (docs/lifecycles.md: the lead completes its plan, experts score,
the province replaces a panel member, reports are accepted, time passes, ...).

After every step it checks:
- the state is one the lifecycle declares;
- a refusal carries exactly the blockers the explanation lists, and `allowed` is what the views mark allowed;
- liveness: from the current state, with the documented remedies, a *decision* can still be reached by actions that
  are not escape hatches (withdraw, revoke, exit): an application is approved, rejected or not recommended; a center
  is recognized, or revoked by a verdict; a report is accepted; a change request is decided. Removing a transition a
  state needs to leave (recognize, re-review, conclude, ...) or a remedy's guard path makes this fail.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from app.domain import annual_reports, applications, centers, change_requests
from app.domain.calls import CallWindow
from app.domain.deadlines import add_months, add_years, annual_report_due_on, first_report_year
from app.domain.errors import ActionBlocked
from app.domain.guards import Lifecycle
from app.domain.lifecycles import APPLICATION as APPLICATION_MACHINE
from app.domain.lifecycles import CENTER_LIVE_STATES
from app.domain.principal import Principal
from app.domain.publicity import NoticeFact
from app.domain.review import ExpertProfile

ROLES = ("province", "supervisor", "applicant", "expert", "third_party", "observer")
AGENCY = "00000000-0000-0000-0000-0000000000a9"
ACTORS = {role: Principal(role, role) for role in ROLES} | {
    "third_party": Principal("agency", "third_party", org_id=uuid.UUID(AGENCY))
}
ESCAPES = frozenset({"withdraw", "revoke", "exit", "request_exit", "decline_exit", "withdraw_exit"})
START = date(2026, 3, 2)


@dataclass(frozen=True)
class Model:
    """One lifecycle's abstract world: its facts, and what the model keeps beside them (never read by guards)."""

    facts: Any
    side: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.side).get(key, default)

    def with_side(self, **changes: Any) -> Model:
        return replace(self, side=tuple(sorted({**dict(self.side), **changes}.items())))


Effect = Callable[[Model, str], Iterator[Model]]  # all outcomes of an allowed action taken by a role
Remedy = Callable[[Model], Model | None]  # a documented way to change the facts, or None where it does not apply


@dataclass(frozen=True)
class Spec:
    lifecycle: Lifecycle[Any]
    effect: Callable[[Model, str, str], Iterator[Model]]
    remedies: tuple[Remedy, ...]
    decided: Callable[[Model], bool]
    # An escape hatch that is the documented way out of a state (docs/lifecycles.md), counted as a decision there.
    allowed_escapes: Callable[[Model], frozenset[str]] = lambda m: frozenset()
    history: list[str] = field(default_factory=list)


def _status(m: Model, status: str, **facts: Any) -> Model:
    return replace(m, facts=replace(m.facts, status=status, **facts))


# 公示 (issue 16 §3): none yet, running, ended with an open objection, ended clean.
NOTICES = (
    (),
    (NoticeFact("n1", START + timedelta(days=3)),),
    (NoticeFact("n1", START - timedelta(days=1), open_objections=1),),
    (NoticeFact("n1", START - timedelta(days=1)),),
)


def notice_runs_its_course(status: str) -> Remedy:
    """The province publishes the list (拟支持名单 / 拟认定名单) of subjects in `status`, the notice ends and every
    objection is resolved; an upheld one stays upheld (the province then rejects)."""

    def remedy(m: Model) -> Model | None:
        f = m.facts
        if f.status != status:
            return None
        upheld = sum(n.upheld_objections for n in f.publicity)
        ended = (NoticeFact("n2", f.today - timedelta(days=1), upheld_objections=upheld),)
        return None if f.publicity == ended else replace(m, facts=replace(f, publicity=ended))

    return remedy


# --- applications --------------------------------------------------------------------------------------------------

VALID_PANEL = applications.PanelFacts(
    members=tuple(
        ExpertProfile(f"e{i}", f"专家{i}", ("technical", "financial", "management")[i % 3], None, frozenset())
        for i in range(5)
    ),
    involved_org_ids=("lead",),
    min_size=5,
    categories=("technical", "financial", "management"),
)
COMPLETE_PLAN = dict.fromkeys(("background", "foundation", "goals_and_tasks", "organization"), "……") | {
    "governance": "……",
    "funding": "……",
    "schedule": "……",
}


def application_effect(m: Model, action: str, role: str) -> Iterator[Model]:
    f: applications.ApplicationFacts = m.facts
    if action == "submit":
        # Completed material after a formal review goes back to the province; a new submission is reviewed afresh.
        target = "recommended" if f.fast_track or f.status == "incomplete" else "submitted"
        yield _status(m, target, resubmit_by=None, formal_review_complete=False)
    elif action == "withdraw":
        yield _status(m, "withdrawn")
    elif action == "return":
        yield _status(m, "returned", resubmit_by=None)
        yield _status(m, "returned", resubmit_by=f.today + timedelta(days=applications.MAX_RESUBMIT_DAYS))
    elif action == "reject":
        yield _status(m, "not_recommended" if f.status == "submitted" else "rejected")
    elif action == "recommend":
        yield _status(m, "recommended")
    elif action == "open_review":
        again = f.status == "reviewed"
        yield _status(
            m,
            "under_review",
            review_round=f.review_round + (1 if again else 0),
            revised_since_review=False,
            scores_missing=5,
            review_passed=None,
        )
    elif action == "conclude_review":
        for passed in (True, False):
            yield _status(m, "reviewed", review_passed=passed, revised_since_review=False)
    elif action == "request_revision":
        yield _status(m, "revising")
    elif action == "resubmit":
        yield _status(m, "reviewed", revised_since_review=True)
    elif action == "approve":
        yield _status(m, "approved")
    else:  # pragma: no cover - a new action needs its effect here
        raise AssertionError(f"no effect modelled for {action}")


def application_remedies() -> tuple[Remedy, ...]:
    def lead_completes_and_corrects(m: Model) -> Model | None:
        f = m.facts
        if f.status not in applications.EDITABLE_STATUSES:
            return None
        return replace(m, facts=replace(f, plan=COMPLETE_PLAN, failing_checks=()))

    def province_forms_or_replaces_panel(m: Model) -> Model | None:
        f = m.facts
        if f.status not in applications.PANEL_EDITABLE:
            return None
        # During review only members who have not scored are replaced; the new ones then score.
        return replace(m, facts=replace(f, panel=VALID_PANEL))

    def experts_score(m: Model) -> Model | None:
        f = m.facts
        return replace(m, facts=replace(f, scores_missing=0)) if f.status == "under_review" else None

    def province_does_the_formal_review(m: Model) -> Model | None:
        # POST …/formal-review (app/services/formal_reviews.py): complete when nothing is missing, otherwise the
        # internal return_incomplete sends the application back to its lead.
        f = m.facts
        if f.status != "recommended" or f.formal_review_complete:
            return None
        if f.plan == COMPLETE_PLAN:
            return replace(m, facts=replace(f, formal_review_complete=True))
        return _status(m, "incomplete")

    def time_passes_within_the_call(m: Model) -> Model | None:
        f = m.facts
        if f.call is None or f.today >= f.call.opens_on:
            return None
        return replace(m, facts=replace(f, today=f.call.opens_on))

    return (
        lead_completes_and_corrects,
        province_forms_or_replaces_panel,
        experts_score,
        province_does_the_formal_review,
        time_passes_within_the_call,
        notice_runs_its_course("reviewed"),
    )


def application_escapes(m: Model) -> frozenset[str]:
    # A draft or returned application whose call has closed (and no resubmission deadline was granted) can only be
    # withdrawn (docs/lifecycles.md): the lead applies again in the next call.
    f = m.facts
    if f.status in ("draft", "returned") and not f.fast_track:
        open_now = f.call is not None and f.call.opens_on <= f.today <= f.call.closes_on
        granted = f.resubmit_by is not None and f.today <= f.resubmit_by
        if not (open_now or granted):
            return frozenset({"withdraw"})
    return frozenset()


APPLICATION = Spec(
    lifecycle=applications.LIFECYCLE,
    effect=application_effect,
    remedies=application_remedies(),
    decided=lambda m: m.facts.status in ("approved", "rejected", "not_recommended", "withdrawn"),
    allowed_escapes=application_escapes,
)


def application_start(draw: st.DrawFn) -> Model:
    fast = draw(st.booleans())
    status = draw(st.sampled_from([s for s in APPLICATION_MACHINE.states if s not in APPLICATION_MACHINE.terminal]))
    reviewed = status in ("reviewed", "revising")
    opens = START + timedelta(days=draw(st.integers(-60, 30)))
    call = None if fast else CallWindow("published", opens, opens + timedelta(days=draw(st.integers(0, 90))))
    facts = applications.ApplicationFacts(
        status=status,
        today=START,
        fast_track=fast,
        call=call,
        plan=draw(st.sampled_from([{}, COMPLETE_PLAN])),
        failing_checks=draw(st.sampled_from([(), ({"rule": "rd_staff_ratio", "message_zh": "x", "message_en": "x"},)])),
        lead_has_supervisor=draw(st.booleans()),
        panel=draw(st.sampled_from([None, VALID_PANEL])),
        scores_missing=draw(st.sampled_from([0, 5])) if status == "under_review" else 0,
        review_passed=draw(st.booleans()) if reviewed else None,
        review_round=draw(st.sampled_from([1, 2])) if reviewed else 1,
        revised_since_review=status == "reviewed" and draw(st.booleans()),
        # An upheld objection keeps an application from approval: the province rejects it instead.
        publicity=draw(st.sampled_from([*NOTICES, (NoticeFact("n1", START - timedelta(days=1), upheld_objections=1),)]))
        if status == "reviewed"
        else (),
        formal_review_complete=status == "recommended" and draw(st.booleans()),
    )
    return Model(facts)


# --- centers ------------------------------------------------------------------------------------------------------

INDEPENDENT = {"status": "independent", "kind": "enterprise", "credit_code": "91350100M000100Y43"}


def center_effect(m: Model, action: str, role: str) -> Iterator[Model]:
    f: centers.CenterFacts = m.facts
    if action == "sign_task_book":
        yield _status(m, "under_construction", construction_ends_on=add_years(f.today, 3) - timedelta(days=1))
    elif action == "request_extension":
        yield replace(m, facts=replace(f, extension_requested_on=f.today))
    elif action == "extend":
        assert f.construction_ends_on is not None
        end = add_months(f.construction_ends_on, 6)
        yield replace(m, facts=replace(f, construction_ends_on=end, extension_months=6, extension_requested_on=None))
    elif action == "decline_extension":
        yield replace(m, facts=replace(f, extension_requested_on=None))
    elif action == "request_acceptance":
        yield _status(m, "acceptance_pending", acceptance_requested_on=f.today)
    elif action == "record_acceptance":
        yield _status(m, "accepted", rectifying_kind=None)
        if m.get("acceptance_failures", 0) == 0:
            yield _status(m, "rectifying", rectifying_kind="acceptance").with_side(acceptance_failures=1)
        else:
            yield _status(m, "revoked").with_side(decided=True)
    elif action == "recognize":
        yield _status(m, "recognized")
    elif action == "record_rectification_review":
        yield _status(m, "recognized", rectifying_kind=None)
        yield _status(m, "revoked", rectifying_kind=None).with_side(decided=True)
    elif action == "revoke":
        yield _status(m, "revoked")
    elif action == "request_exit":
        yield replace(m, facts=replace(f, exit_requested_on=f.today))
    elif action in ("decline_exit", "withdraw_exit"):
        yield replace(m, facts=replace(f, exit_requested_on=None))
    elif action == "exit":
        yield _status(m, "exited")
    else:  # pragma: no cover - a new action needs its effect here
        raise AssertionError(f"no effect modelled for {action}")


def center_remedies() -> tuple[Remedy, ...]:
    def province_drafts_the_task_book(m: Model) -> Model | None:
        f = m.facts
        return replace(m, facts=replace(f, has_task_book=True)) if f.status == "approved" else None

    def reports_are_written_and_accepted(m: Model) -> Model | None:
        f = m.facts
        due = {y for y in range(first_report_year(f.approved_on), f.today.year) if annual_report_due_on(y) <= f.today}
        return replace(m, facts=replace(f, accepted_report_years=frozenset(due)))

    def lead_sets_up_the_legal_entity(m: Model) -> Model | None:
        f = m.facts
        if f.status in centers.LEGAL_ENTITY_FROZEN_STATES or f.status in ("revoked", "exited"):
            return None
        return replace(m, facts=replace(f, legal_entity=INDEPENDENT))

    def time_passes_to_the_end_of_construction(m: Model) -> Model | None:
        f = m.facts
        if f.construction_ends_on is None or f.today >= f.construction_ends_on:
            return None
        return replace(m, facts=replace(f, today=f.construction_ends_on))

    def an_assessment_cycle_grades_it(m: Model) -> Model | None:
        # record_assessment is applied by finalizing a cycle (app.services.assessments): a rectifying center graded
        # qualified or better recovers.
        f = m.facts
        if f.status == "rectifying" and f.rectifying_kind == "assessment":
            return _status(m, "recognized", rectifying_kind=None)
        return None

    return (
        province_drafts_the_task_book,
        reports_are_written_and_accepted,
        lead_sets_up_the_legal_entity,
        time_passes_to_the_end_of_construction,
        an_assessment_cycle_grades_it,
        notice_runs_its_course("accepted"),
    )


CENTER = Spec(
    lifecycle=centers.LIFECYCLE,
    effect=center_effect,
    remedies=center_remedies(),
    decided=lambda m: m.facts.status == "recognized" or bool(m.get("decided")),
)


def center_start(draw: st.DrawFn) -> Model:
    # Every live state, so states deep in the lifecycle are checked as often as the first ones.
    status = draw(st.sampled_from(sorted(CENTER_LIVE_STATES)))
    approved_on = START - timedelta(days=draw(st.integers(0, 1200)))
    building = status != "approved"
    facts = centers.CenterFacts(
        status=status,
        today=START,
        approved_on=approved_on,
        has_task_book=building or draw(st.booleans()),
        construction_ends_on=add_years(approved_on, 3) if building else None,
        accepted_report_years=frozenset(),
        legal_entity=draw(st.sampled_from([{"status": "none"}, INDEPENDENT])),
        rectifying_kind=draw(st.sampled_from(["acceptance", "assessment"])) if status == "rectifying" else None,
        acceptance_requested_on=START if status in ("acceptance_pending", "accepted") else None,
        acceptance_agency_org_id=draw(st.sampled_from([None, AGENCY])),
        assessment_agency_org_ids=frozenset(),
        publicity=draw(st.sampled_from(NOTICES)) if status == "accepted" else (),
    )
    return Model(facts)


# --- annual reports and change requests ------------------------------------------------------------------------


def report_effect(m: Model, action: str, role: str) -> Iterator[Model]:
    target = {"submit": "submitted", "endorse": "endorsed", "accept": "accepted", "return": "returned"}[action]
    yield _status(m, target)


REPORT = Spec(
    lifecycle=annual_reports.LIFECYCLE,
    effect=report_effect,
    remedies=(),
    decided=lambda m: m.facts.status == "accepted",
)


def change_effect(m: Model, action: str, role: str) -> Iterator[Model]:
    yield _status(m, {"endorse": "endorsed", "approve": "approved", "reject": "rejected"}[action])


# A new lead that fails the re-check is rejected (and the lead may file another change): no remedy is needed.
CHANGE = Spec(
    lifecycle=change_requests.LIFECYCLE,
    effect=change_effect,
    remedies=(),
    decided=lambda m: m.facts.status in ("approved", "rejected"),
)


# --- the search ------------------------------------------------------------------------------------------------


def _freeze(m: Model) -> str:
    # Facts hold dicts (a plan, failing checks); their repr is a stable key for the search's visited set.
    return repr(m)


def successors(spec: Spec, m: Model, *, escapes_allowed: frozenset[str]) -> Iterator[Model]:
    for remedy in spec.remedies:
        changed = remedy(m)
        if changed is not None:
            yield changed
    for role in ROLES:
        for action in spec.lifecycle.allowed(ACTORS[role], m.facts):
            if action in ESCAPES and action not in escapes_allowed:
                continue
            yield from spec.effect(m, action, role)


def decision_reachable(spec: Spec, start: Model, limit: int = 400) -> bool:
    """Breadth-first over allowed non-escape actions and documented remedies: can a decision be reached?"""
    seen = {_freeze(start)}
    queue = deque([start])
    while queue and len(seen) < limit:
        m = queue.popleft()
        if spec.decided(m):
            return True
        escapes = spec.allowed_escapes(m)
        if escapes & set().union(*(set(spec.lifecycle.allowed(ACTORS[r], m.facts)) for r in ROLES)):
            return True
        for nxt in successors(spec, m, escapes_allowed=frozenset()):
            key = _freeze(nxt)
            if key not in seen:
                seen.add(key)
                queue.append(nxt)
    return False


# --- the state machine -----------------------------------------------------------------------------------------

STARTS: dict[str, tuple[Spec, Callable[[st.DrawFn], Model]]] = {
    "application": (APPLICATION, application_start),
    "center": (CENTER, center_start),
    "annual_report": (
        REPORT,
        lambda draw: Model(annual_reports.ReportFacts(status="draft", lead_has_supervisor=draw(st.booleans()))),
    ),
    "change_request": (
        CHANGE,
        lambda draw: Model(
            change_requests.ChangeFacts(
                status="filed",
                kind=draw(st.sampled_from(["name", "lead_org", "director"])),
                center_status=draw(st.sampled_from(["under_construction", "recognized", "revoked"])),
                lead_has_supervisor=draw(st.booleans()),
                new_lead_failing_checks=draw(
                    st.sampled_from([(), ({"rule": "leading_enterprise", "message_zh": "x", "message_en": "x"},)])
                ),
            )
        ),
    ),
}


class LifecycleMachine(RuleBasedStateMachine):
    name = "application"

    def __init__(self) -> None:
        super().__init__()
        self.spec: Spec | None = None
        self.model: Model | None = None
        self.transitions = 0

    @rule(data=st.data())
    def start_or_act(self, data: st.DataObject) -> None:
        spec, start = STARTS[self.name]
        if self.model is None:
            self.spec, self.model = spec, data.draw(st.composite(lambda draw: start(draw))())
            return
        assert self.spec is not None
        role = data.draw(st.sampled_from(ROLES))
        action = data.draw(st.sampled_from(self.spec.lifecycle.actions(self.model.facts)))
        actor = ACTORS[role]
        listed = next(v for v in self.spec.lifecycle.views(actor, self.model.facts) if v.action == action)
        if not listed.allowed:
            with pytest.raises(ActionBlocked) as refused:
                self.spec.lifecycle.check(action, actor, self.model.facts)
            assert list(refused.value.blockers) == [b.as_dict() for b in listed.blocked_by]
            assert list(refused.value.allowed) == self.spec.lifecycle.allowed(actor, self.model.facts)
            return
        self.spec.lifecycle.check(action, actor, self.model.facts)
        outcomes = list(self.spec.effect(self.model, action, role))
        self.model = data.draw(st.sampled_from(outcomes))
        self.transitions += 1

    @rule(data=st.data())
    def people_change_the_facts(self, data: st.DataObject) -> None:
        if self.model is None or self.spec is None or not self.spec.remedies:
            return
        remedy = data.draw(st.sampled_from(self.spec.remedies))
        self.model = remedy(self.model) or self.model

    @rule(days=st.integers(1, 400))
    def time_passes(self, days: int) -> None:
        if self.model is not None and hasattr(self.model.facts, "today"):
            later = self.model.facts.today + timedelta(days=days)
            self.model = replace(self.model, facts=replace(self.model.facts, today=later))

    @invariant()
    def the_state_is_declared(self) -> None:
        if self.model is not None and self.spec is not None:
            assert self.model.facts.status in self.spec.lifecycle.machine_of(self.model.facts).states

    @invariant()
    def a_decision_stays_reachable(self) -> None:
        if self.model is None or self.spec is None:
            return
        machine = self.spec.lifecycle.machine_of(self.model.facts)
        if self.model.facts.status in machine.terminal:
            return
        assert decision_reachable(self.spec, self.model), f"jammed in {self.model.facts.status}: {self.model}"


@pytest.mark.parametrize("name", sorted(STARTS))
def test_every_lifecycle_stays_live_and_explains_what_it_refuses(name: str) -> None:
    machine = type(f"{name}_machine", (LifecycleMachine,), {"name": name})
    run = settings(max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck))(
        machine
    ).TestCase
    run().runTest()


# --- the search itself bites ------------------------------------------------------------------------------------


def _without(spec: Spec, action: str, source: str) -> Spec:
    """The spec with one transition row removed from its table, to show the search notices."""
    from app.domain.lifecycles import StateMachine

    def machine_of(facts: Any) -> StateMachine:
        machine = spec.lifecycle.machine_of(facts)
        rows = tuple(t for t in machine.transitions if not (t.action == action and t.source == source))
        return StateMachine(machine.name, machine.states, machine.initial, machine.terminal, rows)

    return replace(spec, lifecycle=replace(spec.lifecycle, machine_of=machine_of))


@pytest.mark.parametrize(
    ("spec", "start", "action", "source"),
    [
        (CENTER, "accepted", "recognize", "accepted"),
        (CENTER, "acceptance_pending", "record_acceptance", "acceptance_pending"),
        (CENTER, "approved", "sign_task_book", "approved"),
        (CENTER, "rectifying", "request_acceptance", "rectifying"),
        (APPLICATION, "under_review", "conclude_review", "under_review"),
        (APPLICATION, "recommended", "open_review", "recommended"),
        (APPLICATION, "incomplete", "submit", "incomplete"),
        (REPORT, "endorsed", "accept", "endorsed"),
    ],
)
def test_removing_a_transition_a_state_needs_to_leave_jams_it(spec: Spec, start: str, action: str, source: str) -> None:
    if spec is CENTER:
        facts: Any = centers.CenterFacts(
            status=start,
            rectifying_kind="acceptance" if start == "rectifying" else None,
            today=date(2027, 1, 5),
            approved_on=date(2023, 8, 11),
            has_task_book=True,
            construction_ends_on=date(2026, 11, 30) if start != "approved" else None,
            legal_entity=INDEPENDENT,
        )
    elif spec is APPLICATION:
        facts = applications.ApplicationFacts(
            status=start, today=START, panel=VALID_PANEL, plan=COMPLETE_PLAN, formal_review_complete=True
        )
    else:
        facts = annual_reports.ReportFacts(status=start, lead_has_supervisor=True)
    assert decision_reachable(spec, Model(facts))
    assert not decision_reachable(_without(spec, action, source), Model(facts))
