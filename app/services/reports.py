"""Statistics and spreadsheet exports, always within the caller's reach."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import figures as figures_repo
from app.db.repositories import reports as repo
from app.domain import reference as ref
from app.domain.principal import Principal
from app.services import applications, centers
from app.services.errors import NotFound

CENTER_COLUMNS: Sequence[str] = (
    "编号",
    "名称",
    "技术领域",
    "牵头单位",
    "统一社会信用代码",
    "所在地区",
    "状态",
    "批准日期",
    "批准文号",
    "建设开始日期",
    "建设结束日期",
    "认定日期",
    "认定编号",
    "考核等级",
)
APPLICATION_COLUMNS: Sequence[str] = (
    "申报编号",
    "拟建中心名称",
    "技术领域",
    "组建模式",
    "牵头单位",
    "所在地区",
    "一事一议",
    "状态",
    "提交时间",
    "评审得分",
    "批准日期",
    "批准文号",
)


def _label(table: tuple[ref.Code, ...], code: str | None) -> str:
    return ref.label_zh(table, code)


async def center_counts(session: AsyncSession, principal: Principal, group_by: str) -> list[tuple[Any, int]]:
    return await repo.count_centers(session, centers.reach_of(principal), group_by)


async def application_counts(session: AsyncSession, principal: Principal, group_by: str) -> list[tuple[Any, int]]:
    return await repo.count_applications(session, applications.reach_of(principal), group_by)


async def figure_sums(
    session: AsyncSession, principal: Principal, *, group_by: str, year: int | None, status: str | None
) -> list[dict[str, Any]]:
    """Sums of the accepted reports' figures within the caller's reach (an expert reaches no center)."""
    return await figures_repo.figure_sums(
        session, centers.reach_of(principal), group_by=group_by, year=year, status=status
    )


def check_exporter(principal: Principal) -> None:
    if principal.role == "expert":
        raise NotFound("export", "*")


async def center_rows(session: AsyncSession, principal: Principal) -> AsyncIterator[list[Any]]:
    check_exporter(principal)
    async for center, lead in repo.stream_centers(session, centers.reach_of(principal)):
        yield [
            center.code,
            center.name,
            _label(ref.FIELDS, center.field),
            lead.name,
            lead.credit_code,
            lead.region or "",
            _label(ref.CENTER_STATUSES, center.status),
            center.approved_on,
            center.approval_document_no,
            center.construction_starts_on,
            center.construction_ends_on,
            center.recognized_on,
            center.recognition_no or "",
            _label(ref.GRADES, center.grade),
        ]


async def application_rows(session: AsyncSession, principal: Principal) -> AsyncIterator[list[Any]]:
    check_exporter(principal)
    async for application, lead in repo.stream_applications(session, applications.reach_of(principal)):
        yield [
            str(application.id),
            application.proposed_name,
            _label(ref.FIELDS, application.field),
            _label(ref.FORMATION_MODES, application.formation_mode),
            lead.name,
            lead.region or "",
            "是" if application.fast_track else "否",
            _label(ref.APPLICATION_STATUSES, application.status),
            application.submitted_at,
            application.aggregate_score,
            application.decision_date,
            application.document_no or "",
        ]
