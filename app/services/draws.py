"""Random panel draws and invitations (专家抽取, issue 17 §1).

The province draws: a 32-byte seed from `secrets`, its SHA-256 and the pool snapshot's digest published in the feed
(`panel.draw_committed`) before `app.domain.draws.draw` runs, the seed revealed after (`panel.drawn`). Drawn members
are invited; a decline or a lapsed invitation calls in the next backup. Events and history never name an expert:
expert actions are recorded under the neutral actor `expert`, and the lapsing of invitations under `system`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, PanelDrawRecord, PanelMemberRecord
from app.db.repositories import applications as repo
from app.db.repositories import draws as draws_repo
from app.db.repositories.applications import Reach
from app.domain import draws as rules
from app.domain import review as review_rules
from app.domain.errors import RuleViolation
from app.domain.guards import blocker, refusal
from app.domain.lifecycles import APPLICATION
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit
from app.services.applications import involved_orgs, load, profile_of
from app.services.clock import Clock
from app.services.errors import NotFound, ValidationFailed

# A panel is drawn for a recommended application, or for the next round of a reviewed one (issue 17 §1).
DRAWABLE = ("recommended", "reviewed")
# Who is recorded as acting, so that neither the feed nor the history names an expert.
EXPERT_ACTOR = Principal(sub="expert", role="expert")
SYSTEM_ACTOR = Principal(sub="system", role="system")


def _round_of(record: ApplicationRecord) -> int:
    return record.review_round + (1 if record.status == "reviewed" else 0)


async def draw_panel(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    size: int | None,
    backups: int,
    category_mix: dict[str, int] | None,
    clock: Clock,
    terms: rules.ReviewTerms,
) -> PanelDrawRecord:
    """Draw the panel (province): commit to the seed, draw, reveal, invite. The whole draw is one transaction: a
    refused draw (too few eligible experts) publishes nothing."""
    record = await load(session, principal, application_id, for_update=True)
    if record.status not in DRAWABLE:
        wrong_state = blocker(
            "wrong-state",
            f"当前状态（{record.status}）不能抽取评审专家",
            f"A panel is drawn only for a recommended or reviewed application, not in state '{record.status}'.",
            status=record.status,
        )
        raise refusal(record.status, "draw_panel", [wrong_state], [])
    rule_set = get_rule_set(record.rule_set)
    categories = tuple(rule_set.panel_categories)
    size = rule_set.panel_min_size if size is None else size
    mix = rules.default_mix(categories) if category_mix is None else category_mix
    problems = rules.params_problems(size, backups, mix, min_size=rule_set.panel_min_size, categories=categories)
    if problems:
        raise ValidationFailed([(("body", name), msg, "value_error") for name, msg in problems])
    today = clock.today()
    draw_id = uuid.uuid4()
    involved = involved_orgs(record)
    loads = await draws_repo.panel_loads(session, record.call_id, record.id)
    refs: dict[str, str] = {}
    pool: list[rules.PoolEntry] = []
    for expert in await draws_repo.pool(session):
        ref = rules.pseudonym(str(draw_id), str(expert.id))
        refs[ref] = str(expert.id)
        pool.append(
            rules.PoolEntry(
                ref=ref,
                category=expert.category,
                fields=tuple(sorted(expert.fields)),
                active=expert.active,
                conflicted=review_rules.conflict_of(profile_of(expert), involved, today) is not None,
                load=loads.get(expert.id, 0),
            )
        )
    # Sorted by pseudonym, the snapshot's order says nothing about when experts joined the pool.
    pool.sort(key=lambda e: e.ref)
    ordered_mix = tuple((c, mix[c]) for c in categories if c in mix)
    params = rules.DrawParams(field=record.field, size=size, backups=backups, mix=ordered_mix, cap=terms.panel_cap)
    seed = secrets.token_bytes(rules.SEED_BYTES)
    seed_hash, digest, round_ = rules.seed_hash(seed), rules.pool_digest(pool, params), _round_of(record)
    await audit.record_event(
        session,
        principal,
        type="panel.draw_committed",
        subject_type="application",
        subject_id=record.id,
        data={"draw_id": str(draw_id), "seed_hash": seed_hash, "pool_digest": digest, "round": round_},
    )
    result = rules.draw(seed, pool, params)
    drawn = await draws_repo.add(
        session,
        PanelDrawRecord(
            id=draw_id,
            application_id=record.id,
            round=round_,
            seed=seed.hex(),
            seed_hash=seed_hash,
            pool_digest=digest,
            params=params.as_dict(),
            pool=[e.as_dict() for e in pool],
            refs=refs,
            members=list(result.members),
            backups=list(result.backups),
            backups_used=0,
            replacements=[],
            created_by=principal.sub,
            created_at=clock.now(),
        ),
    )
    deadline = rules.reply_by(today, terms.reply_days)
    await repo.replace_panel(session, record.id, [uuid.UUID(refs[ref]) for ref in result.members])
    for member in await repo.panel(session, record.id):
        member.status, member.reply_by = "invited", deadline
    record.updated_at = clock.now()
    await session.flush()
    await audit.record_transition(
        session,
        principal,
        subject_type="application",
        subject_id=record.id,
        action="draw_panel",
        from_status=record.status,
        to_status=record.status,
        data={
            "draw_id": str(draw_id),
            "seed": seed.hex(),
            "seed_hash": seed_hash,
            "pool_digest": digest,
            "round": round_,
            "panel_size": len(result.members),
            "backups": len(result.backups),
            "reply_by": deadline.isoformat(),
        },
        event_type="panel.drawn",
    )
    return drawn


# --- invitations -----------------------------------------------------------------------------------------------------


async def _replace(
    session: AsyncSession,
    actor: Principal,
    record: ApplicationRecord,
    member: PanelMemberRecord,
    *,
    cause: str,
    reason: str | None,
    today: date,
    terms: rules.ReviewTerms,
) -> None:
    """Take `member` off the panel and invite the next backup of the current draw, if one is left (issue 17 §1)."""
    draw = await draws_repo.latest(session, record.id)
    invited: str | None = None
    left = 0
    if draw is not None:
        by_expert = {expert_id: ref for ref, expert_id in draw.refs.items()}
        category_of = {e["ref"]: e["category"] for e in draw.pool}
        used = {r["replaced_by"] for r in draw.replacements if r.get("replaced_by")}
        remaining = [ref for ref in draw.backups if ref not in used]
        leaving = by_expert.get(str(member.expert_id))
        leaving_category = category_of.get(leaving, "") if leaving else ""
        index = rules.next_backup(leaving_category, [(ref, category_of[ref]) for ref in remaining])
        if index is not None:
            invited = remaining[index]
            remaining.pop(index)
        left = len(remaining)
        draw.replacements = [
            *draw.replacements,
            {"ref": leaving, "cause": cause, "replaced_by": invited, "on": today.isoformat(), "reason": reason},
        ]
        draw.backups_used = draw.backups_used + (1 if invited else 0)
    await session.delete(member)
    await session.flush()
    if invited is not None and draw is not None:
        session.add(
            PanelMemberRecord(
                application_id=record.id,
                expert_id=uuid.UUID(draw.refs[invited]),
                position=await draws_repo.next_position(session, record.id),
                status="invited",
                reply_by=rules.reply_by(today, terms.reply_days),
            )
        )
        await session.flush()
    await audit.record_transition(
        session,
        actor,
        subject_type="application",
        subject_id=record.id,
        action="decline_invitation" if cause == "declined" else "invitation_lapsed",
        from_status=record.status,
        to_status=record.status,
        data={"round": _round_of(record), "backup_invited": invited is not None, "backups_left": left},
        event_type="panel.invitation_declined" if cause == "declined" else "panel.invitation_expired",
    )


async def expire_overdue(
    session: AsyncSession, record: ApplicationRecord, today: date, terms: rules.ReviewTerms
) -> int:
    """Lapse the application's invitations not answered in time, each replaced by the next backup; answers how
    many lapsed. The caller holds the application's row lock."""
    lapsed = await draws_repo.overdue(session, record.id, today)
    for member in lapsed:
        await _replace(session, SYSTEM_ACTOR, record, member, cause="expired", reason=None, today=today, terms=terms)
    return len(lapsed)


