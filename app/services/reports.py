"""Statistics and spreadsheet exports, always within the caller's reach."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
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


FIGURE_COLUMNS: Sequence[str] = (
    "编号",
    "名称",
    "技术领域",
    "所在地区",
    "状态",
    "年度",
    "研发经费（万元）",
    "职工总数",
    "研发人员",
    "发明专利申请",
    "发明专利授权",
    "PCT申请",
    "主导制定标准",
    "国家级项目",
    "省级项目",
    "项目经费（万元）",
    "孵化企业",
    "服务企业",
    "技术转移收入（万元）",
    "平台服务收入（万元）",
    "大型仪器共享机时",
)


async def figure_rows(session: AsyncSession, principal: Principal) -> AsyncIterator[list[Any]]:
    """One row per accepted annual report with figures, money as exact decimals."""
    check_exporter(principal)
    async for report, center, lead in figures_repo.stream_figures(session, centers.reach_of(principal)):
        f = report.figures or {}
        projects = f.get("projects", [])
        yield [
            center.code,
            center.name,
            _label(ref.FIELDS, center.field),
            lead.region or "",
            _label(ref.CENTER_STATUSES, center.status),
            report.period_year,
            Decimal(f["rd_spend"]),
            f["staff_total"],
            f["rd_staff"],
            f["invention_patents_filed"],
            f["invention_patents_granted"],
            f["pct_filings"],
            f["standards_led"],
            sum(1 for p in projects if p["level"] == "national"),
            sum(1 for p in projects if p["level"] == "provincial"),
            sum((Decimal(p["amount"]) for p in projects), Decimal(0)),
            f["incubated_enterprises"],
            f["served_enterprises"],
            Decimal(f["tech_transfer_income"]),
            Decimal(f["platform_income"]),
            f["shared_equipment_hours"],
        ]


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
