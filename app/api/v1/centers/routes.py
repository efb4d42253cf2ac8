"""Centers (技术创新中心): reading, task book, legal entity and governance, lifecycle actions, annual reports,
change requests, import and obligations."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import (
    IdempotencyDep,
    IfMatchDep,
    IsoDate,
    Page,
    PageDep,
    PrincipalDep,
    ProvinceDep,
    SessionDep,
    created,
    paginate,
    versioned,
)
from app.api.problems import responses
from app.api.v1.applications.routes import ClockDep
from app.api.v1.applications.schemas import TransitionRead
from app.api.v1.centers.schemas import (
    AnnualReportCreate,
    AnnualReportRead,
    AnnualReportUpdate,
    CenterActionBody,
    CenterImport,
    CenterRead,
    CenterUpdate,
    ChangeRequestCreate,
    ChangeRequestRead,
    ObligationsRead,
    ReasonBody,
    TaskBook,
    center_read,
)
from app.api.v1.common import ActionRead, FieldCode, action_reads
from app.domain.errors import InvalidTransition
from app.domain.principal import Principal
from app.services import actions, annual_reports, change_requests, obligations
from app.services import centers as service
from app.services.clock import Clock

router = APIRouter(prefix="/centers", tags=["centers"])
obligations_router = APIRouter(tags=["obligations"])


async def _center(session: AsyncSession, principal: Principal, record: Any, clock: Clock) -> CenterRead:
    """The center with the caller's allowed actions, from the same function as GET .../actions."""
    return center_read(record, await actions.center_allowed(session, principal, record, clock))


@router.get("", operation_id="list_centers", response_model=Page[CenterRead], responses=responses())
async def list_centers(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    field: Annotated[FieldCode | None, Query()] = None,
    lead_org_id: Annotated[uuid.UUID | None, Query()] = None,
    *,
    clock: ClockDep,
) -> dict[str, object]:
    """Centers within the caller's reach, oldest first."""
    result = await service.list_centers(session, principal, page, status=status, field=field, lead_org_id=lead_org_id)
    return paginate([await _center(session, principal, r, clock) for r in result.items], result.next_key)


@router.post(
    "/import",
    operation_id="import_center",
    status_code=201,
    response_model=CenterRead,
    responses=responses("not-found", "idempotency-key-reused"),
)
async def import_center(
    body: CenterImport, session: SessionDep, principal: ProvinceDep, idempotency: IdempotencyDep, clock: ClockDep
) -> JSONResponse:
    """Bring in a center that exists on paper (province); it then obeys every rule from its recorded dates."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    data = body.model_dump()
    if body.task_book is not None:
        data["task_book"] = body.task_book.model_dump(mode="json")
    record = await service.import_center(session, principal, data)
    out = await _center(session, principal, record, clock)
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/centers/{record.id}")
    )


@router.get("/{center_id}", operation_id="get_center", response_model=CenterRead, responses=responses("not-found"))
async def get_center(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> JSONResponse:
    """One center with its `ETag` and the caller's `allowed_actions`."""
    record = await service.get_center(session, principal, center_id)
    return versioned(await _center(session, principal, record, clock), record.version)


