"""Calls for applications (申报通知)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from app.api.dates import ProgrammeYear
from app.api.deps import (
    IdempotencyDep,
    IfMatchDep,
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
from app.api.v1.calls.schemas import CallCreate, CallRead, call_read
from app.api.v1.common import ActionBody
from app.services import calls as service

router = APIRouter(prefix="/calls", tags=["calls"])


@router.post(
    "",
    operation_id="create_call",
    status_code=201,
    response_model=CallRead,
    responses=responses("not-found", "idempotency-key-reused"),
)
async def create_call(
    body: CallCreate, session: SessionDep, principal: ProvinceDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """Draft a call (province). `opens_on` must not be after `closes_on`; `rule_set` defaults to henan-2021."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.create_call(session, principal, body.model_dump())
    out = call_read(record, service.allowed_actions(principal, record))
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/calls/{record.id}")
    )


@router.get("", operation_id="list_calls", response_model=Page[CallRead], responses=responses())
async def list_calls(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    year: Annotated[ProgrammeYear | None, Query()] = None,
) -> dict[str, object]:
    """Calls: every role reads published and closed calls; the province and observers also see drafts."""
    result = await service.list_calls(session, principal, page, status=status, year=year)
    return paginate([call_read(r, service.allowed_actions(principal, r)) for r in result.items], result.next_key)


@router.get("/{call_id}", operation_id="get_call", response_model=CallRead, responses=responses("not-found"))
async def get_call(call_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """One call, with its `ETag` and the caller's `allowed_actions`."""
    record = await service.get_call(session, principal, call_id)
    return versioned(call_read(record, service.allowed_actions(principal, record)), record.version)


ACTIONS = {
    "publish": "Publish a drafted call (province): draft → published; it then takes submissions within its window.",
    "close": "Close a published call (province): published → closed; no more submissions.",
}


def _action_route(action: str, summary: str) -> None:
    async def act(
        call_id: uuid.UUID,
        session: SessionDep,
        principal: ProvinceDep,
        expected_version: IfMatchDep,
        body: Annotated[ActionBody | None, Body()] = None,
    ) -> JSONResponse:
        record = await service.act(
            session, principal, call_id, action, reason=body.reason if body else None, expected_version=expected_version
        )
        return versioned(call_read(record, service.allowed_actions(principal, record)), record.version)

    router.add_api_route(
        f"/{{call_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_call",
        response_model=CallRead,
        description=summary,
        summary=f"{action.capitalize()} a call",
        responses=responses("not-found", "invalid-transition", "version-mismatch"),
    )


for _action, _summary in ACTIONS.items():
    _action_route(_action, _summary)
