"""SQL for the structured figures of annual reports: a center's reports over a cycle, and sums for statistics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import BigInteger, Numeric, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AnnualReportRecord, AssessmentEntryRecord, CenterRecord, OrganizationRecord
from app.db.repositories import centers as centers_repo
from app.domain.annual_figures import COUNT_FIELDS, MONEY_FIELDS


async def entry_with_center(
    session: AsyncSession, cycle_id: uuid.UUID, center_id: uuid.UUID
) -> tuple[AssessmentEntryRecord, CenterRecord] | None:
    query = (
        select(AssessmentEntryRecord, CenterRecord)
        .join(CenterRecord, CenterRecord.id == AssessmentEntryRecord.center_id)
        .where(AssessmentEntryRecord.cycle_id == cycle_id, AssessmentEntryRecord.center_id == center_id)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def reports_between(
    session: AsyncSession, center_id: uuid.UUID, first: int, last: int
) -> list[AnnualReportRecord]:
    """The center's reports for the years first..last, whatever their state, oldest first (at most one a year)."""
    query = (
        select(AnnualReportRecord)
        .where(
            AnnualReportRecord.center_id == center_id,
            AnnualReportRecord.period_year >= first,
            AnnualReportRecord.period_year <= last,
        )
        .order_by(AnnualReportRecord.period_year)
    )
    return list((await session.execute(query)).scalars().all())


FIGURE_GROUPS = {
    "field": CenterRecord.field,
    "region": OrganizationRecord.region,
    "year": AnnualReportRecord.period_year,
}


async def figure_sums(
    session: AsyncSession,
    reach: centers_repo.Reach,
    *,
    group_by: str,
    year: int | None,
    status: str | None,
) -> list[dict[str, Any]]:
    """Per group, then the total over all groups (the row whose `total` is true, from ROLLUP): the accepted reports
    with figures, their distinct centers, and every figure summed exactly in SQL (money as NUMERIC, counts as
    BIGINT, projects counted). One statement."""
    key = FIGURE_GROUPS[group_by]
    figures = AnnualReportRecord.figures
    columns: list[Any] = [
        key.label("key"),
        (func.grouping(key) == 1).label("total"),
        func.count().label("reports"),
        func.count(func.distinct(CenterRecord.id)).label("centers"),
        *(func.coalesce(func.sum(cast(figures[name].astext, Numeric(20, 2))), 0).label(name) for name in MONEY_FIELDS),
        *(func.coalesce(func.sum(cast(figures[name].astext, BigInteger)), 0).label(name) for name in COUNT_FIELDS),
        func.coalesce(func.sum(func.jsonb_array_length(figures["projects"])), 0).label("projects"),
    ]
    query = (
        select(*columns)
        .select_from(AnnualReportRecord)
        .join(CenterRecord, CenterRecord.id == AnnualReportRecord.center_id)
        .join(OrganizationRecord, OrganizationRecord.id == CenterRecord.lead_org_id)
        .where(AnnualReportRecord.status == "accepted", AnnualReportRecord.figures.is_not(None))
        .group_by(func.rollup(key))
        .order_by(func.grouping(key), key)
    )
    condition = centers_repo._condition(reach)
    if condition is not None:
        query = query.where(condition)
    if year is not None:
        query = query.where(AnnualReportRecord.period_year == year)
    if status is not None:
        query = query.where(CenterRecord.status == status)
    return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def stream_figures(
    session: AsyncSession, reach: centers_repo.Reach
) -> AsyncIterator[tuple[AnnualReportRecord, CenterRecord, OrganizationRecord]]:
    """Accepted reports with figures within reach, with their center and lead, by center code and year."""
    query = (
        select(AnnualReportRecord, CenterRecord, OrganizationRecord)
        .join(CenterRecord, CenterRecord.id == AnnualReportRecord.center_id)
        .join(OrganizationRecord, OrganizationRecord.id == CenterRecord.lead_org_id)
        .where(AnnualReportRecord.status == "accepted", AnnualReportRecord.figures.is_not(None))
        .order_by(CenterRecord.code, AnnualReportRecord.period_year)
        .execution_options(yield_per=500)
    )
    condition = centers_repo._condition(reach)
    if condition is not None:
        query = query.where(condition)
    async for report, center, lead in await session.stream(query):
        yield report, center, lead