@router.patch(
    "/{center_id}",
    operation_id="update_center",
    response_model=CenterRead,
    responses=responses("not-found", "invalid-transition", "version-mismatch"),
)
async def update_center(
    center_id: uuid.UUID,
    body: CenterUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    expected_version: IfMatchDep,
    clock: ClockDep,
) -> JSONResponse:
    """Legal entity (人、财、物相对独立 → 独立法人) and governance, by the province or the lead, with `If-Match`;
    the entrusted acceptance agency, by the province."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    record = await service.update_center(session, principal, center_id, changes, expected_version)
    return versioned(await _center(session, principal, record, clock), record.version)


@router.put(
    "/{center_id}/task-book",
    operation_id="put_center_task_book",
    response_model=CenterRead,
    responses=responses("not-found", "rule-violation", "version-mismatch"),
)
async def put_center_task_book(
    center_id: uuid.UUID,
    body: TaskBook,
    session: SessionDep,
    principal: ProvinceDep,
    expected_version: IfMatchDep,
    clock: ClockDep,
) -> JSONResponse:
    """Draft the target task book (province) before it is signed; a signed one changes only by change request."""
    record = await service.put_task_book(session, principal, center_id, body.model_dump(mode="json"), expected_version)
    return versioned(await _center(session, principal, record, clock), record.version)


@router.get(
    "/{center_id}/actions",
    operation_id="list_center_actions",
    response_model=list[ActionRead],
    responses=responses("not-found"),
)
async def list_center_actions(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> list[ActionRead]:
    """Every action of the center lifecycle: `allowed` now, or `blocked_by` each failing guard (wrong state, wrong
    role, a due annual report not accepted, no independent legal entity, too early, already extended, ...)."""
    record = await service.get_center(session, principal, center_id)
    return action_reads(await actions.center_actions(session, principal, record, clock))


@router.get(
    "/{center_id}/history",
    operation_id="list_center_history",
    response_model=list[TransitionRead],
    responses=responses("not-found"),
)
async def list_center_history(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> list[TransitionRead]:
    """Every transition and change of the center, with the old values."""
    return [TransitionRead.model_validate(t) for t in await service.history(session, principal, center_id)]


CENTER_ACTIONS = {
    "sign_task_book": "Sign the task book (province): approved → under_construction; sets the construction dates "
    "(3 years by default) and records the task book's SHA-256.",
    "extend": "Extend construction once, before it ends, by 1–12 `months` with a `reason` (province).",
    "request_acceptance": "Request acceptance (lead): from 3 months before construction ends; needs every due annual "
    "report accepted and an independent legal entity.",
    "record_acceptance": "Record the acceptance `result` (province or the entrusted agency) with `decided_on` and "
    "`by_org_id`: passed → recognized; failed → rectifying (3 months); a second failure → revoked.",
    "record_rectification_review": "Record the rectification review after an assessment: passed → recognized, "
    "failed → revoked (failed_rectification).",
    "revoke": "Revoke (province) with `reason_code`, `reason` and `decided_on`.",
    "request_exit": "Ask to exit (lead), with a `reason`; the province decides.",
    "exit": "Approve the lead's exit request (province), with `decided_on`.",
}


def _center_action(action: str, description: str) -> None:
    async def act(
        center_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        body: Annotated[CenterActionBody | None, Body()] = None,
    ) -> JSONResponse:
        payload = body or CenterActionBody()
        try:
            record = await service.act(
                session,
                principal,
                center_id,
                action,
                service.CenterAction(
                    reason=payload.reason,
                    decided_on=payload.decided_on,
                    months=payload.months,
                    result=payload.result,
                    by_org_id=payload.by_org_id,
                    reason_code=payload.reason_code,
                    recover_funds=payload.recover_funds,
                ),
                clock=clock,
                expected_version=expected_version,
            )
        except InvalidTransition as exc:
            # A refusal lists what a GET would (guards included), not only what the state table permits.
            exc.allowed = await actions.center_allowed(
                session, principal, await service.get_center(session, principal, center_id), clock
            )
            raise
        return versioned(await _center(session, principal, record, clock), record.version)

    router.add_api_route(
        f"/{{center_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_center",
        response_model=CenterRead,
        summary=f"{action.replace('_', ' ').capitalize()} (center)",
        description=description,
        responses=responses("not-found", "invalid-transition", "rule-violation", "version-mismatch"),
    )


for _action, _description in CENTER_ACTIONS.items():
    _center_action(_action, _description)


# --- annual reports ---------------------------------------------------------------------------------------------


def _report(record: Any, principal: Principal) -> AnnualReportRead:
    out = AnnualReportRead.model_validate(record)
    out.allowed_actions = actions.report_allowed(principal, record)
    return out


@router.post(
    "/{center_id}/annual-reports",
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
    """Draft the annual report for `period_year` (lead): one per year, from the approval year; `kpi_actuals` are
    keyed by the task book's target codes. Due 31 January of the next year."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await annual_reports.create_report(session, principal, center_id, body.model_dump(mode="json"), clock)
    out = _report(record, principal)
    return await idempotency.respond(
        out,
        status_code=201,
        headers=created(out, record.version, f"/api/v1/centers/{center_id}/annual-reports/{record.id}"),
    )


@router.get(
    "/{center_id}/annual-reports",
    operation_id="list_annual_reports",
    response_model=Page[AnnualReportRead],
    responses=responses("not-found"),
)
async def list_annual_reports(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, object]:
    """The center's annual reports."""
    result = await annual_reports.list_reports(session, principal, center_id, page)
    return paginate([_report(r, principal) for r in result.items], result.next_key)


