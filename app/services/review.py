"""Expert review (评审论证): panel with recusal, scores, site visits, conclusion, and the center approval creates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, CenterRecord, ReviewScoreRecord, SiteVisitRecord
from app.db.repositories import applications as repo
from app.db.repositories import centers as centers_repo
from app.db.repositories import organizations as orgs_repo
from app.db.repositories.applications import Reach
from app.domain import review as rules
from app.domain.errors import InvalidTransition, RuleViolation
from app.domain.lifecycles import APPLICATION
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit, centers
from app.services.applications import allowed_actions, load
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound, ValidationFailed

PANEL_EDITABLE = ("submitted", "recommended")


def _involved(record: ApplicationRecord) -> list[str]:
    return [str(record.lead_org_id), *(str(p["org_id"]) for p in record.participants)]


async def _profiles(
    session: AsyncSession, expert_ids: Sequence[uuid.UUID], loc: tuple[str, ...] = ("body", "expert_ids")
) -> list[rules.ExpertProfile]:
    found = await orgs_repo.get_experts(session, expert_ids)
    profiles = []
    for index, expert_id in enumerate(expert_ids):
        expert = found.get(expert_id)
        if expert is None:
            raise InvalidReference(loc=(*loc, index), msg="no such expert")
        profiles.append(
            rules.ExpertProfile(
                expert_id=str(expert.id),
                name=expert.name,
                category=expert.category,
                affiliation_org_id=str(expert.affiliation_org_id) if expert.affiliation_org_id else None,
                declared_conflict_org_ids=frozenset(expert.declared_conflict_org_ids),
            )
        )
    return profiles


async def _check_panel(session: AsyncSession, record: ApplicationRecord, expert_ids: Sequence[uuid.UUID]) -> None:
    rule_set = get_rule_set(record.rule_set)
    rules.check_panel(
        await _profiles(session, expert_ids),
        _involved(record),
        min_size=rule_set.panel_min_size,
        categories=rule_set.panel_categories,
    )


async def set_panel(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, expert_ids: Sequence[uuid.UUID]
) -> ApplicationRecord:
    """Form the panel (province) before the review opens; it is fixed once the review opens."""
    record = await load(session, principal, application_id, for_update=True)
    if record.status not in PANEL_EDITABLE:
        raise InvalidTransition(current=record.status, action="set_panel", allowed=allowed_actions(principal, record))
    await _check_panel(session, record, expert_ids)
    await repo.replace_panel(session, record.id, expert_ids)
    record.updated_at = datetime.now(record.updated_at.tzinfo)
    await session.flush()
    # The feed never names experts: only the size of the panel is public.
    await audit.record_event(
        session,
        principal,
        type="application.panel_formed",
        subject_type="application",
        subject_id=record.id,
        data={"panel_size": len(expert_ids)},
    )
    return record


async def guard_open(session: AsyncSession, record: ApplicationRecord) -> None:
    """open_review needs a valid panel, re-checked now (an expert's conflicts may have changed)."""
    members = await repo.panel(session, record.id)
    if not members:
        raise RuleViolation("panel-missing", "尚未组建评审专家组", "No review panel has been formed.", {})
    await _check_panel(session, record, [m.expert_id for m in members])


def _criteria(record: ReviewScoreRecord) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in record.criteria.items()}


async def put_score(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    criteria: Mapping[str, Decimal],
    opinion: str,
    support: bool,
) -> tuple[ReviewScoreRecord, bool]:
    """An expert on the panel scores (or re-scores) while the review is open. Returns (score, created)."""
    if principal.role != "expert" or principal.expert_id is None:
        raise NotFound("application", str(application_id))
    # A panel member knows the application whatever its state, so scoring outside the review answers 409 (not now),
    # not 404; the ordinary reach (`load`) would hide it once the review concludes. Other experts still get 404.
    on_panel = Reach(panel_expert_id=principal.expert_id, panel_statuses=APPLICATION.states)
    record = await repo.get(session, application_id, on_panel, for_update=True)
    if record is None:
        raise NotFound("application", str(application_id))
    if record.status != "under_review":
        raise InvalidTransition(current=record.status, action="score", allowed=[])
    rule_set = get_rule_set(record.rule_set)
    problems = rules.criteria_errors(criteria, rule_set.review_criteria_max)
    if problems:
        raise ValidationFailed([(p.loc, p.msg, p.type) for p in problems])
    stored = {name: f"{Decimal(value):.2f}" for name, value in criteria.items()}
    total = rules.criteria_total({name: Decimal(v) for name, v in criteria.items()})
    existing = await repo.score_of(session, record.id, principal.expert_id)
    if existing is None:
        existing = ReviewScoreRecord(
            application_id=record.id,
            expert_id=principal.expert_id,
            criteria=stored,
            total=total,
            opinion=opinion,
            support=support,
        )
        await repo.add_score(session, existing)
        created = True
    else:
        existing.criteria, existing.total, existing.opinion, existing.support = stored, total, opinion, support
        await session.flush()
        created = False
    return existing, created


