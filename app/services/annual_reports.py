"""Annual reports (年度工作总结和计划): written by the lead, endorsed by the supervising department (审核), accepted
by the province. Due 31 January of period_year + 1; lateness is judged on the programme's calendar."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AnnualReportRecord, CenterRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import centers as repo
from app.db.repositories import organizations as orgs_repo
from app.domain import annual_figures
from app.domain import annual_reports as report_rules
from app.domain.deadlines import annual_report_due_on, is_late
from app.domain.errors import RuleViolation
from app.domain.guards import ActionView, refusal
from app.domain.lifecycles import ANNUAL_REPORT, CENTER
from app.domain.principal import Principal
from app.services import audit, lifecycle
from app.services.centers import load as load_center
from app.services.centers import load_for_filing
from app.services.clock import Clock
from app.services.errors import AlreadyExists, InvalidReference, NotFound, ValidationFailed


async def lead_has_supervisor(session: AsyncSession, center: CenterRecord) -> bool:
    lead = await orgs_repo.get(session, center.lead_org_id)
    return lead is None or lead.supervisor_id is not None


async def facts_of(
    session: AsyncSession, center: CenterRecord, records: Sequence[AnnualReportRecord]
) -> dict[uuid.UUID, report_rules.ReportFacts]:
    """The guard facts of a center's reports: one look-up of the lead's supervising department for all of them."""
    supervised = await lead_has_supervisor(session, center)
    return {r.id: report_rules.ReportFacts(status=r.status, lead_has_supervisor=supervised) for r in records}


async def allowed_of(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, records: Sequence[AnnualReportRecord]
) -> dict[uuid.UUID, list[str]]:
    center = await load_center(session, principal, center_id)
    facts = await facts_of(session, center, records)
    return {r.id: report_rules.LIFECYCLE.allowed(principal, facts[r.id]) for r in records}


async def action_views(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, report_id: uuid.UUID
) -> list[ActionView]:
    center = await load_center(session, principal, center_id)
    record = await repo.get_report(session, center_id, report_id)
    if record is None:
        raise NotFound("annual report", str(report_id))
    return report_rules.LIFECYCLE.views(principal, (await facts_of(session, center, [record]))[record.id])


def _target_codes(task_book: Mapping[str, Any] | None) -> set[str]:
    return {t["code"] for t in (task_book or {}).get("targets", [])}


def _kpi_problems(kpi_actuals: Mapping[str, Any], task_book: Mapping[str, Any] | None) -> None:
    known = _target_codes(task_book)
    unknown = [code for code in kpi_actuals if code not in known]
    if unknown:
        raise ValidationFailed(
            [
                (("body", "kpi_actuals", code), "not a target code of the signed task book", "unknown_target")
                for code in unknown
            ]
        )


def _check_figures(figures: Mapping[str, Any] | None) -> None:
    if figures is not None and (problems := annual_figures.figures_errors(figures)):
        raise ValidationFailed([(p.loc, p.msg, p.type) for p in problems])


async def create_report(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, data: Mapping[str, Any], clock: Clock
) -> AnnualReportRecord:
    center = await load_for_filing(session, principal, center_id, for_update=True)
    if center.status in CENTER.terminal:
        raise RuleViolation("center-closed", "中心已撤销或退出", "The center has been revoked or has exited.", {})
    year = int(data["period_year"])
    problem = report_rules.period_year_problem(year, approved_on=center.approved_on, today=clock.today())
    if problem:
        raise InvalidReference(loc=("body", "period_year"), msg=problem)
    _kpi_problems(data.get("kpi_actuals") or {}, center.task_book)
    _check_figures(data.get("figures"))
    if await repo.report_for_year(session, center.id, year) is not None:
        raise AlreadyExists("annual report", "period_year", str(year))
    record = AnnualReportRecord(
        id=uuid.uuid4(),
        center_id=center.id,
        period_year=year,
        summary=data["summary"],
        kpi_actuals=dict(data.get("kpi_actuals") or {}),
        figures=data.get("figures"),
        plan_next_year=data["plan_next_year"],
        status=ANNUAL_REPORT.initial,
        due_on=annual_report_due_on(year),
    )
    await repo.add_report(session, record)
    await audit.record_transition(
        session,
        principal,
        subject_type="annual_report",
        subject_id=record.id,
        action="create",
        from_status=None,
        to_status=record.status,
        data={"center_id": str(center.id), "period_year": year},
    )
    return record


async def get_report(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, report_id: uuid.UUID
) -> AnnualReportRecord:
    await load_center(session, principal, center_id)
    record = await repo.get_report(session, center_id, report_id)
    if record is None:
        raise NotFound("annual report", str(report_id))
    return record


async def list_reports(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, page: PageRequest
) -> PageResult[AnnualReportRecord]:
    await load_center(session, principal, center_id)
    return await repo.reports(session, center_id, page)


async def update_report(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    report_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> AnnualReportRecord:
    center = await load_center(session, principal, center_id)
    record = await repo.get_report(session, center_id, report_id, for_update=True)
    if record is None:
        raise NotFound("annual report", str(report_id))
    if blockers := report_rules.update_blockers(principal, record.status):
        facts = (await facts_of(session, center, [record]))[record.id]
        raise refusal(record.status, "update", blockers, report_rules.LIFECYCLE.allowed(principal, facts))
    lifecycle.check_version(expected_version, record.version)
    if "kpi_actuals" in changes:
        _kpi_problems(changes["kpi_actuals"] or {}, center.task_book)
    _check_figures(changes.get("figures"))
    for key, value in changes.items():
        setattr(record, key, value)
    await session.flush()
    return record


async def act(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    report_id: uuid.UUID,
    action: str,
    *,
    reason: str | None,
    clock: Clock,
    expected_version: int | None,
) -> AnnualReportRecord:
    center = await load_center(session, principal, center_id)
    record = await repo.get_report(session, center_id, report_id, for_update=True)
    if record is None:
        raise NotFound("annual report", str(report_id))
    report_rules.LIFECYCLE.check(action, principal, (await facts_of(session, center, [record]))[record.id])
    lifecycle.check_version(expected_version, record.version)
    to_status = ANNUAL_REPORT.decide(record.status, action, principal.role)
    data: dict[str, Any] = {"center_id": str(center_id), "period_year": record.period_year}
    if action == "return" and not reason:
        raise InvalidReference(loc=("body", "reason"), msg="a reason is required to return a report", type="missing")
    if action == "submit":
        now = clock.now()
        if record.submitted_at is None:  # the first submission decides lateness; a resubmission keeps it
            record.submitted_at = now
            record.late = is_late(now, record.due_on, clock.tz)
        data["late"] = record.late
    await lifecycle.apply(
        session,
        principal,
        record,
        subject_type="annual_report",
        action=action,
        to_status=to_status,
        reason=reason,
        data=data,
    )
    return record