async def sweep(session: AsyncSession, application_id: uuid.UUID, today: date, terms: rules.ReviewTerms) -> int:
    """Lapse one application's overdue invitations (on a read of its panel, and by the worker). One query when
    nothing is overdue; otherwise the row is locked and the check repeated under the lock."""
    if not await draws_repo.overdue(session, application_id, today):
        return 0
    record = await repo.get(session, application_id, Reach(everything=True), for_update=True)
    if record is None:  # pragma: no cover - deleted between the two statements; applications are never deleted
        return 0
    return await expire_overdue(session, record, today, terms)


async def overdue_applications(session: AsyncSession, today: date) -> list[uuid.UUID]:
    return await draws_repo.applications_with_overdue(session, today)


async def _invitation(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, clock: Clock, terms: rules.ReviewTerms
) -> tuple[ApplicationRecord, PanelMemberRecord]:
    if principal.role != "expert" or principal.expert_id is None:
        raise NotFound("application", str(application_id))
    # An invited expert knows the application whatever its state (as a panel member scoring does).
    on_panel = Reach(panel_expert_id=principal.expert_id, panel_statuses=APPLICATION.states)
    record = await repo.get(session, application_id, on_panel, for_update=True)
    if record is None:
        raise NotFound("application", str(application_id))
    await expire_overdue(session, record, clock.today(), terms)
    member = await draws_repo.member(session, record.id, principal.expert_id)
    if member is None:
        raise RuleViolation(
            "invitation-expired",
            "邀请已过答复期限，已由备选专家替补",
            "The invitation lapsed at its reply deadline; a backup was invited instead.",
        )
    if member.status != "invited":
        raise RuleViolation(
            "invitation-answered", "已接受邀请", "The invitation has already been accepted.", {"status": member.status}
        )
    return record, member


