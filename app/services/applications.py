"""Applications (申报): drafting, eligibility, submission and the recommendation and review lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, TransitionRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import applications as repo
from app.db.repositories import attachments as attachments_repo
from app.db.repositories import calls as calls_repo
from app.db.repositories import organizations as orgs_repo
from app.db.repositories.applications import Reach
from app.domain import applications as app_rules
from app.domain import review as review_rules
from app.domain.calls import CallWindow
from app.domain.errors import RuleViolation
from app.domain.guards import ActionView, refusal
from app.domain.lifecycles import APPLICATION, APPLICATION_FAST_TRACK, StateMachine
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit, lifecycle, organizations, publicity
from app.services.clock import Clock
from app.services.eligibility import judge, judge_many
from app.services.errors import InvalidReference, NotFound

EXPERT_VISIBLE_STATUSES = ("under_review",)


def machine_for(record: ApplicationRecord) -> StateMachine:
    return APPLICATION_FAST_TRACK if record.fast_track else APPLICATION


def involved_orgs(record: ApplicationRecord) -> list[str]:
    """The lead and every participant: an expert affiliated with any of them recuses (domain.md §5)."""
    return [str(record.lead_org_id), *(str(p["org_id"]) for p in record.participants)]


async def expert_profiles(
    session: AsyncSession, expert_ids: Sequence[uuid.UUID], loc: tuple[str, ...] = ("body", "expert_ids")
) -> list[review_rules.ExpertProfile]:
    found = await orgs_repo.get_experts(session, expert_ids)
    profiles = []
    for index, expert_id in enumerate(expert_ids):
        expert = found.get(expert_id)
        if expert is None:
            raise InvalidReference(loc=(*loc, index), msg="no such expert")
        profiles.append(profile_of(expert))
    return profiles


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
    await organizations.check_participants(session, lead_org_id, participants)


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
    clock: Clock,
) -> ApplicationRecord:
    record = await load(session, principal, application_id, for_update=True)
    facts = (await facts_of(session, principal, [record], clock))[record.id]
    if blockers := app_rules.update_blockers(principal, facts):
        raise refusal(record.status, "update", blockers, app_rules.LIFECYCLE.allowed(principal, facts))
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


@dataclass(frozen=True)
class EligibilityView:
    eligible: bool
    rule_set: str
    judged_on: date
    recorded: bool
    checks: list[dict[str, Any]]


def _with_evidence(
    checks: list[dict[str, Any]], rule_set: str, kinds: set[str], verdicts: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each check with the evidence its rule needs (issue 16 §2): the kinds that back it, whether one is attached
    and the formal review's verdict on it; None for a rule that needs no document."""
    evidence = get_rule_set(rule_set).evidence
    out = []
    for check in checks:
        wanted = evidence.get(str(check.get("rule")))
        verdict = verdicts.get(str(check.get("rule")))
        out.append(
            {
                **check,
                "evidence": {
                    "kinds": list(wanted),
                    "attached": any(k in kinds for k in wanted),
                    "verdict": verdict.get("verdict") if isinstance(verdict, Mapping) else None,
                }
                if wanted
                else None,
            }
        )
    return out


async def eligibility(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, clock: Clock
) -> EligibilityView:
    """The recorded verdict once submitted and no longer editable; a live evaluation otherwise. Each rule shows its
    evidence: against the frozen attachments and the latest formal review once recorded, the current ones before."""
    if principal.role not in ("province", "supervisor", "applicant"):
        raise NotFound("application", str(application_id))
    record = await load(session, principal, application_id)
    if record.eligibility is not None and record.status not in app_rules.EDITABLE_STATUSES:
        saved = record.eligibility
        review = await attachments_repo.latest_formal_review(session, record.id)
        kinds = {a["kind"] for a in record.submitted_attachments or []}
        return EligibilityView(
            eligible=saved["eligible"],
            rule_set=saved["rule_set"],
            judged_on=date.fromisoformat(saved["judged_on"]),
            recorded=True,
            checks=_with_evidence(
                saved["checks"],
                saved["rule_set"],
                kinds,
                review.verdicts if review is not None and record.formal_review_outcome is not None else {},
            ),
        )
    today = clock.today()
    verdict = await judge(session, record, today)
    kinds = await attachments_repo.kinds_of(session, "application", record.id)
    return EligibilityView(
        eligible=verdict.eligible,
        rule_set=verdict.rule_set,
        judged_on=today,
        recorded=False,
        checks=_with_evidence([c.as_dict() for c in verdict.checks], verdict.rule_set, kinds, {}),
    )


# --- the guards' facts ------------------------------------------------------------------------------------------


def profile_of(expert: Any) -> review_rules.ExpertProfile:
    return review_rules.ExpertProfile(
        expert_id=str(expert.id),
        name=expert.name,
        category=expert.category,
        affiliation_org_id=str(expert.affiliation_org_id) if expert.affiliation_org_id else None,
        declared_conflict_org_ids=frozenset(expert.declared_conflict_org_ids),
        declarations=declarations_of(expert),
    )


