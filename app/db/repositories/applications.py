"""SQL for applications, their panels, scores and site visits."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    ApplicationRecord,
    CallRecord,
    CenterRecord,
    ExpertRecord,
    OrganizationRecord,
    PanelMemberRecord,
    ReviewScoreRecord,
    SiteVisitRecord,
)
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keep_loaded, keyset_page
from app.domain.eligibility import PLAN_COUNTED_STATUSES

# pg_advisory_xact_lock(int, int) keys; the other classes are in app/services/centers.py (0x7E1C_0002, 0x7E1C_0003).
ONE_PLAN_LOCK = 0x7E1C_0004


@dataclass(frozen=True)
class Reach:
    """Which applications a caller may read: everything, or those matching one of the given conditions."""

    everything: bool = False
    lead_org_id: uuid.UUID | None = None
    supervised_by: uuid.UUID | None = None
    panel_expert_id: uuid.UUID | None = None
    panel_statuses: tuple[str, ...] = ()


def _reach_condition(reach: Reach) -> ColumnElement[bool] | None:
    if reach.everything:
        return None
    if reach.lead_org_id is not None:
        return ApplicationRecord.lead_org_id == reach.lead_org_id
    if reach.supervised_by is not None:
        return ApplicationRecord.lead_org_id.in_(
            select(OrganizationRecord.id).where(OrganizationRecord.supervisor_id == reach.supervised_by)
        )
    if reach.panel_expert_id is not None:
        on_panel = exists().where(
            PanelMemberRecord.application_id == ApplicationRecord.id,
            PanelMemberRecord.expert_id == reach.panel_expert_id,
        )
        return on_panel & ApplicationRecord.status.in_(reach.panel_statuses)
    return ApplicationRecord.id.is_(None)  # nothing


def _query(reach: Reach) -> Select[ApplicationRecord]:
    query = select(ApplicationRecord)
    condition = _reach_condition(reach)
    if condition is not None:
        query = query.where(condition)
    return query


def _reach_shape(reach: Reach) -> tuple[str, tuple[str, ...], dict[str, uuid.UUID]]:
    """The reach as a statement shape (its kind, and the panel statuses, which are fixed per role) and its values."""
    if reach.everything:
        return "everything", (), {}
    if reach.lead_org_id is not None:
        return "lead", (), {"reach_id": reach.lead_org_id}
    if reach.supervised_by is not None:
        return "supervised", (), {"reach_id": reach.supervised_by}
    if reach.panel_expert_id is not None:
        return "panel", reach.panel_statuses, {"reach_id": reach.panel_expert_id}
    return "nothing", (), {}


@functools.cache
def _get_statement(
    kind: str, panel_statuses: tuple[str, ...], for_update: bool
) -> Select[ApplicationRecord, CallRecord]:
    """`get`'s statement for one reach shape, built once: the ids are bind parameters, so SQLAlchemy neither rebuilds
    the query nor recomputes its cache key per request (a transition's load showed both in its profile)."""
    reach_id = bindparam("reach_id", type_=ApplicationRecord.id.type)
    by_kind: dict[str, ColumnElement[bool] | None] = {
        "everything": None,
        "lead": ApplicationRecord.lead_org_id == reach_id,
        "supervised": ApplicationRecord.lead_org_id.in_(
            select(OrganizationRecord.id).where(OrganizationRecord.supervisor_id == reach_id)
        ),
        "panel": exists()
        .where(PanelMemberRecord.application_id == ApplicationRecord.id, PanelMemberRecord.expert_id == reach_id)
        .__and__(ApplicationRecord.status.in_(panel_statuses)),
        "nothing": ApplicationRecord.id.is_(None),
    }
    query = (
        select(ApplicationRecord, CallRecord)
        .outerjoin(CallRecord, CallRecord.id == ApplicationRecord.call_id)
        .where(ApplicationRecord.id == bindparam("application_id", type_=ApplicationRecord.id.type))
    )
    condition = by_kind[kind]
    if condition is not None:
        query = query.where(condition)
    if for_update:
        query = query.with_for_update(of=ApplicationRecord)
    return query


async def get(
    session: AsyncSession, application_id: uuid.UUID, reach: Reach, *, for_update: bool = False
) -> ApplicationRecord | None:
    """The application; its call comes with it (same statement) into the session, for the guards and eligibility."""
    kind, statuses, values = _reach_shape(reach)
    row = (
        await session.execute(_get_statement(kind, statuses, for_update), {"application_id": application_id, **values})
    ).one_or_none()
    if row is None:
        return None
    record: ApplicationRecord = row[0]
    if row[1] is not None:
        keep_loaded(session, row[1])
    return record


async def add(session: AsyncSession, record: ApplicationRecord) -> ApplicationRecord:
    session.add(record)
    await session.flush()
    return record


async def list_page(
    session: AsyncSession,
    page: PageRequest,
    reach: Reach,
    *,
    status: str | None,
    field: str | None,
    call_id: uuid.UUID | None,
    lead_org_id: uuid.UUID | None,
    formation_mode: str | None,
) -> PageResult[ApplicationRecord]:
    query = _query(reach)
    if status:
        query = query.where(ApplicationRecord.status == status)
    if field:
        query = query.where(ApplicationRecord.field == field)
    if call_id:
        query = query.where(ApplicationRecord.call_id == call_id)
    if lead_org_id:
        query = query.where(ApplicationRecord.lead_org_id == lead_org_id)
    if formation_mode:
        query = query.where(ApplicationRecord.formation_mode == formation_mode)
    return await keyset_page(session, query, ApplicationRecord, page)


async def other_live_in_call(
    session: AsyncSession, *, lead_org_id: uuid.UUID, call_id: uuid.UUID, except_id: uuid.UUID
) -> list[uuid.UUID]:
    """The lead's other applications in the call that count for one center, one plan; oldest first."""
    query = (
        select(ApplicationRecord.id)
        .where(
            ApplicationRecord.lead_org_id == lead_org_id,
            ApplicationRecord.call_id == call_id,
            ApplicationRecord.id != except_id,
            ApplicationRecord.status.in_(PLAN_COUNTED_STATUSES),
        )
        .order_by(ApplicationRecord.created_at, ApplicationRecord.id)
    )
    return list((await session.execute(query)).scalars())


async def live_in_calls(
    session: AsyncSession, pairs: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], list[uuid.UUID]]:
    """{(lead, call): the lead's applications in that call that count for one center, one plan, oldest first}, for
    many (lead, call) pairs in one query (`other_live_in_call` for a page)."""
    out: dict[tuple[uuid.UUID, uuid.UUID], list[uuid.UUID]] = {pair: [] for pair in pairs}
    if not pairs:
        return out
    query = (
        select(ApplicationRecord.id, ApplicationRecord.lead_org_id, ApplicationRecord.call_id)
        .where(
            tuple_(ApplicationRecord.lead_org_id, ApplicationRecord.call_id).in_(list(pairs)),
            ApplicationRecord.status.in_(PLAN_COUNTED_STATUSES),
        )
        .order_by(ApplicationRecord.created_at, ApplicationRecord.id)
    )
    for row in (await session.execute(query)).all():
        if row.call_id is not None:
            out[(row.lead_org_id, row.call_id)].append(row.id)
    return out


