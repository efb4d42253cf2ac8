"""SQL for assessment cycles, their entries and funding."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AssessmentCycleRecord, AssessmentEntryRecord, CenterRecord, FundingRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page


async def get_cycle(
    session: AsyncSession, cycle_id: uuid.UUID, *, entrusted_to: uuid.UUID | None = None, for_update: bool = False
) -> AssessmentCycleRecord | None:
    query = select(AssessmentCycleRecord).where(AssessmentCycleRecord.id == cycle_id)
    if entrusted_to is not None:
        query = query.where(AssessmentCycleRecord.entrusted_to_org_id == entrusted_to)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def add(session: AsyncSession, record: AssessmentCycleRecord) -> AssessmentCycleRecord:
    session.add(record)
    await session.flush()
    return record


async def list_cycles(
    session: AsyncSession, page: PageRequest, *, entrusted_to: uuid.UUID | None
) -> PageResult[AssessmentCycleRecord]:
    query = select(AssessmentCycleRecord)
    if entrusted_to is not None:
        query = query.where(AssessmentCycleRecord.entrusted_to_org_id == entrusted_to)
    return await keyset_page(session, query, AssessmentCycleRecord, page)


async def due_centers(session: AsyncSession, *, recognized_by: object) -> list[CenterRecord]:
    """Recognized by the given date, or rectifying after an assessment; not already in an open cycle."""
    in_open_cycle = (
        select(AssessmentEntryRecord.center_id)
        .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
        .where(AssessmentCycleRecord.status == "open")
    )
    query = select(CenterRecord).where(
        or_(
            and_(CenterRecord.status == "recognized", CenterRecord.recognized_on <= recognized_by),
            and_(CenterRecord.status == "rectifying", CenterRecord.rectifying_kind == "assessment"),
        ),
        CenterRecord.id.not_in(in_open_cycle),
    )
    return list((await session.execute(query.order_by(CenterRecord.code).with_for_update())).scalars())


async def add_entries(session: AsyncSession, cycle_id: uuid.UUID, center_ids: Collection[uuid.UUID]) -> None:
    for center_id in center_ids:
        session.add(AssessmentEntryRecord(cycle_id=cycle_id, center_id=center_id))
    await session.flush()


async def entries(session: AsyncSession, cycle_id: uuid.UUID) -> list[tuple[AssessmentEntryRecord, CenterRecord]]:
    query = (
        select(AssessmentEntryRecord, CenterRecord)
        .join(CenterRecord, CenterRecord.id == AssessmentEntryRecord.center_id)
        .where(AssessmentEntryRecord.cycle_id == cycle_id)
        .order_by(CenterRecord.code)
    )
    return [(entry, center) for entry, center in (await session.execute(query)).all()]


async def entry(
    session: AsyncSession, cycle_id: uuid.UUID, center_id: uuid.UUID, *, for_update: bool = False
) -> AssessmentEntryRecord | None:
    query = select(AssessmentEntryRecord).where(
        AssessmentEntryRecord.cycle_id == cycle_id, AssessmentEntryRecord.center_id == center_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def entrusted_center_ids(session: AsyncSession, org_id: uuid.UUID) -> list[uuid.UUID]:
    query = (
        select(AssessmentEntryRecord.center_id)
        .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
        .where(AssessmentCycleRecord.entrusted_to_org_id == org_id)
    )
    return list((await session.execute(query)).scalars())


# --- funding ------------------------------------------------------------------------------------------------


async def add_funding(session: AsyncSession, record: FundingRecord) -> FundingRecord:
    session.add(record)
    await session.flush()
    return record


async def funding_of(session: AsyncSession, center_id: uuid.UUID, page: PageRequest) -> PageResult[FundingRecord]:
    return await keyset_page(
        session, select(FundingRecord).where(FundingRecord.center_id == center_id), FundingRecord, page
    )


async def funding_summary(
    session: AsyncSession, *, year: int | None, within: Select[tuple[uuid.UUID]] | None
) -> list[tuple[str, str, Decimal, int]]:
    """(kind, field, total 万元, count) rows, for the centers `within` selects (all when None)."""
    query = (
        select(FundingRecord.kind, CenterRecord.field, func.sum(FundingRecord.amount_wan), func.count())
        .join(CenterRecord, CenterRecord.id == FundingRecord.center_id)
        .group_by(FundingRecord.kind, CenterRecord.field)
        .order_by(FundingRecord.kind, CenterRecord.field)
    )
    if year is not None:
        query = query.where(FundingRecord.year == year)
    if within is not None:
        query = query.where(FundingRecord.center_id.in_(within.scalar_subquery()))
    return [
        (kind, field, Decimal(total), int(count)) for kind, field, total, count in (await session.execute(query)).all()
    ]
