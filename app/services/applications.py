"""Applications (申报): drafting, eligibility, submission and the recommendation and review lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, CallRecord, OrganizationRecord, TransitionRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import applications as repo
from app.db.repositories import calls as calls_repo
from app.db.repositories import organizations as orgs_repo
from app.db.repositories.applications import Reach
from app.domain import eligibility as rules
from app.domain.errors import Ineligible, InvalidTransition, RuleViolation
from app.domain.lifecycles import APPLICATION, APPLICATION_FAST_TRACK, StateMachine
from app.domain.principal import Principal
from app.domain.reference import PLAN_SECTIONS, codes
from app.domain.rulesets import get_rule_set
from app.services import audit, lifecycle
from app.services.calls import is_open_on
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound

EDITABLE_STATUSES = ("draft", "returned", "revising")
EXPERT_VISIBLE_STATUSES = ("under_review",)
REASON_REQUIRED = frozenset({"return", "reject", "request_revision"})


def machine_for(record: ApplicationRecord) -> StateMachine:
    return APPLICATION_FAST_TRACK if record.fast_track else APPLICATION


def reach_of(principal: Principal) -> Reach:
    """domain.md §1: who may read which applications."""
    if principal.sees_everything_public:
        return Reach(everything=True)
    if principal.role == "applicant":
        return Reach(lead_org_id=principal.org_id)
    if principal.role == "supervisor":
        return Reach(supervised_by=principal.org_id)
    if principal.role == "expert":
        return Reach(panel_expert_id=principal.expert_id, panel_statuses=EXPERT_VISIBLE_STATUSES)
    return Reach()  # third parties never see applications


def allowed_actions(principal: Principal, record: ApplicationRecord) -> list[str]:
    actions = machine_for(record).allowed_actions(record.status, principal.role)
    if principal.role == "observer":
        return []
    return actions


async def load(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, for_update: bool = False
) -> ApplicationRecord:
    record = await repo.get(session, application_id, reach_of(principal), for_update=for_update)
    if record is None:
        raise NotFound("application", str(application_id))
    return record


# --- create / read / update -------------------------------------------------------------------------------------


async def _check_orgs(session: AsyncSession, lead_org_id: uuid.UUID, participants: list[dict[str, Any]]) -> None:
    lead = await orgs_repo.get(session, lead_org_id)
    if lead is None:
        raise InvalidReference(loc=("body", "lead_org_id"), msg="no such organization")
    seen: set[str] = set()
    found = await orgs_repo.get_many(session, [uuid.UUID(str(p["org_id"])) for p in participants])
    for index, participant in enumerate(participants):
        org_id = str(participant["org_id"])
        if org_id == str(lead_org_id):
            raise InvalidReference(
                loc=("body", "participants", index, "org_id"),
                msg="the lead organization is not repeated among the participants",
            )
        if org_id in seen:
            raise InvalidReference(loc=("body", "participants", index, "org_id"), msg="duplicate participant")
        if uuid.UUID(org_id) not in found:
            raise InvalidReference(loc=("body", "participants", index, "org_id"), msg="no such organization")
        seen.add(org_id)


def _jsonable_participants(participants: list[Any]) -> list[dict[str, Any]]:
    return [{"org_id": str(p["org_id"]), "role": p.get("role", "参建单位")} for p in participants]


async def create_application(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any], *, current_rule_set: str
) -> ApplicationRecord:
    values = dict(data)
    if values.get("lead_org_id") is not None:
        values["lead_org_id"] = uuid.UUID(str(values["lead_org_id"]))
    if values.get("call_id") is not None:
        values["call_id"] = uuid.UUID(str(values["call_id"]))
    if values.get("fast_track"):
        if principal.role != "province":
            raise InvalidReference(
                loc=("body", "fast_track"), msg="only the province creates fast-track (一事一议) applications"
            )
        if not values.get("fast_track_basis"):
            raise InvalidReference(
                loc=("body", "fast_track_basis"),
                msg="a fast-track (一事一议) application records its basis",
                type="missing",
            )
        if values.get("call_id") is not None:
            raise InvalidReference(loc=("body", "call_id"), msg="a fast-track application has no call")
        if values.get("lead_org_id") is None:
            raise InvalidReference(
                loc=("body", "lead_org_id"), msg="required for a fast-track application", type="missing"
            )
        rule_set = current_rule_set
    else:
        if principal.role != "applicant":
            raise InvalidReference(
                loc=("body", "fast_track"),
                msg="the province creates only fast-track applications; leads apply to calls",
            )
        if values.get("call_id") is None:
            raise InvalidReference(
                loc=("body", "call_id"), msg="call_id is required unless fast_track is true", type="missing"
            )
        if values.get("fast_track_basis") is not None:
            raise InvalidReference(loc=("body", "fast_track_basis"), msg="only a fast-track application has a basis")
        # Compared as UUIDs: the body arrives as JSON text, the token's org_id as a UUID.
        if values.get("lead_org_id") not in (None, principal.org_id):
            raise InvalidReference(
                loc=("body", "lead_org_id"), msg="an applicant applies only for its own organization"
            )
        values["lead_org_id"] = principal.org_id
        call = await calls_repo.get(session, values["call_id"])
        if call is None or call.status == "draft":
            raise InvalidReference(loc=("body", "call_id"), msg="no such published call")
        if call.status != "published":
            raise RuleViolation("call-closed", "申报通知已关闭", "The call is closed.", {"call_id": str(call.id)})
        rule_set = call.rule_set
    values["participants"] = _jsonable_participants(values.get("participants") or [])
    await _check_orgs(session, values["lead_org_id"], values["participants"])
    record = ApplicationRecord(
        id=uuid.uuid4(), status=APPLICATION.initial, rule_set=rule_set, created_by=principal.sub, **values
    )
    await repo.add(session, record)
    await audit.record_transition(
        session,
        principal,
        subject_type="application",
        subject_id=record.id,
        action="create",
        from_status=None,
        to_status=record.status,
        data={"fast_track": record.fast_track},
    )
    return record


async def list_applications(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    status: str | None = None,
    field: str | None = None,
    call_id: uuid.UUID | None = None,
    lead_org_id: uuid.UUID | None = None,
    formation_mode: str | None = None,
) -> PageResult[ApplicationRecord]:
    return await repo.list_page(
        session,
        page,
        reach_of(principal),
        status=status,
        field=field,
        call_id=call_id,
        lead_org_id=lead_org_id,
        formation_mode=formation_mode,
    )


async def update_application(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> ApplicationRecord:
    record = await load(session, principal, application_id, for_update=True)
    editor = "province" if record.fast_track else "applicant"
    if principal.role != editor or record.status not in EDITABLE_STATUSES:
        raise InvalidTransition(current=record.status, action="update", allowed=allowed_actions(principal, record))
    lifecycle.check_version(expected_version, record.version)
    values = dict(changes)
    if "fast_track_basis" in values and not record.fast_track:
        raise InvalidReference(loc=("body", "fast_track_basis"), msg="only a fast-track application has a basis")
    if "participants" in values:
        values["participants"] = _jsonable_participants(values["participants"])
        await _check_orgs(session, record.lead_org_id, values["participants"])
    for key, value in values.items():
        setattr(record, key, value)
    await session.flush()
    return record


# --- eligibility ------------------------------------------------------------------------------------------------


def _profile(org: OrganizationRecord) -> rules.OrgProfile:
    return rules.OrgProfile(
        org_id=str(org.id),
        kind=org.kind,
        is_leading_enterprise=org.is_leading_enterprise,
        registered_on=org.registered_on,
    )


def facts_from(data: Mapping[str, Any]) -> rules.Facts:
    return rules.Facts(
        major_projects=tuple(
            rules.MajorProject(p["name"], p["level"], int(p["year"])) for p in data.get("major_projects", [])
        ),
        platforms=tuple(rules.Platform(p["name"], p["level"], p["field"]) for p in data.get("platforms", [])),
        ip_results_count=int(data.get("ip_results_count", 0)),
        invention_patents=int(data.get("invention_patents", 0)),
        pct_patents=int(data.get("pct_patents", 0)),
        cooperation_mechanism=str(data.get("cooperation_mechanism", "")),
        staff_total=int(data.get("staff_total", 0)),
        rd_staff=int(data.get("rd_staff", 0)),
        high_level_talents=tuple(rules.Talent(t["name"], t["level"]) for t in data.get("high_level_talents", [])),
        high_level_teams=tuple(rules.Team(t["name"], t["leader"]) for t in data.get("high_level_teams", [])),
        rd_spend_wan=tuple(Decimal(str(v)) for v in data.get("rd_spend_wan", [])),
    )


async def judge(session: AsyncSession, record: ApplicationRecord, judged_on: date) -> rules.Verdict:
    """Evaluate the application against its rule set as of `judged_on`."""
    lead = await orgs_repo.get(session, record.lead_org_id)
    assert lead is not None  # a foreign key guarantees it
    participant_ids = [uuid.UUID(p["org_id"]) for p in record.participants]
    found = await orgs_repo.get_many(session, participant_ids)
    call: CallRecord | None = await calls_repo.get(session, record.call_id) if record.call_id else None
    others = 0
    if call is not None:
        others = await repo.count_other_live_in_call(
            session, lead_org_id=record.lead_org_id, call_id=call.id, except_id=record.id
        )
    revocations = await repo.for_cause_revocations(session, record.lead_org_id)
    inp = rules.EligibilityInput(
        field=record.field,
        formation_mode=record.formation_mode,
        lead=_profile(lead),
        participants=tuple(_profile(found[i]) for i in participant_ids if i in found),
        facts=facts_from(record.facts),
        judged_on=judged_on,
        call_fields=tuple(call.fields) if call is not None else None,
        call_opens_on=call.opens_on if call is not None else None,
        other_live_applications_in_call=others,
        for_cause_revocations_on=tuple(c.revoked_on for c in revocations if c.revoked_on is not None),
    )
    return rules.evaluate(get_rule_set(record.rule_set), inp)


@dataclass(frozen=True)
class EligibilityView:
    eligible: bool
    rule_set: str
    judged_on: date
    recorded: bool
    checks: list[dict[str, str]]


async def eligibility(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, clock: Clock
) -> EligibilityView:
    """The recorded verdict once submitted and no longer editable; a live evaluation otherwise."""
    if principal.role not in ("province", "supervisor", "applicant"):
        raise NotFound("application", str(application_id))
    record = await load(session, principal, application_id)
    if record.eligibility is not None and record.status not in EDITABLE_STATUSES:
        saved = record.eligibility
        return EligibilityView(
            eligible=saved["eligible"],
            rule_set=saved["rule_set"],
            judged_on=date.fromisoformat(saved["judged_on"]),
            recorded=True,
            checks=saved["checks"],
        )
    today = clock.today()
    verdict = await judge(session, record, today)
    return EligibilityView(
        eligible=verdict.eligible,
        rule_set=verdict.rule_set,
        judged_on=today,
        recorded=False,
        checks=[c.as_dict() for c in verdict.checks],
    )


# --- actions ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionInput:
    reason: str | None = None
    decision_date: date | None = None
    document_no: str | None = None


def _require(condition: bool, field: str, msg: str) -> None:
    if not condition:
        raise InvalidReference(loc=("body", field), msg=msg, type="missing")


def missing_plan_sections(plan: Mapping[str, Any]) -> list[str]:
    return [section for section in codes(PLAN_SECTIONS) if not str(plan.get(section, "")).strip()]


async def _guard_submit(session: AsyncSession, record: ApplicationRecord, clock: Clock) -> dict[str, Any]:
    today = clock.today()
    if not record.fast_track:
        call = await calls_repo.get(session, record.call_id) if record.call_id else None
        if call is None or not is_open_on(call, today):
            raise RuleViolation(
                "call-not-open",
                "申报通知未开放或已截止，不能提交",
                "The call is not open for submissions today.",
                {"call_id": str(record.call_id), "today": today.isoformat()},
            )
    return await _guard_plan_and_eligibility(session, record, today)


async def _guard_plan_and_eligibility(session: AsyncSession, record: ApplicationRecord, today: date) -> dict[str, Any]:
    """Seven non-empty plan sections and no failing rule; the verdict to record."""
    missing = missing_plan_sections(record.plan)
    if missing:
        raise RuleViolation(
            "plan-incomplete",
            "建设方案七个部分均须填写",
            "All seven plan sections are required.",
            {"missing_sections": missing},
        )
    verdict = await judge(session, record, today)
    if not verdict.eligible:
        raise Ineligible([c.as_dict() for c in verdict.failing])
    return {**verdict.as_dict(), "judged_on": today.isoformat()}


async def act(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    action: str,
    body: ActionInput,
    *,
    clock: Clock,
    expected_version: int | None,
) -> ApplicationRecord:
    """Take one lifecycle action. The row is locked, so of concurrent actions exactly one wins."""
    record = await load(session, principal, application_id, for_update=True)
    to_status = lifecycle.decide(machine_for(record), record, action, principal, expected_version=expected_version)
    if action in REASON_REQUIRED:
        _require(bool(body.reason), "reason", f"a reason is required to {action.replace('_', ' ')}")
    data: dict[str, Any] = {}
    if action in ("submit",):
        record.eligibility = await _guard_submit(session, record, clock)
        record.submitted_at = clock.now()
        data["eligible"] = True
    elif action == "resubmit":
        # While revising the lead may edit facts, participants, field and mode, which the recorded verdict judged.
        # The revised application is judged again (its call's window no longer matters) and the new verdict kept,
        # so an application made ineligible during revision can be neither resubmitted nor approved.
        record.eligibility = await _guard_plan_and_eligibility(session, record, clock.today())
        data["eligible"] = True
    elif action in ("open_review", "conclude_review", "approve"):
        from app.services import review  # review builds on this module; import here to keep the cycle one-way

        if action == "open_review":
            await review.guard_open(session, record)
        elif action == "conclude_review":
            await review.conclude(session, record, clock)
            data.update({"aggregate_score": str(record.aggregate_score), "passed": record.review_passed})
        else:
            _require(body.decision_date is not None, "decision_date", "the approval decision date is required")
            _require(bool(body.document_no), "document_no", "the decision document number is required")
            if not record.review_passed:
                raise RuleViolation(
                    "review-not-passed",
                    "评审未通过，不能批准建设",
                    "The review did not pass; the application cannot be approved.",
                    {"aggregate_score": str(record.aggregate_score)},
                )
            assert body.decision_date is not None
            assert body.document_no is not None
            record.decision_date = body.decision_date
            record.document_no = body.document_no
            center = await review.create_center(session, principal, record)
            record.center_id = center.id
            data.update({"center_id": str(center.id), "document_no": body.document_no})
    await lifecycle.apply(
        session,
        principal,
        record,
        subject_type="application",
        action=action,
        to_status=to_status,
        reason=body.reason,
        decision_date=body.decision_date,
        data=data,
    )
    return record


async def history(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> list[TransitionRecord]:
    record = await load(session, principal, application_id)
    return await audit.history(session, "application", record.id)