async def lock_lead_for_submission(session: AsyncSession, lead_org_id: uuid.UUID) -> None:
    """Serialise submissions by one lead until the transaction ends.

    Drafts do not count for one center, one plan, so two drafts submitted at once would each find the other still a
    draft; under this lock the second waits and then sees the first submitted. Keyed by the lead's first 32 bits: a
    collision only makes two leads wait for each other.
    """
    key = int.from_bytes(lead_org_id.bytes[:4], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": ONE_PLAN_LOCK, "b": key})


async def organizations_with_revocations(
    session: AsyncSession, org_ids: Collection[uuid.UUID]
) -> tuple[dict[uuid.UUID, OrganizationRecord], dict[uuid.UUID, list[date]]]:
    """Organizations by id, and for each the dates its centers were revoked for cause (eligibility looks at the
    lead's): one query for both."""
    if not org_ids:
        return {}, {}
    revoked = (
        select(func.array_agg(aggregate_order_by(CenterRecord.revoked_on, CenterRecord.revoked_on)))
        .where(
            CenterRecord.lead_org_id == OrganizationRecord.id,
            CenterRecord.status == "revoked",
            CenterRecord.revoked_on.is_not(None),
            CenterRecord.revocation_reason_code != "voluntary_exit",
        )
        .scalar_subquery()
    )
    query = select(OrganizationRecord, revoked).where(OrganizationRecord.id.in_(list(org_ids)))
    orgs: dict[uuid.UUID, OrganizationRecord] = {}
    dates: dict[uuid.UUID, list[date]] = {}
    for org, revoked_on in (await session.execute(query)).all():
        orgs[org.id], dates[org.id] = org, list(revoked_on or ())
    return orgs, dates


async def for_cause_revocations(session: AsyncSession, lead_org_id: uuid.UUID) -> list[CenterRecord]:
    query = select(CenterRecord).where(
        CenterRecord.lead_org_id == lead_org_id,
        CenterRecord.status == "revoked",
        CenterRecord.revoked_on.is_not(None),
        CenterRecord.revocation_reason_code != "voluntary_exit",
    )
    return list((await session.execute(query)).scalars())


# --- panel, scores, site visits ---------------------------------------------------------------------------------


async def panel(
    session: AsyncSession, application_id: uuid.UUID, *, accepted_only: bool = False
) -> list[PanelMemberRecord]:
    query = select(PanelMemberRecord).where(PanelMemberRecord.application_id == application_id)
    if accepted_only:
        query = query.where(PanelMemberRecord.status == "accepted")
    return list((await session.execute(query.order_by(PanelMemberRecord.position))).scalars())


async def panels(
    session: AsyncSession, application_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[ExpertRecord, str]]]:
    """{application: its panel's (expert, invitation status) in panel order}, for many applications in one query."""
    out: dict[uuid.UUID, list[tuple[ExpertRecord, str]]] = {ident: [] for ident in application_ids}
    if not application_ids:
        return out
    query = (
        select(PanelMemberRecord.application_id, ExpertRecord, PanelMemberRecord.status)
        .join(ExpertRecord, ExpertRecord.id == PanelMemberRecord.expert_id)
        .where(PanelMemberRecord.application_id.in_(list(application_ids)))
        .order_by(PanelMemberRecord.application_id, PanelMemberRecord.position)
    )
    for application_id, expert, status in (await session.execute(query)).all():
        out[application_id].append((expert, status))
    return out


