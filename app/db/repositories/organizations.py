"""SQL for organizations and experts."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExpertRecord, OrganizationRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page


async def get(session: AsyncSession, org_id: uuid.UUID, *, for_update: bool = False) -> OrganizationRecord | None:
    query = select(OrganizationRecord).where(OrganizationRecord.id == org_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, OrganizationRecord]:
    if not ids:
        return {}
    rows = (await session.execute(select(OrganizationRecord).where(OrganizationRecord.id.in_(list(ids))))).scalars()
    return {row.id: row for row in rows}


async def credit_code_taken(session: AsyncSession, credit_code: str, *, except_id: uuid.UUID | None = None) -> bool:
    query = select(OrganizationRecord.id).where(OrganizationRecord.credit_code == credit_code)
    if except_id is not None:
        query = query.where(OrganizationRecord.id != except_id)
    return (await session.execute(query)).first() is not None


async def count_supervised(session: AsyncSession, org_id: uuid.UUID) -> int:
    """How many organizations name `org_id` as their supervising department."""
    query = select(func.count()).select_from(OrganizationRecord).where(OrganizationRecord.supervisor_id == org_id)
    return int((await session.execute(query)).scalar_one())


async def add(session: AsyncSession, record: OrganizationRecord) -> OrganizationRecord:
    session.add(record)
    await session.flush()
    return record


async def list_page(
    session: AsyncSession,
    page: PageRequest,
    *,
    visible_ids: Collection[uuid.UUID] | None,
    supervised_by: uuid.UUID | None,
    kind: str | None,
    region: str | None,
    supervisor_id: uuid.UUID | None,
) -> PageResult[OrganizationRecord]:
    """`visible_ids`/`supervised_by` restrict reach (None, None: everything)."""
    query = select(OrganizationRecord)
    if visible_ids is not None or supervised_by is not None:
        conditions: list[ColumnElement[bool]] = []
        if visible_ids is not None:
            conditions.append(OrganizationRecord.id.in_(list(visible_ids)))
        if supervised_by is not None:
            conditions.append(OrganizationRecord.supervisor_id == supervised_by)
        query = query.where(or_(*conditions))
    if kind:
        query = query.where(OrganizationRecord.kind == kind)
    if region:
        query = query.where(OrganizationRecord.region == region)
    if supervisor_id:
        query = query.where(OrganizationRecord.supervisor_id == supervisor_id)
    return await keyset_page(session, query, OrganizationRecord, page)


async def get_expert(session: AsyncSession, expert_id: uuid.UUID, *, for_update: bool = False) -> ExpertRecord | None:
    query = select(ExpertRecord).where(ExpertRecord.id == expert_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_experts(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ExpertRecord]:
    if not ids:
        return {}
    rows = (await session.execute(select(ExpertRecord).where(ExpertRecord.id.in_(list(ids))))).scalars()
    return {row.id: row for row in rows}


async def add_expert(session: AsyncSession, record: ExpertRecord) -> ExpertRecord:
    session.add(record)
    await session.flush()
    return record


async def list_experts(
    session: AsyncSession, page: PageRequest, *, category: str | None, field: str | None
) -> PageResult[ExpertRecord]:
    query = select(ExpertRecord)
    if category:
        query = query.where(ExpertRecord.category == category)
    if field:
        query = query.where(ExpertRecord.fields.contains([field]))
    return await keyset_page(session, query, ExpertRecord, page)


async def get_by_credit_code(session: AsyncSession, credit_code: str) -> OrganizationRecord | None:
    query = select(OrganizationRecord).where(OrganizationRecord.credit_code == credit_code)
    return (await session.execute(query)).scalar_one_or_none()
