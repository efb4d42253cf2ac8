"""Annual reports (年度工作总结和计划): written by the lead, endorsed by the supervising department (审核), accepted
by the province. Due 31 January of period_year + 1; lateness is judged on the programme's calendar."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AnnualReportRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import centers as repo
from app.domain.deadlines import annual_report_due_on, first_report_year, is_late
from app.domain.errors import RuleViolation
from app.domain.lifecycles import ANNUAL_REPORT, CENTER
from app.domain.principal import Principal
from app.services import audit, lifecycle
from app.services.centers import load as load_center
from app.services.clock import Clock
from app.services.errors import AlreadyExists, InvalidReference, NotFound, ValidationFailed


def allowed_actions(principal: Principal, record: AnnualReportRecord) -> list[str]:
    return [] if principal.role == "observer" else ANNUAL_REPORT.allowed_actions(record.status, principal.role)


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


async def create_report(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, data: Mapping[str, Any], clock: Clock
) -> AnnualReportRecord:
    center = await load_center(session, principal, center_id, for_update=True)
    if principal.role != "applicant":
        raise NotFound("center", str(center_id))
    if center.status in CENTER.terminal:
        raise RuleViolation("center-closed", "中心已撤销或退出", "The center has been revoked or has exited.", {})
    year = int(data["period_year"])
    first = first_report_year(center.approved_on)
    if not first <= year <= clock.today().year:
        raise InvalidReference(
            loc=("body", "period_year"),
            msg=f"period_year must be between {first} (the approval year) and the current year",
        )
    _kpi_problems(data.get("kpi_actuals") or {}, center.task_book)
    if await repo.report_for_year(session, center.id, year) is not None:
        raise AlreadyExists("annual report", "period_year", str(year))
    record = AnnualReportRecord(
        id=uuid.uuid4(),
        center_id=center.id,
        period_year=year,
        summary=data["summary"],
        kpi_actuals=dict(data.get("kpi_actuals") or {}),
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
    if principal.role != "applicant" or record.status not in ("draft", "returned"):
        from app.domain.errors import InvalidTransition

        raise InvalidTransition(current=record.status, action="update", allowed=allowed_actions(principal, record))
    lifecycle.check_version(expected_version, record.version)
    if "kpi_actuals" in changes:
        _kpi_problems(changes["kpi_actuals"] or {}, center.task_book)
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
    await load_center(session, principal, center_id)
    record = await repo.get_report(session, center_id, report_id, for_update=True)
    if record is None:
        raise NotFound("annual report", str(report_id))
    to_status = lifecycle.decide(ANNUAL_REPORT, record, action, principal, expected_version=expected_version)
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
