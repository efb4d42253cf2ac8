"""Aggregate and bulk reads for statistics and exports, within a caller's reach."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, CenterRecord, OrganizationRecord
from app.db.repositories import applications as applications_repo
from app.db.repositories import centers as centers_repo

CENTER_GROUPS = {
    "field": CenterRecord.field,
    "status": CenterRecord.status,
    "grade": CenterRecord.grade,
    "region": OrganizationRecord.region,
}
APPLICATION_GROUPS = {
    "status": ApplicationRecord.status,
    "field": ApplicationRecord.field,
    "call_id": ApplicationRecord.call_id,
}


async def count_centers(session: AsyncSession, reach: centers_repo.Reach, group_by: str) -> list[tuple[Any, int]]:
    key = CENTER_GROUPS[group_by]
    # with_only_columns keeps only the grouped columns in FROM; name the centers table so the join has its left side.
    query = (
        centers_repo._query(reach)
        .with_only_columns(key, func.count())
        .select_from(CenterRecord)
        .group_by(key)
        .order_by(key)
    )
    if group_by == "region":
        query = query.join(OrganizationRecord, OrganizationRecord.id == CenterRecord.lead_org_id)
    return [(value, int(count)) for value, count in (await session.execute(query)).all()]


async def count_applications(
    session: AsyncSession, reach: applications_repo.Reach, group_by: str
) -> list[tuple[Any, int]]:
    key = APPLICATION_GROUPS[group_by]
    query = applications_repo._query(reach).with_only_columns(key, func.count()).group_by(key).order_by(key)
    return [(value, int(count)) for value, count in (await session.execute(query)).all()]


async def stream_centers(
    session: AsyncSession, reach: centers_repo.Reach
) -> AsyncIterator[tuple[CenterRecord, OrganizationRecord]]:
    query = (
        centers_repo._query(reach)
        .add_columns(OrganizationRecord)
        .join(OrganizationRecord, OrganizationRecord.id == CenterRecord.lead_org_id)
        .order_by(CenterRecord.code)
        .execution_options(yield_per=500)
    )
    async for center, lead in await session.stream(query):
        yield center, lead


async def stream_applications(
    session: AsyncSession,
    reach: applications_repo.Reach,
) -> AsyncIterator[tuple[ApplicationRecord, OrganizationRecord]]:
    query = (
        applications_repo._query(reach)
        .add_columns(OrganizationRecord)
        .join(OrganizationRecord, OrganizationRecord.id == ApplicationRecord.lead_org_id)
        .order_by(ApplicationRecord.created_at, ApplicationRecord.id)
        .execution_options(yield_per=500)
    )
    async for application, lead in await session.stream(query):
        yield application, lead
