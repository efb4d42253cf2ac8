"""Action introspection: every action of a lifecycle, whether this caller may take it now, and if not, why.

`allowed_actions` on applications, centers and annual reports is computed here too, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AnnualReportRecord, ApplicationRecord, CenterRecord
from app.db.repositories import applications as applications_repo
from app.db.repositories import calls as calls_repo
from app.domain import centers as center_rules
from app.domain.errors import ConflictOfInterest, RuleViolation
from app.domain.guards import Blocker, state_and_role_blockers
from app.domain.lifecycles import ANNUAL_REPORT, CENTER, StateMachine
from app.domain.principal import Principal
from app.services import applications, review
from app.services.calls import is_open_on
from app.services.centers import INTERNAL_ACTIONS, accepted_report_years
from app.services.clock import Clock


@dataclass(frozen=True)
class ActionView:
    action: str
    allowed: bool
    blocked_by: list[Blocker] = field(default_factory=list)


def _views(
    machine: StateMachine, state: str, principal: Principal, guards: dict[str, list[Blocker]]
) -> list[ActionView]:
    out = []
    for action in machine.actions():
        if action in INTERNAL_ACTIONS and machine is CENTER:
            continue
        blockers = state_and_role_blockers(machine, state, action, principal.role)
        if principal.role == "observer":
            blockers = [*blockers, Blocker("read-only", "只读用户不能执行操作", "Observers read only.")]
        if not blockers:
            blockers = guards.get(action, [])
        out.append(ActionView(action, not blockers, blockers))
    return out


def _open_actions(machine: StateMachine, state: str, principal: Principal) -> list[str]:
    """Actions that pass the table (state and role); only their guards need evaluating."""
    if principal.role == "observer":
        return []
    return machine.allowed_actions(state, principal.role)


# --- applications -------------------------------------------------------------------------------------------------


async def _application_guards(
    session: AsyncSession, record: ApplicationRecord, action: str, clock: Clock
) -> list[Blocker]:
    blockers: list[Blocker] = []
    if action in ("submit", "resubmit"):
        if action == "submit" and not record.fast_track:
            call = await calls_repo.get(session, record.call_id) if record.call_id else None
            if call is None or not is_open_on(call, clock.today()):
                blockers.append(Blocker("call-not-open", "申报通知未开放或已截止", "The call is not open today."))
        missing = applications.missing_plan_sections(record.plan)
        if missing:
            blockers.append(
                Blocker(
                    "plan-incomplete",
                    "建设方案七个部分均须填写",
                    "All seven plan sections are required.",
                    {"missing_sections": missing},
                )
            )
        # Resubmission is judged again too (the lead may have changed the facts while revising).
        verdict = await applications.judge(session, record, clock.today())
        for check in verdict.failing:
            blockers.append(
                Blocker("eligibility-rule-failed", check.message_zh, check.message_en, {"rule": check.rule})
            )
    elif action == "open_review":
        try:
            await review.guard_open(session, record)
        except RuleViolation as exc:
            blockers.append(Blocker(exc.code, exc.message_zh, exc.message_en, exc.data))
        except ConflictOfInterest as exc:
            blockers.append(
                Blocker(
                    "conflict-of-interest",
                    f"专家 {exc.expert_id} 须回避",
                    f"Expert {exc.expert_id} must recuse ({exc.cause}).",
                    {"expert_id": exc.expert_id, "org_id": exc.org_id},
                )
            )
    elif action == "conclude_review":
        members = await applications_repo.panel(session, record.id)
        scored = {s.expert_id for s in await applications_repo.scores(session, record.id)}
        missing_count = sum(1 for m in members if m.expert_id not in scored)
        if missing_count:
            blockers.append(
                Blocker(
                    "scores-missing",
                    f"尚有 {missing_count} 位专家未评分",
                    f"{missing_count} panel member(s) have not scored yet.",
                    {"missing_count": missing_count},
                )
            )
    elif action == "approve" and not record.review_passed:
        blockers.append(Blocker("review-not-passed", "评审未通过，不能批准建设", "The review did not pass."))
    return blockers


async def application_actions(
    session: AsyncSession, principal: Principal, record: ApplicationRecord, clock: Clock
) -> list[ActionView]:
    machine = applications.machine_for(record)
    guards = {
        action: await _application_guards(session, record, action, clock)
        for action in _open_actions(machine, record.status, principal)
    }
    return _views(machine, record.status, principal, guards)


async def application_allowed(
    session: AsyncSession, principal: Principal, record: ApplicationRecord, clock: Clock
) -> list[str]:
    """The actions whose table row and guards both pass: what `application_actions` marks allowed, computed without
    building the explanations of the blocked ones."""
    machine = applications.machine_for(record)
    return [
        action
        for action in _open_actions(machine, record.status, principal)
        if not await _application_guards(session, record, action, clock)
    ]


# --- centers ------------------------------------------------------------------------------------------------------


async def _center_guards(session: AsyncSession, record: CenterRecord, action: str, clock: Clock) -> list[Blocker]:
    today = clock.today()
    if action == "sign_task_book" and not record.task_book:
        return [center_rules.TASK_BOOK_MISSING]
    if action == "extend":
        return center_rules.extension_blockers(
            today=today,
            construction_ends_on=record.construction_ends_on,
            already_extended=record.extension_months is not None,
            months=1,
        )
    if action == "request_acceptance":
        if record.status == "rectifying" and record.rectifying_kind != "acceptance":
            return [
                Blocker(
                    "rectifying-after-assessment",
                    "考核整改期间不能申请验收",
                    "A center rectifying after an assessment does not request acceptance.",
                )
            ]
        if record.construction_ends_on is None:
            return [Blocker("construction-not-started", "尚未开始建设", "Construction has not started.")]
        return center_rules.acceptance_blockers(
            today=today,
            construction_ends_on=record.construction_ends_on,
            approved_on=record.approved_on,
            accepted_report_years=await accepted_report_years(session, record.id),
            legal_entity=record.legal_entity,
            after_failed_acceptance=record.status == "rectifying",
        )
    if action == "record_rectification_review" and record.rectifying_kind != "assessment":
        return [Blocker("not-rectifying-after-assessment", "仅适用于考核整改", "Only after an assessment.")]
    if action in ("request_exit", "exit"):
        return center_rules.exit_blockers(action, exit_requested=record.exit_requested_on is not None)
    return []


async def center_actions(
    session: AsyncSession, principal: Principal, record: CenterRecord, clock: Clock
) -> list[ActionView]:
    guards = {
        action: await _center_guards(session, record, action, clock)
        for action in _open_actions(CENTER, record.status, principal)
    }
    return _views(CENTER, record.status, principal, guards)


async def center_allowed(session: AsyncSession, principal: Principal, record: CenterRecord, clock: Clock) -> list[str]:
    """As `center_actions` marks allowed, without building the explanations of the blocked ones."""
    return [
        action
        for action in _open_actions(CENTER, record.status, principal)
        if action not in INTERNAL_ACTIONS and not await _center_guards(session, record, action, clock)
    ]


# --- annual reports -----------------------------------------------------------------------------------------------


def report_actions(principal: Principal, record: AnnualReportRecord) -> list[ActionView]:
    return _views(ANNUAL_REPORT, record.status, principal, {})


def report_allowed(principal: Principal, record: AnnualReportRecord) -> list[str]:
    return _open_actions(ANNUAL_REPORT, record.status, principal)
