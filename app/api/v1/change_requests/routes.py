"""Change requests (变更) of a center: the lead files, the supervising department reviews (the province for a lead
without one), the province approves or acknowledges."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import (
    ClockDep,
    CurrentRuleSetDep,
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
from app.api.v1.centers.schemas import ChangeRequestCreate, ChangeRequestRead, TaskBook
from app.api.v1.common import ActionBody, ActionRead, action_reads
from app.domain.principal import Principal
from app.services import centers as centers_service
from app.services import change_requests as service
from app.services.clock import Clock

router = APIRouter(prefix="/centers/{center_id}/change-requests", tags=["change requests"])


def _task_book(value: Any) -> dict[str, Any]:
    """A `task_book` change carries a whole task book, validated as the task-book PUT validates one."""
    try:
        return TaskBook.model_validate(value).model_dump(mode="json")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", "new_value", *error["loc"])} for error in exc.errors()]
        ) from exc


async def _reads(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    records: Sequence[Any],
    clock: Clock,
    current_rule_set: str,
) -> list[ChangeRequestRead]:
    allowed = await service.allowed_of(session, principal, center_id, records, clock, current_rule_set)
    out = []
    for record in records:
        read = ChangeRequestRead.model_validate(record)
        read.allowed_actions = allowed[record.id]
        out.append(read)
    return out


@router.post(
    "",
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
    clock: ClockDep,
    current_rule_set: CurrentRuleSetDep,
) -> JSONResponse:
    """File a change (lead): name, lead organization, research direction or the signed task book (a new version)
    need the province's approval; director and participants are filings acknowledged by the province after the
    supervisor's review."""
    # Reach before replay: a replay must never answer a caller who could not create here now.
    await centers_service.load_for_filing(session, principal, center_id)
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    data = body.model_dump(mode="json")
    if body.kind == "task_book":
        data["new_value"] = _task_book(body.new_value)
    record = await service.create_change(session, principal, center_id, data)
    out = (await _reads(session, principal, center_id, [record], clock, current_rule_set))[0]
    return await idempotency.respond(
        out,
        status_code=201,
        headers=created(out, record.version, f"/api/v1/centers/{center_id}/change-requests/{record.id}"),
    )


@router.get(
    "",
    operation_id="list_change_requests",
    response_model=Page[ChangeRequestRead],
    responses=responses("not-found"),
)
async def list_change_requests(
    center_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    clock: ClockDep,
    current_rule_set: CurrentRuleSetDep,
) -> dict[str, object]:
    """The center's change requests, with the old values of approved ones."""
    result = await service.list_changes(session, principal, center_id, page)
    reads = await _reads(session, principal, center_id, result.items, clock, current_rule_set)
    return paginate(reads, result.next_key)


@router.get(
    "/{request_id}",
    operation_id="get_change_request",
    response_model=ChangeRequestRead,
    responses=responses("not-found"),
)
async def get_change_request(
    center_id: uuid.UUID,
    request_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    current_rule_set: CurrentRuleSetDep,
) -> JSONResponse:
    """One change request."""
    record = await service.get_change(session, principal, center_id, request_id)
    out = (await _reads(session, principal, center_id, [record], clock, current_rule_set))[0]
    return versioned(out, record.version)


# Not a page: one item per action of the lifecycle's table, a handful whatever the data (issue 12).
@router.get(
    "/{request_id}/actions",
    operation_id="list_change_request_actions",
    response_model=list[ActionRead],
    responses=responses("not-found"),
)
async def list_change_request_actions(
    center_id: uuid.UUID,
    request_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    current_rule_set: CurrentRuleSetDep,
) -> list[ActionRead]:
    """Every action of the change request lifecycle, allowed or blocked and why (a new lead's failing checks, a
    closed center, a step that is the supervising department's)."""
    views = await service.action_views(session, principal, center_id, request_id, clock, current_rule_set)
    return action_reads(views)


CHANGE_ACTIONS = {
    "endorse": "Review and endorse (supervising department; the province for a lead without one).",
    "approve": "Approve (province): the change applies and the old value stays in the center's history; a new lead "
    "is re-checked against the current rule set; a task book change becomes a new version with its own SHA-256.",
    "reject": "Reject with a `reason` (the supervising department before endorsement, the province after).",
}


def _change_action(action: str, description: str) -> None:
    async def act(
        center_id: uuid.UUID,
        request_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        current_rule_set: CurrentRuleSetDep,
        body: Annotated[ActionBody | None, Body()] = None,
    ) -> JSONResponse:
        record = await service.act(
            session,
            principal,
            center_id,
            request_id,
            action,
            reason=body.reason if body else None,
            clock=clock,
            current_rule_set=current_rule_set,
            expected_version=expected_version,
        )
        out = (await _reads(session, principal, center_id, [record], clock, current_rule_set))[0]
        return versioned(out, record.version)

    router.add_api_route(
        f"/{{request_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_change_request",
        response_model=ChangeRequestRead,
        summary=f"{action.capitalize()} a change request",
        description=description,
        responses=responses("not-found", "invalid-transition", "ineligible", "rule-violation", "version-mismatch"),
    )


for _action, _description in CHANGE_ACTIONS.items():
    _change_action(_action, _description)