async def conclude(session: AsyncSession, record: ApplicationRecord, clock: Clock) -> None:
    """conclude_review needs every panel member's score; it fixes the aggregate and the pass verdict."""
    members = await repo.panel(session, record.id)
    scores = {s.expert_id: s for s in await repo.scores(session, record.id)}
    missing = [m.expert_id for m in members if m.expert_id not in scores]
    if missing:
        raise RuleViolation(
            "scores-missing",
            f"尚有 {len(missing)} 位专家未评分",
            f"{len(missing)} panel member(s) have not scored yet.",
            {"missing_count": len(missing)},
        )
    panel_scores = [scores[m.expert_id] for m in members]
    rule_set = get_rule_set(record.rule_set)
    outcome = rules.aggregate(
        [s.total for s in panel_scores],
        [s.support for s in panel_scores],
        pass_score=rule_set.review_pass_score,
        trim_from=rule_set.review_trim_from,
    )
    record.aggregate_score = outcome.aggregate_score
    record.review_passed = outcome.passed
    record.review_concluded_at = clock.now()


async def add_site_visit(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    visited_on: date,
    members: list[str],
    findings: str,
) -> SiteVisitRecord:
    record = await load(session, principal, application_id)
    if record.status not in ("recommended", "under_review", "reviewed", "revising"):
        raise InvalidTransition(current=record.status, action="site_visit", allowed=allowed_actions(principal, record))
    visit = await repo.add_site_visit(
        session,
        SiteVisitRecord(
            id=uuid.uuid4(), application_id=record.id, visited_on=visited_on, members=members, findings=findings
        ),
    )
    await audit.record_event(
        session,
        principal,
        type="application.site_visited",
        subject_type="application",
        subject_id=record.id,
        effective_on=visited_on,
        data={"visited_on": visited_on.isoformat()},
    )
    return visit


@dataclass
class ReviewView:
    """What a caller may see of a review; who scored what is for the province (and each expert's own) only."""

    application_id: uuid.UUID
    status: str
    concluded: bool
    aggregate_score: Decimal | None
    passed: bool | None
    panel_size: int
    scores_received: int
    panel: list[dict[str, Any]] | None = None
    scores: list[dict[str, Any]] | None = None
    my_score: dict[str, Any] | None = None
    opinions: list[dict[str, Any]] | None = None
    site_visits: list[dict[str, Any]] = field(default_factory=list)


def _score_dict(score: ReviewScoreRecord, *, with_expert: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "criteria": score.criteria,
        "total": f"{score.total:.2f}",
        "opinion": score.opinion,
        "support": score.support,
        "updated_at": score.updated_at,
    }
    if with_expert:
        out["expert_id"] = score.expert_id
    return out


async def review_view(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> ReviewView:
    record = await load(session, principal, application_id)
    members = await repo.panel(session, record.id)
    scores = await repo.scores(session, record.id)
    visits = await repo.site_visits(session, record.id)
    concluded = record.review_concluded_at is not None
    view = ReviewView(
        application_id=record.id,
        status=record.status,
        concluded=concluded,
        aggregate_score=record.aggregate_score if concluded else None,
        passed=record.review_passed if concluded else None,
        panel_size=len(members),
        scores_received=len(scores),
    )
    if principal.role == "province":
        experts = await orgs_repo.get_experts(session, [m.expert_id for m in members])
        view.panel = [
            {"expert_id": m.expert_id, "name": experts[m.expert_id].name, "category": experts[m.expert_id].category}
            for m in members
        ]
        view.scores = [_score_dict(s, with_expert=True) for s in scores]
    elif principal.role == "expert":
        mine = next((s for s in scores if s.expert_id == principal.expert_id), None)
        view.my_score = _score_dict(mine, with_expert=False) if mine else None
        view.aggregate_score, view.passed = None, None
    elif concluded and principal.role in ("applicant", "supervisor", "observer"):
        # Opinions without identities or individual scores, in an order that reveals nothing.
        view.opinions = [{"opinion": s.opinion, "support": s.support} for s in sorted(scores, key=lambda s: s.opinion)]
    view.site_visits = (
        [{"id": v.id, "visited_on": v.visited_on, "members": v.members, "findings": v.findings} for v in visits]
        if principal.role in ("province", "expert")
        else [{"id": v.id, "visited_on": v.visited_on, "findings": v.findings} for v in visits]
    )
    return view


async def create_center(session: AsyncSession, principal: Principal, record: ApplicationRecord) -> CenterRecord:
    """Approval creates the center (state `approved`) in the same transaction; code HNTIC-{year}-{seq:03d}."""
    assert record.decision_date is not None
    assert record.document_no is not None
    code = await centers.next_code(session, record.decision_date.year)
    center = CenterRecord(
        id=uuid.uuid4(),
        code=code,
        name=record.proposed_name,
        field=record.field,
        lead_org_id=record.lead_org_id,
        participants=record.participants,
        application_id=record.id,
        rule_set=record.rule_set,
        status="approved",
        approved_on=record.decision_date,
        approval_document_no=record.document_no,
    )
    await centers_repo.add(session, center)
    await audit.record_transition(
        session,
        principal,
        subject_type="center",
        subject_id=center.id,
        action="approve",
        from_status=None,
        to_status="approved",
        decision_date=record.decision_date,
        data={"code": center.code, "application_id": str(record.id), "document_no": record.document_no},
    )
    return center


__all__ = ["NotFound"]