def declarations_of(expert: Any) -> tuple[review_rules.Declaration, ...]:
    """The conflicts an expert declared (stored on the expert row), as the recusal rule reads them."""
    return tuple(
        review_rules.Declaration(
            org_id=str(c["org_id"]),
            kind=str(c["kind"]),
            until=date.fromisoformat(c["until"]) if c.get("until") else None,
        )
        for c in expert.conflicts or ()
    )


def _panel_facts(record: ApplicationRecord, members: Sequence[tuple[Any, str]], today: date) -> app_rules.PanelFacts:
    """Only members who accepted count towards the panel rules (issue 17 §1); invitations still open are counted."""
    rule_set = get_rule_set(record.rule_set)
    return app_rules.PanelFacts(
        members=tuple(profile_of(m) for m, status in members if status == "accepted"),
        involved_org_ids=tuple(involved_orgs(record)),
        min_size=rule_set.panel_min_size,
        categories=tuple(rule_set.panel_categories),
        today=today,
        pending=sum(1 for _, status in members if status == "invited"),
    )


async def facts_of(
    session: AsyncSession, principal: Principal, records: Sequence[ApplicationRecord], clock: Clock
) -> dict[uuid.UUID, app_rules.ApplicationFacts]:
    """The guard facts of many applications, gathered only for the actions this caller's table row opens on each:
    one query per kind of fact (calls, organizations, eligibility's, panels, scores, notices), whatever the number of
    rows."""
    today = clock.today()
    base = {r.id: app_rules.ApplicationFacts(status=r.status, today=today, fast_track=r.fast_track) for r in records}
    open_actions = {r.id: set(app_rules.LIFECYCLE.table_open(principal, base[r.id])) for r in records}
    judged = [r for r in records if open_actions[r.id] & {"submit", "resubmit"}]
    call_ids = {r.call_id for r in records if r.call_id is not None and "submit" in open_actions[r.id]}
    call_ids |= {r.call_id for r in judged if r.call_id is not None}
    calls = await calls_repo.get_many(session, call_ids) if call_ids else {}
    supervisor_step = {"recommend", "return", "reject"}
    lead_ids = {r.lead_org_id for r in records if principal.role == "province" and open_actions[r.id] & supervisor_step}
    # One read of organizations serves both the supervisor step (the lead's department) and eligibility.
    org_ids = (
        lead_ids | {r.lead_org_id for r in judged} | {uuid.UUID(p["org_id"]) for r in judged for p in r.participants}
    )
    orgs, revocations = await repo.organizations_with_revocations(session, org_ids)
    verdicts = await judge_many(session, judged, today, orgs=(orgs, revocations), calls=calls)
    panel_ids = [r.id for r in records if open_actions[r.id] & {"open_review", "conclude_review"}]
    panels = await repo.panels(session, panel_ids) if panel_ids else {}
    rounds = [(r.id, r.review_round) for r in records if "conclude_review" in open_actions[r.id]]
    scored = await repo.scored_experts(session, rounds) if rounds else {}
    notices = await publicity.facts_of(session, "approval", [r.id for r in records if "approve" in open_actions[r.id]])
    out = {}
    for r in records:
        opened = open_actions[r.id]
        call = calls.get(r.call_id) if r.call_id is not None else None
        lead = orgs.get(r.lead_org_id) if r.lead_org_id in lead_ids else None
        verdict = verdicts.get(r.id)
        missing = 0
        if "conclude_review" in opened:
            done = scored[(r.id, r.review_round)]
            missing = sum(1 for m, status in panels[r.id] if status == "accepted" and m.id not in done)
        out[r.id] = replace(
            base[r.id],
            call=CallWindow(call.status, call.opens_on, call.closes_on) if call is not None else None,
            resubmit_by=r.resubmit_by,
            plan=dict(r.plan),
            failing_checks=tuple(c.as_dict() for c in verdict.failing) if verdict is not None else (),
            lead_has_supervisor=lead is None or lead.supervisor_id is not None,
            panel=_panel_facts(r, panels[r.id], today) if "open_review" in opened else None,
            scores_missing=missing,
            review_passed=r.review_passed,
            aggregate_score=str(r.aggregate_score) if r.aggregate_score is not None else None,
            review_round=r.review_round,
            revised_since_review=r.revised_since_review,
            publicity=notices.get(r.id, ()),
            formal_review_complete=r.formal_review_outcome == "complete",
        )
    return out


async def allowed_of(
    session: AsyncSession, principal: Principal, records: Sequence[ApplicationRecord], clock: Clock
) -> dict[uuid.UUID, list[str]]:
    """Each application's `allowed_actions`, from the same blockers as refusals and `GET …/actions`."""
    facts = await facts_of(session, principal, records, clock)
    return {r.id: app_rules.LIFECYCLE.allowed(principal, facts[r.id]) for r in records}


async def action_views(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, clock: Clock
) -> list[ActionView]:
    record = await load(session, principal, application_id)
    facts = (await facts_of(session, principal, [record], clock))[record.id]
    return app_rules.LIFECYCLE.views(principal, facts)


async def history(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, after: int | None, limit: int
) -> tuple[list[TransitionRecord], int | None]:
    record = await load(session, principal, application_id)
    return await audit.history(session, "application", record.id, after=after, limit=limit)