async def accept(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, clock: Clock, terms: rules.ReviewTerms
) -> PanelMemberRecord:
    """An invited expert accepts (before the reply deadline): scoring opens for them once the review is open."""
    record, member = await _invitation(session, principal, application_id, clock, terms)
    member.status, member.responded_at = "accepted", clock.now()
    await session.flush()
    accepted = sum(1 for m in await repo.panel(session, record.id) if m.status == "accepted")
    await audit.record_transition(
        session,
        EXPERT_ACTOR,
        subject_type="application",
        subject_id=record.id,
        action="accept_invitation",
        from_status=record.status,
        to_status=record.status,
        data={"round": _round_of(record), "accepted": accepted},
        event_type="panel.invitation_accepted",
    )
    return member


async def decline(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    reason: str,
    clock: Clock,
    terms: rules.ReviewTerms,
) -> None:
    """An invited expert declines with a reason; the next backup is invited. The reason stays with the draw, which
    only the province reads with identities; the feed and the history say only that someone declined."""
    record, member = await _invitation(session, principal, application_id, clock, terms)
    await _replace(
        session, EXPERT_ACTOR, record, member, cause="declined", reason=reason, today=clock.today(), terms=terms
    )


# --- reading a draw --------------------------------------------------------------------------------------------------


@dataclass
class DrawView:
    draw_id: uuid.UUID
    application_id: uuid.UUID
    round: int
    drawn_at: Any
    seed: str
    seed_hash: str
    pool_digest: str
    params: dict[str, Any]
    pool: list[dict[str, Any]]
    members: list[str]
    backups: list[str]
    recomputed_members: list[str]
    recomputed_backups: list[str]
    reproduced: bool
    replacements: list[dict[str, Any]]
    experts: dict[str, str] | None = None


def _params(data: dict[str, Any]) -> rules.DrawParams:
    return rules.DrawParams(
        field=str(data["field"]),
        size=int(data["size"]),
        backups=int(data["backups"]),
        mix=tuple((str(c), int(n)) for c, n in data["category_mix"].items()),
        cap=int(data["cap"]),
    )


def recompute(draw: PanelDrawRecord) -> tuple[rules.DrawResult, bool]:
    """Re-run the stored draw from its seed and snapshot; true when it gives the stored panel and backups and the
    seed and snapshot match what was published before the draw."""
    seed = bytes.fromhex(draw.seed)
    pool = [rules.PoolEntry.from_dict(e) for e in draw.pool]
    params = _params(draw.params)
    try:
        result = rules.draw(seed, pool, params)
    except RuleViolation:
        # A stored draw succeeded once; if its re-run is refused now, the rule changed: not reproduced.
        return rules.DrawResult(members=(), backups=()), False
    same = (
        list(result.members) == list(draw.members)
        and list(result.backups) == list(draw.backups)
        and rules.seed_hash(seed) == draw.seed_hash
        and rules.pool_digest(pool, params) == draw.pool_digest
    )
    return result, same


async def draw_view(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, clock: Clock, terms: rules.ReviewTerms
) -> DrawView:
    """The current draw re-run from its seed and snapshot (anyone who reads the application). Pseudonyms only,
    except for the province, which also gets the pseudonym → expert map and the reasons given for declining."""
    record = await load(session, principal, application_id)
    await sweep(session, record.id, clock.today(), terms)
    draw = await draws_repo.latest(session, record.id)
    if draw is None:
        raise NotFound("panel-draw", str(application_id))
    result, same = recompute(draw)
    province = principal.role == "province"
    return DrawView(
        draw_id=draw.id,
        application_id=record.id,
        round=draw.round,
        drawn_at=draw.created_at,
        seed=draw.seed,
        seed_hash=draw.seed_hash,
        pool_digest=draw.pool_digest,
        params=draw.params,
        pool=draw.pool,
        members=draw.members,
        backups=draw.backups,
        recomputed_members=list(result.members),
        recomputed_backups=list(result.backups),
        reproduced=same,
        replacements=[{k: v for k, v in r.items() if province or k != "reason"} for r in draw.replacements],
        experts=dict(draw.refs) if province else None,
    )