@router.get(
    "/{center_id}/annual-reports/{report_id}",
    operation_id="get_annual_report",
    response_model=AnnualReportRead,
    responses=responses("not-found"),
)
async def get_annual_report(
    center_id: uuid.UUID, report_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    """One annual report with `due_on` and `late`."""
    record = await annual_reports.get_report(session, principal, center_id, report_id)
    return versioned(_report(record, principal), record.version)


@router.get(
    "/{center_id}/annual-reports/{report_id}/actions",
    operation_id="list_annual_report_actions",
    response_model=list[ActionRead],
    responses=responses("not-found"),
)
async def list_annual_report_actions(
    center_id: uuid.UUID, report_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> list[ActionRead]:
    """Every action of the annual report lifecycle, allowed or blocked and why."""
    record = await annual_reports.get_report(session, principal, center_id, report_id)
    return action_reads(actions.report_actions(principal, record))


@router.patch(
    "/{center_id}/annual-reports/{report_id}",
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
    record = await annual_reports.update_report(session, principal, center_id, report_id, changes, expected_version)
    return versioned(_report(record, principal), record.version)


REPORT_ACTIONS = {
    "submit": "Submit (lead); `late` when submitted after `due_on` on the programme's calendar (Asia/Shanghai).",
    "endorse": "Endorse (supervising department, 审核) before the province receives it.",
    "accept": "Accept (province), after endorsement.",
    "return": "Return with a `reason`: the supervising department a submitted report, the province an endorsed one.",
}


def _report_action(action: str, description: str) -> None:
    async def act(
        center_id: uuid.UUID,
        report_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        body: Annotated[ReasonBody | None, Body()] = None,
    ) -> JSONResponse:
        record = await annual_reports.act(
            session,
            principal,
            center_id,
            report_id,
            action,
            reason=body.reason if body else None,
            clock=clock,
            expected_version=expected_version,
        )
        return versioned(_report(record, principal), record.version)

    router.add_api_route(
        f"/{{center_id}}/annual-reports/{{report_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_annual_report",
        response_model=AnnualReportRead,
        summary=f"{action.capitalize()} an annual report",
        description=description,
        responses=responses("not-found", "invalid-transition", "version-mismatch"),
    )


for _action, _description in REPORT_ACTIONS.items():
    _report_action(_action, _description)


# --- change requests --------------------------------------------------------------------------------------------


def _change(record: Any, principal: Principal) -> ChangeRequestRead:
    out = ChangeRequestRead.model_validate(record)
    out.allowed_actions = change_requests.allowed_actions(principal, record)
    return out


@router.post(
    "/{center_id}/change-requests",
    operation_id="create_change_request",
    status_code=201,
    response_model=ChangeRequestRead,
    responses=responses("not-found", "rule-violation", "idempotency-key-reused"),
)
async def create_change_request(
    center_id: uuid.UUID,
    body: ChangeRequestCreate,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """File a change (lead): name, lead organization or research direction need the province's approval; director
    and participants are filings acknowledged by the province after the supervisor's review."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await change_requests.create_change(session, principal, center_id, body.model_dump(mode="json"))
    out = _change(record, principal)
    return await idempotency.respond(
        out,
        status_code=201,
        headers=created(out, record.version, f"/api/v1/centers/{center_id}/change-requests/{record.id}"),
    )


@router.get(
    "/{center_id}/change-requests",
    operation_id="list_change_requests",
    response_model=Page[ChangeRequestRead],
    responses=responses("not-found"),
)
async def list_change_requests(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, object]:
    """The center's change requests, with the old values of approved ones."""
    result = await change_requests.list_changes(session, principal, center_id, page)
    return paginate([_change(r, principal) for r in result.items], result.next_key)


@router.get(
    "/{center_id}/change-requests/{request_id}",
    operation_id="get_change_request",
    response_model=ChangeRequestRead,
    responses=responses("not-found"),
)
async def get_change_request(
    center_id: uuid.UUID, request_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    """One change request."""
    record = await change_requests.get_change(session, principal, center_id, request_id)
    return versioned(_change(record, principal), record.version)


CHANGE_ACTIONS = {
    "endorse": "Review and endorse (supervising department).",
    "approve": "Approve (province): the change applies and the old value stays in the center's history; a new lead "
    "is re-checked against the current rule set.",
    "reject": "Reject with a `reason` (the supervising department before endorsement, the province after).",
}


def _change_action(action: str, description: str) -> None:
    async def act(
        center_id: uuid.UUID,
        request_id: uuid.UUID,
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        body: Annotated[ReasonBody | None, Body()] = None,
    ) -> JSONResponse:
        record = await change_requests.act(
            session,
            principal,
            center_id,
            request_id,
            action,
            reason=body.reason if body else None,
            clock=clock,
            current_rule_set=request.app.state.settings.current_rule_set,
            expected_version=expected_version,
        )
        return versioned(_change(record, principal), record.version)

    router.add_api_route(
        f"/{{center_id}}/change-requests/{{request_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_change_request",
        response_model=ChangeRequestRead,
        summary=f"{action.capitalize()} a change request",
        description=description,
        responses=responses("not-found", "invalid-transition", "ineligible", "version-mismatch"),
    )


for _action, _description in CHANGE_ACTIONS.items():
    _change_action(_action, _description)


# --- obligations ------------------------------------------------------------------------------------------------


@obligations_router.get(
    "/obligations", operation_id="list_obligations", response_model=ObligationsRead, responses=responses()
)
async def list_obligations(
    session: SessionDep,
    principal: PrincipalDep,
    as_of: Annotated[IsoDate, Query(description="The date to judge, YYYY-MM-DD (Asia/Shanghai calendar).")],
    center_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern="^(annual_report|acceptance|assessment|rectification)$")] = None,
    overdue: Annotated[bool | None, Query()] = None,
) -> ObligationsRead:
    """What each reachable center owes on `as_of` — annual reports, acceptance, assessment, rectification — and
    whether it is overdue, derived from recorded dates for any date, past or future."""
    items = await obligations.obligations_on(session, principal, as_of, center_id=center_id, kind=kind, overdue=overdue)
    return ObligationsRead.model_validate({"as_of": as_of, "items": [asdict(item) for item in items]})
