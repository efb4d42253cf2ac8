"""SQL for calls (申报通知)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CallRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page, loaded


async def get(session: AsyncSession, call_id: uuid.UUID, *, for_update: bool = False) -> CallRecord | None:
    query = select(CallRecord).where(CallRecord.id == call_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CallRecord]:
    found = loaded(session, CallRecord, ids)
    if missing := [i for i in ids if i not in found]:
        query = select(CallRecord).where(CallRecord.id.in_(missing))
        found.update({r.id: r for r in (await session.execute(query)).scalars()})
    return found


async def add(session: AsyncSession, record: CallRecord) -> CallRecord:
    session.add(record)
    await session.flush()
    return record


async def list_page(
    session: AsyncSession, page: PageRequest, *, statuses: tuple[str, ...] | None, status: str | None, year: int | None
) -> PageResult[CallRecord]:
    query = select(CallRecord)
    if statuses is not None:
        query = query.where(CallRecord.status.in_(statuses))
    if status:
        query = query.where(CallRecord.status == status)
    if year:
        query = query.where(CallRecord.year == year)
    return await keyset_page(session, query, CallRecord, page)
