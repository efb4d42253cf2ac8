"""SQL for assessment cycles, their entries and funding."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AssessmentCycleRecord, AssessmentEntryRecord, CenterRecord, FundingRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page
from app.domain.assessment_cycles import Membership, Period


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


async def candidate_centers(session: AsyncSession) -> list[CenterRecord]:
    """Centers that may be due in a new cycle (recognized, or rectifying), locked, in code order.
    `app.domain.assessment_cycles.due_in` decides which of them are."""
    query = select(CenterRecord).where(CenterRecord.status.in_(("recognized", "rectifying")))
    return list((await session.execute(query.order_by(CenterRecord.code).with_for_update())).scalars())


async def memberships(session: AsyncSession, center_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Membership]]:
    """Every cycle, open or finalized, each center already belongs to: one query for all of them."""
    query = (
        select(
            AssessmentEntryRecord.center_id,
            AssessmentCycleRecord.period_start_year,
            AssessmentCycleRecord.period_end_year,
            AssessmentCycleRecord.status,
        )
        .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
        .where(AssessmentEntryRecord.center_id.in_(list(center_ids)))
    )
    out: dict[uuid.UUID, list[Membership]] = {center_id: [] for center_id in center_ids}
    for center_id, start, end, status in (await session.execute(query)).all():
        out[center_id].append(Membership(Period(start, end), open=status == "open"))
    return out


async def add_entries(session: AsyncSession, cycle_id: uuid.UUID, center_ids: Collection[uuid.UUID]) -> None:
    for center_id in center_ids:
        session.add(AssessmentEntryRecord(cycle_id=cycle_id, center_id=center_id))
    await session.flush()


async def entries(
    session: AsyncSession, cycle_id: uuid.UUID, *, lock_centers: bool = False
) -> list[tuple[AssessmentEntryRecord, CenterRecord]]:
    """The cycle's entries with their centers, in code order; `lock_centers` locks the center rows (in that order)."""
    query = (
        select(AssessmentEntryRecord, CenterRecord)
        .join(CenterRecord, CenterRecord.id == AssessmentEntryRecord.center_id)
        .where(AssessmentEntryRecord.cycle_id == cycle_id)
        .order_by(CenterRecord.code)
    )
    if lock_centers:
        query = query.with_for_update(of=CenterRecord)
    return [(entry, center) for entry, center in (await session.execute(query)).all()]


async def entries_page(
    session: AsyncSession, cycle_id: uuid.UUID, *, after_code: str | None, limit: int
) -> list[tuple[AssessmentEntryRecord, CenterRecord]]:
    """Up to `limit` entries of the cycle with their centers, in code order after the center coded `after_code`."""
    query = (
        select(AssessmentEntryRecord, CenterRecord)
        .join(CenterRecord, CenterRecord.id == AssessmentEntryRecord.center_id)
        .where(AssessmentEntryRecord.cycle_id == cycle_id)
    )
    if after_code is not None:
        query = query.where(CenterRecord.code > after_code)
    rows = (await session.execute(query.order_by(CenterRecord.code).limit(limit))).all()
    return [(entry, center) for entry, center in rows]


async def entries_of(
    session: AsyncSession, cycle_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[AssessmentEntryRecord, CenterRecord]]]:
    """The entries of several cycles in one query, by cycle, each in code order."""
    query = (
        select(AssessmentEntryRecord, CenterRecord)
        .join(CenterRecord, CenterRecord.id == AssessmentEntryRecord.center_id)
        .where(AssessmentEntryRecord.cycle_id.in_(list(cycle_ids)))
        .order_by(CenterRecord.code)
    )
    out: dict[uuid.UUID, list[tuple[AssessmentEntryRecord, CenterRecord]]] = {cycle_id: [] for cycle_id in cycle_ids}
    for entry, center in (await session.execute(query)).all():
        out[entry.cycle_id].append((entry, center))
    return out


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


async def assessed_on_by_center(session: AsyncSession, center_ids: Sequence[uuid.UUID]) -> dict[str, list[date]]:
    """{center id: decision dates of the finalized cycles that graded it}, for `center_ids`."""
    query = (
        select(AssessmentEntryRecord.center_id, AssessmentCycleRecord.decided_on)
        .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
        .where(
            AssessmentEntryRecord.center_id.in_(list(center_ids)),
            AssessmentEntryRecord.grade.is_not(None),
            AssessmentCycleRecord.status == "finalized",
            AssessmentCycleRecord.decided_on.is_not(None),
        )
        .order_by(AssessmentEntryRecord.center_id, AssessmentCycleRecord.decided_on)
    )
    out: dict[str, list[date]] = {}
    for center_id, decided_on in (await session.execute(query)).all():
        if decided_on is not None:  # excluded in SQL; this narrows the type
            out.setdefault(str(center_id), []).append(decided_on)
    return out


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
