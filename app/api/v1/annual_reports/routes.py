"""Annual reports (年度工作总结和计划) of a center: written by the lead, endorsed by the supervising department (the
province for a lead without one), accepted by the province."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import (
    ClockDep,
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    PrincipalDep,
    SessionDep,
    created,
    paginate,
    versioned,
)
from app.api.problems import responses
from app.api.v1.centers.schemas import AnnualReportCreate, AnnualReportRead, AnnualReportUpdate
from app.api.v1.common import ActionBody, ActionRead, action_reads
from app.domain.principal import Principal
from app.services import annual_reports as service
from app.services import centers as centers_service

router = APIRouter(prefix="/centers/{center_id}/annual-reports", tags=["annual reports"])


async def _reads(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, records: Sequence[Any]
) -> list[AnnualReportRead]:
    allowed = await service.allowed_of(session, principal, center_id, records)
    out = []
    for record in records:
        read = AnnualReportRead.model_validate(record)
        read.allowed_actions = allowed[record.id]
        out.append(read)
    return out


async def _read(session: AsyncSession, principal: Principal, center_id: uuid.UUID, record: Any) -> AnnualReportRead:
    return (await _reads(session, principal, center_id, [record]))[0]


@router.post(
    "",
    operation_id="create_annual_report",
    status_code=201,
    response_model=AnnualReportRead,
    responses=responses("not-found", "already-exists", "rule-violation", "idempotency-key-reused"),
)
async def create_annual_report(
    center_id: uuid.UUID,
    body: AnnualReportCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Draft the annual report for `period_year` (lead): one per finished year, from the approval year;
    `kpi_actuals` are keyed by the task book's target codes. Due 31 January of the next year."""
    # Reach before replay: a replay must never answer a caller who could not create here now.
    await centers_service.load_for_filing(session, principal, center_id)
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.create_report(session, principal, center_id, body.model_dump(mode="json"), clock)
    out = await _read(session, principal, center_id, record)
    return await idempotency.respond(
        out,
        status_code=201,
        headers=created(out, record.version, f"/api/v1/centers/{center_id}/annual-reports/{record.id}"),
    )


@router.get(
    "",
    operation_id="list_annual_reports",
    response_model=Page[AnnualReportRead],
    responses=responses("not-found"),
)
async def list_annual_reports(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, object]:
    """The center's annual reports."""
    result = await service.list_reports(session, principal, center_id, page)
    return paginate(await _reads(session, principal, center_id, result.items), result.next_key)


@router.get(
    "/{report_id}",
    operation_id="get_annual_report",
    response_model=AnnualReportRead,
    responses=responses("not-found"),
)
async def get_annual_report(
    center_id: uuid.UUID, report_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    """One annual report with `due_on` and `late`."""
    record = await service.get_report(session, principal, center_id, report_id)
    return versioned(await _read(session, principal, center_id, record), record.version)


# Not a page: one item per action of the lifecycle's table, a handful whatever the data (issue 12).
@router.get(
    "/{report_id}/actions",
    operation_id="list_annual_report_actions",
    response_model=list[ActionRead],
    responses=responses("not-found"),
)
async def list_annual_report_actions(
    center_id: uuid.UUID, report_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> list[ActionRead]:
    """Every action of the annual report lifecycle, allowed or blocked and why."""
    return action_reads(await service.action_views(session, principal, center_id, report_id))


@router.patch(
    "/{report_id}",
    operation_id="update_annual_report",
    response_model=AnnualReportRead,
    responses=responses("not-found", "invalid-transition", "version-mismatch"),
)
async def update_annual_report(
    center_id: uuid.UUID,
    report_id: uuid.UUID,
    body: AnnualReportUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    expected_version: IfMatchDep,
) -> JSONResponse:
    """Edit a draft or returned report (lead)."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    record = await service.update_report(session, principal, center_id, report_id, changes, expected_version)
    return versioned(await _read(session, principal, center_id, record), record.version)


REPORT_ACTIONS = {
    "submit": "Submit (lead); `late` when submitted after `due_on` on the programme's calendar (Asia/Shanghai).",
    "endorse": "Endorse (supervising department, 审核; the province for a lead without one) before the province "
    "receives it.",
    "accept": "Accept (province), after endorsement.",
    "return": "Return with a `reason`: the supervising department (or the province for a lead without one) a "
    "submitted report, the province an endorsed one.",
}


def _report_action(action: str, description: str) -> None:
    async def act(
        center_id: uuid.UUID,
        report_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        body: Annotated[ActionBody | None, Body()] = None,
    ) -> JSONResponse:
        record = await service.act(
            session,
            principal,
            center_id,
            report_id,
            action,
            reason=body.reason if body else None,
            clock=clock,
            expected_version=expected_version,
        )
        return versioned(await _read(session, principal, center_id, record), record.version)

    router.add_api_route(
        f"/{{report_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_annual_report",
        response_model=AnnualReportRead,
        summary=f"{action.capitalize()} an annual report",
        description=description,
        responses=responses("not-found", "invalid-transition", "rule-violation", "version-mismatch"),
    )


for _action, _description in REPORT_ACTIONS.items():
    _report_action(_action, _description)