async def scored_experts(
    session: AsyncSession, rounds: Collection[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], set[uuid.UUID]]:
    """{(application, round): the experts who scored it in that round}, for many applications in one query."""
    out: dict[tuple[uuid.UUID, int], set[uuid.UUID]] = {key: set() for key in rounds}
    if not rounds:
        return out
    query = select(ReviewScoreRecord.application_id, ReviewScoreRecord.round, ReviewScoreRecord.expert_id).where(
        tuple_(ReviewScoreRecord.application_id, ReviewScoreRecord.round).in_(list(rounds))
    )
    for application_id, round_, expert_id in (await session.execute(query)).all():
        out[(application_id, round_)].add(expert_id)
    return out


async def replace_panel(session: AsyncSession, application_id: uuid.UUID, expert_ids: Collection[uuid.UUID]) -> None:
    for member in await panel(session, application_id):
        await session.delete(member)
    await session.flush()
    for position, expert_id in enumerate(expert_ids):
        session.add(PanelMemberRecord(application_id=application_id, expert_id=expert_id, position=position))
    await session.flush()


async def scores(session: AsyncSession, application_id: uuid.UUID, round: int) -> list[ReviewScoreRecord]:
    """The sheets of one review round (earlier rounds' sheets stay stored and never count again)."""
    query = select(ReviewScoreRecord).where(
        ReviewScoreRecord.application_id == application_id, ReviewScoreRecord.round == round
    )
    return list((await session.execute(query.order_by(ReviewScoreRecord.created_at))).scalars())


async def score_of(
    session: AsyncSession, application_id: uuid.UUID, expert_id: uuid.UUID, round: int
) -> ReviewScoreRecord | None:
    query = select(ReviewScoreRecord).where(
        ReviewScoreRecord.application_id == application_id,
        ReviewScoreRecord.expert_id == expert_id,
        ReviewScoreRecord.round == round,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_score(session: AsyncSession, record: ReviewScoreRecord) -> None:
    session.add(record)
    await session.flush()


async def site_visits(session: AsyncSession, application_id: uuid.UUID) -> list[SiteVisitRecord]:
    query = select(SiteVisitRecord).where(SiteVisitRecord.application_id == application_id)
    return list(
        (await session.execute(query.order_by(SiteVisitRecord.visited_on, SiteVisitRecord.created_at))).scalars()
    )


async def count_site_visits(session: AsyncSession, application_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(SiteVisitRecord).where(SiteVisitRecord.application_id == application_id)
    return int((await session.execute(query)).scalar_one())


async def add_site_visit(session: AsyncSession, record: SiteVisitRecord) -> SiteVisitRecord:
    session.add(record)
    await session.flush()
    return record
