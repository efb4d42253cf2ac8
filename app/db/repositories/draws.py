"""SQL for panel draws and invitations: the pool, the panels' workload, the draws and overdue invitations."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, ExpertRecord, PanelDrawRecord, PanelMemberRecord


async def pool(session: AsyncSession) -> list[ExpertRecord]:
    """Every expert of the pool, in id order (inactive ones too: the snapshot shows them excluded)."""
    return list((await session.execute(select(ExpertRecord).order_by(ExpertRecord.id))).scalars())


async def panel_loads(
    session: AsyncSession, call_id: uuid.UUID | None, except_application: uuid.UUID
) -> dict[uuid.UUID, int]:
    """{expert: how many panels of other applications of the same call they sit on (invited or accepted)}. Fast-track
    applications, which have no call, count together."""
    same_call = ApplicationRecord.call_id.is_(None) if call_id is None else ApplicationRecord.call_id == call_id
    query = (
        select(PanelMemberRecord.expert_id, func.count())
        .join(ApplicationRecord, ApplicationRecord.id == PanelMemberRecord.application_id)
        .where(same_call, ApplicationRecord.id != except_application)
        .group_by(PanelMemberRecord.expert_id)
    )
    return {expert_id: int(count) for expert_id, count in (await session.execute(query)).all()}


async def add(session: AsyncSession, record: PanelDrawRecord) -> PanelDrawRecord:
    session.add(record)
    await session.flush()
    return record


async def latest(session: AsyncSession, application_id: uuid.UUID) -> PanelDrawRecord | None:
    query = (
        select(PanelDrawRecord)
        .where(PanelDrawRecord.application_id == application_id)
        .order_by(PanelDrawRecord.created_at.desc(), PanelDrawRecord.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def member(session: AsyncSession, application_id: uuid.UUID, expert_id: uuid.UUID) -> PanelMemberRecord | None:
    query = select(PanelMemberRecord).where(
        PanelMemberRecord.application_id == application_id, PanelMemberRecord.expert_id == expert_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def overdue(session: AsyncSession, application_id: uuid.UUID, today: date) -> list[PanelMemberRecord]:
    """The application's invitations whose reply deadline passed before `today`, in panel order."""
    query = select(PanelMemberRecord).where(
        PanelMemberRecord.application_id == application_id,
        PanelMemberRecord.status == "invited",
        PanelMemberRecord.reply_by < today,
    )
    return list((await session.execute(query.order_by(PanelMemberRecord.position))).scalars())


async def applications_with_overdue(session: AsyncSession, today: date, limit: int = 100) -> list[uuid.UUID]:
    """Applications with at least one invitation past its deadline (for the worker), at most `limit` at a time."""
    query = (
        select(PanelMemberRecord.application_id)
        .where(PanelMemberRecord.status == "invited", PanelMemberRecord.reply_by < today)
        .group_by(PanelMemberRecord.application_id)
        .order_by(PanelMemberRecord.application_id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def next_position(session: AsyncSession, application_id: uuid.UUID) -> int:
    query = select(func.coalesce(func.max(PanelMemberRecord.position), -1) + 1).where(
        PanelMemberRecord.application_id == application_id
    )
    return int((await session.execute(query)).scalar_one())
