"""SQL for centers."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    AnnualReportRecord,
    AssessmentCycleRecord,
    AssessmentEntryRecord,
    CenterRecord,
    ChangeRequestRecord,
    OrganizationRecord,
)
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page
from app.domain.deadlines import CenterTimeline


@dataclass(frozen=True)
class Reach:
    everything: bool = False
    lead_org_id: uuid.UUID | None = None
    supervised_by: uuid.UUID | None = None
    agency_org_id: uuid.UUID | None = None


def _condition(reach: Reach) -> ColumnElement[bool] | None:
    if reach.everything:
        return None
    if reach.lead_org_id is not None:
        return CenterRecord.lead_org_id == reach.lead_org_id
    if reach.supervised_by is not None:
        return CenterRecord.lead_org_id.in_(
            select(OrganizationRecord.id).where(OrganizationRecord.supervisor_id == reach.supervised_by)
        )
    if reach.agency_org_id is not None:
        entrusted = (
            select(AssessmentEntryRecord.center_id)
            .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
            .where(AssessmentCycleRecord.entrusted_to_org_id == reach.agency_org_id)
        )
        return or_(CenterRecord.acceptance_agency_org_id == reach.agency_org_id, CenterRecord.id.in_(entrusted))
    return CenterRecord.id.is_(None)


def _query(reach: Reach) -> Select[CenterRecord]:
    query = select(CenterRecord)
    condition = _condition(reach)
    return query if condition is None else query.where(condition)


async def get(
    session: AsyncSession, center_id: uuid.UUID, reach: Reach, *, for_update: bool = False
) -> CenterRecord | None:
    query = _query(reach).where(CenterRecord.id == center_id)
    if for_update:
        query = query.with_for_update(of=CenterRecord)
    return (await session.execute(query)).scalar_one_or_none()


async def add(session: AsyncSession, record: CenterRecord) -> CenterRecord:
    session.add(record)
    await session.flush()
    return record


async def count_with_code_prefix(session: AsyncSession, prefix: str) -> int:
    query = select(func.count()).select_from(CenterRecord).where(CenterRecord.code.startswith(prefix))
    return int((await session.execute(query)).scalar_one())


async def list_page(
    session: AsyncSession,
    page: PageRequest,
    reach: Reach,
    *,
    status: str | None,
    field: str | None,
    lead_org_id: uuid.UUID | None,
) -> PageResult[CenterRecord]:
    query = _query(reach)
    if status:
        query = query.where(CenterRecord.status == status)
    if field:
        query = query.where(CenterRecord.field == field)
    if lead_org_id:
        query = query.where(CenterRecord.lead_org_id == lead_org_id)
    return await keyset_page(session, query, CenterRecord, page)


async def all_in_reach(
    session: AsyncSession, reach: Reach, *, center_id: uuid.UUID | None = None
) -> list[CenterRecord]:
    query = _query(reach)
    if center_id is not None:
        query = query.where(CenterRecord.id == center_id)
    return list((await session.execute(query.order_by(CenterRecord.code))).scalars())


async def timelines_in_reach(
    session: AsyncSession, reach: Reach, *, center_id: uuid.UUID | None = None
) -> list[CenterTimeline]:
    """Only the dated columns the deadline rules need, as domain timelines (no full rows, no per-center parameters)."""
    columns = (
        CenterRecord.id,
        CenterRecord.status,
        CenterRecord.approved_on,
        CenterRecord.construction_starts_on,
        CenterRecord.construction_ends_on,
        CenterRecord.recognized_on,
        CenterRecord.rectifying_kind,
        CenterRecord.rectification_due_on,
        CenterRecord.last_assessed_on,
        CenterRecord.revoked_on,
        CenterRecord.exited_on,
    )
    query = _query(reach).with_only_columns(*columns)
    if center_id is not None:
        query = query.where(CenterRecord.id == center_id)
    return [
        CenterTimeline(
            center_id=str(row.id),
            status=row.status,
            approved_on=row.approved_on,
            construction_starts_on=row.construction_starts_on,
            construction_ends_on=row.construction_ends_on,
            recognized_on=row.recognized_on,
            rectifying_kind=row.rectifying_kind,
            rectification_due_on=row.rectification_due_on,
            last_assessed_on=row.last_assessed_on,
            ended_on=row.revoked_on if row.status == "revoked" else row.exited_on,
        )
        for row in (await session.execute(query.order_by(CenterRecord.code))).all()
    ]


async def report_years_in_reach(
    session: AsyncSession, reach: Reach, statuses: tuple[str, ...], *, center_id: uuid.UUID | None = None
) -> dict[str, set[int]]:
    """{center id: period years whose report is in one of `statuses`}, joined to the reach in SQL."""
    centers = _query(reach).with_only_columns(CenterRecord.id)
    if center_id is not None:
        centers = centers.where(CenterRecord.id == center_id)
    query = select(AnnualReportRecord.center_id, AnnualReportRecord.period_year).where(
        AnnualReportRecord.center_id.in_(centers.scalar_subquery()), AnnualReportRecord.status.in_(statuses)
    )
    out: dict[str, set[int]] = {}
    for report_center, year in (await session.execute(query)).all():
        out.setdefault(str(report_center), set()).add(year)
    return out


def ids_in_reach(reach: Reach) -> Select[tuple[uuid.UUID]]:
    """The reachable center ids as a subquery, for filters that would otherwise send one parameter per center."""
    return _query(reach).with_only_columns(CenterRecord.id)


# --- annual reports ---------------------------------------------------------------------------------------------


async def get_report(
    session: AsyncSession, center_id: uuid.UUID, report_id: uuid.UUID, *, for_update: bool = False
) -> AnnualReportRecord | None:
    query = select(AnnualReportRecord).where(
        AnnualReportRecord.id == report_id, AnnualReportRecord.center_id == center_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def report_for_year(session: AsyncSession, center_id: uuid.UUID, year: int) -> AnnualReportRecord | None:
    query = select(AnnualReportRecord).where(
        AnnualReportRecord.center_id == center_id, AnnualReportRecord.period_year == year
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_report(session: AsyncSession, record: AnnualReportRecord) -> AnnualReportRecord:
    session.add(record)
    await session.flush()
    return record


async def reports(session: AsyncSession, center_id: uuid.UUID, page: PageRequest) -> PageResult[AnnualReportRecord]:
    query = select(AnnualReportRecord).where(AnnualReportRecord.center_id == center_id)
    return await keyset_page(session, query, AnnualReportRecord, page)


async def report_years_by_status(session: AsyncSession, center_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[int, str]]:
    """{center_id: {period_year: status}} for many centers in one query."""
    out: dict[uuid.UUID, dict[int, str]] = {cid: {} for cid in center_ids}
    if not center_ids:
        return out
    query = select(AnnualReportRecord.center_id, AnnualReportRecord.period_year, AnnualReportRecord.status).where(
        AnnualReportRecord.center_id.in_(center_ids)
    )
    for center_id, year, status in (await session.execute(query)).all():
        out[center_id][year] = status
    return out


# --- change requests --------------------------------------------------------------------------------------------


async def get_change(
    session: AsyncSession, center_id: uuid.UUID, request_id: uuid.UUID, *, for_update: bool = False
) -> ChangeRequestRecord | None:
    query = select(ChangeRequestRecord).where(
        ChangeRequestRecord.id == request_id, ChangeRequestRecord.center_id == center_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def add_change(session: AsyncSession, record: ChangeRequestRecord) -> ChangeRequestRecord:
    session.add(record)
    await session.flush()
    return record


async def changes(session: AsyncSession, center_id: uuid.UUID, page: PageRequest) -> PageResult[ChangeRequestRecord]:
    query = select(ChangeRequestRecord).where(ChangeRequestRecord.center_id == center_id)
    return await keyset_page(session, query, ChangeRequestRecord, page)


async def count_recognized_in_year(session: AsyncSession, year: int) -> int:
    query = (
        select(func.count()).select_from(CenterRecord).where(CenterRecord.recognition_no.startswith(f"HNTIC-R-{year}-"))
    )
    return int((await session.execute(query)).scalar_one())


async def assessment_agencies(session: AsyncSession, center_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """{center_id: ids of the agencies entrusted with a cycle that includes it}, for many centers in one query."""
    out: dict[uuid.UUID, set[str]] = {cid: set() for cid in center_ids}
    if not center_ids:
        return out
    query = (
        select(AssessmentEntryRecord.center_id, AssessmentCycleRecord.entrusted_to_org_id)
        .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
        .where(AssessmentEntryRecord.center_id.in_(center_ids), AssessmentCycleRecord.entrusted_to_org_id.is_not(None))
    )
    for center_id, agency_id in (await session.execute(query)).all():
        out[center_id].add(str(agency_id))
    return out
