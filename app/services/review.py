"""Expert review (评审论证): the panel with recusal, scores per round, site visits and who sees what of them.
Opening and concluding a review are application actions (`services.application_actions.act`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, ReviewScoreRecord, SiteVisitRecord
from app.db.repositories import applications as repo
from app.db.repositories import draws as draws_repo
from app.db.repositories import organizations as orgs_repo
from app.db.repositories.applications import Reach
from app.domain import applications as app_rules
from app.domain import draws as draw_rules
from app.domain import review as review_rules
from app.domain.draws import ReviewTerms
from app.domain.errors import InvalidTransition, RuleViolation
from app.domain.guards import blocker, refusal
from app.domain.lifecycles import APPLICATION
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit
from app.services import draws as draws_service
from app.services.applications import allowed_of, expert_profiles, involved_orgs, load
from app.services.clock import Clock
from app.services.errors import NotFound, ValidationFailed


async def set_panel(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    expert_ids: Sequence[uuid.UUID],
    reason: str | None = None,
    today: date | None = None,
) -> ApplicationRecord:
    """Form the panel (province) before the review opens; during review replace members who have not scored (with
    a reason), keeping the panel rules — a replaced member's sheet never counts (issue 11 §3.8)."""
    record = await load(session, principal, application_id, for_update=True)
    if record.status not in app_rules.PANEL_EDITABLE:
        wrong_state = blocker(
            "wrong-state",
            f"当前状态（{record.status}）不能调整评审专家组",
            f"The panel cannot change in state '{record.status}'.",
            status=record.status,
        )
        raise refusal(record.status, "set_panel", [wrong_state], [])
    current = [str(m.expert_id) for m in await repo.panel(session, record.id)]
    scored = [str(s.expert_id) for s in await repo.scores(session, record.id, record.review_round)]
    problems = app_rules.panel_change_problems(
        current, [str(e) for e in expert_ids], scored, status=record.status, reason=reason
    )
    if problems:
        raise ValidationFailed([(("body", name), msg, "value_error") for name, msg in problems])
    rule_set = get_rule_set(record.rule_set)
    review_rules.check_panel(
        await expert_profiles(session, expert_ids),
        involved_orgs(record),
        min_size=rule_set.panel_min_size,
        categories=rule_set.panel_categories,
        today=today,
    )
    await repo.replace_panel(session, record.id, expert_ids)
    record.updated_at = datetime.now(record.updated_at.tzinfo)
    await session.flush()
    replaced = [e for e in current if e not in {str(x) for x in expert_ids}]
    # The feed never names experts: only the size of the panel and how many were replaced are public.
    await audit.record_event(
        session,
        principal,
        type="application.panel_formed" if record.status != "under_review" else "application.panel_changed",
        subject_type="application",
        subject_id=record.id,
        data={"panel_size": len(expert_ids), "replaced": len(replaced), "round": record.review_round},
    )
    return record


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
    member = await draws_repo.member(session, record.id, principal.expert_id)
    if member is not None and member.status != "accepted":
        # Scoring opens only for members who accepted their invitation (issue 17 §1).
        raise RuleViolation(
            "invitation-not-accepted",
            "须先接受评审邀请，方可评分",
            "Accept the panel invitation before scoring.",
            {"status": member.status},
        )
    rule_set = get_rule_set(record.rule_set)
    problems = review_rules.criteria_errors(criteria, rule_set.review_criteria_max)
    if problems:
        raise ValidationFailed([(p.loc, p.msg, p.type) for p in problems])
    stored = {name: f"{Decimal(value):.2f}" for name, value in criteria.items()}
    total = review_rules.criteria_total({name: Decimal(v) for name, v in criteria.items()})
    existing = await repo.score_of(session, record.id, principal.expert_id, record.review_round)
    if existing is None:
        existing = ReviewScoreRecord(
            application_id=record.id,
            expert_id=principal.expert_id,
            round=record.review_round,
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


async def add_site_visit(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    visited_on: date,
    members: list[str],
    findings: str,
    clock: Clock,
) -> SiteVisitRecord:
    # Locked, so two visits recorded at once cannot both pass the cap.
    record = await load(session, principal, application_id, for_update=True)
    if record.status not in ("recommended", "under_review", "reviewed", "revising"):
        allowed = (await allowed_of(session, principal, [record], clock))[record.id]
        raise InvalidTransition(current=record.status, action="site_visit", allowed=allowed)
    if (refusal := review_rules.site_visit_problem(await repo.count_site_visits(session, record.id))) is not None:
        raise refusal
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
    scores_due_on: date | None = None


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


async def review_view(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    today: date | None = None,
    terms: ReviewTerms | None = None,
) -> ReviewView:
    record = await load(session, principal, application_id)
    if today is not None and terms is not None:
        # Reading the panel lapses overdue invitations first, so that what is shown is what holds (issue 17 §1).
        await draws_service.sweep(session, record.id, today, terms)
    members = await repo.panel(session, record.id)
    scores = await repo.scores(session, record.id, record.review_round)
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
        scored = {s.expert_id for s in scores}
        view.panel = [
            {
                "expert_id": m.expert_id,
                "name": experts[m.expert_id].name,
                "category": experts[m.expert_id].category,
                "status": m.status,
                "reply_by": m.reply_by,
                "late": record.status == "under_review"
                and m.status == "accepted"
                and today is not None
                and draw_rules.score_late(record.scores_due_on, today, scored=m.expert_id in scored),
            }
            for m in members
        ]
        view.scores_due_on = record.scores_due_on
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


__all__ = ["NotFound"]
