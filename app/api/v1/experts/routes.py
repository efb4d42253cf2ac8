"""Experts (专家库): the province only. Expert identities are confidential to everyone else (404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.api import pagination
from app.api.deps import (
    ClockDep,
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    ProvinceDep,
    SessionDep,
    created,
    paginate,
    require_roles,
    versioned,
)
from app.api.problems import responses
from app.api.v1.common import ExpertCategory, FieldCode
from app.api.v1.experts.schemas import ConflictCreate, ConflictRead, ExpertCreate, ExpertRead, ExpertUpdate
from app.domain.principal import Principal
from app.services import expert_conflicts
from app.services import organizations as service

router = APIRouter(prefix="/experts", tags=["experts"])
ExpertDep = Annotated[Principal, require_roles("expert")]


@router.post(
    "/me/conflicts",
    operation_id="declare_my_conflict",
    status_code=201,
    response_model=ConflictRead,
    responses=responses("not-found", "rule-violation"),
)
async def declare_my_conflict(
    body: ConflictCreate, session: SessionDep, principal: ExpertDep, clock: ClockDep
) -> JSONResponse:
    """Declare a conflict of interest (expert, about themselves) with an organisation named by `org_id` or
    `credit_code`: `affiliation`, `former_employer` (with `until`, the day they left; it counts for 3 years),
    `relative` or `other`, with an optional `note`. Every recusal check, manual panels and draws alike, reads it."""
    entry = await expert_conflicts.declare(
        session,
        principal,
        org_id=body.org_id,
        credit_code=body.credit_code,
        kind=body.kind,
        until=body.until,
        note=body.note,
        clock=clock,
    )
    return JSONResponse(ConflictRead.model_validate(entry).model_dump(mode="json"), status_code=201)


@router.get(
    "/me/conflicts",
    operation_id="list_my_conflicts",
    response_model=Page[ConflictRead],
    responses=responses("not-found"),
)
async def list_my_conflicts(
    session: SessionDep,
    principal: ExpertDep,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> dict[str, object]:
    """The conflicts the calling expert declared, in the order declared (expert)."""
    after = pagination.decode(cursor, "expert-conflicts", int)[0] if cursor else 0
    if after < 0:
        after = 0
    items, next_after = await expert_conflicts.list_mine(session, principal, after=after, limit=limit)
    return pagination.page([ConflictRead.model_validate(i) for i in items], "expert-conflicts", next_after)


@router.post(
    "",
    operation_id="create_expert",
    status_code=201,
    response_model=ExpertRead,
    responses=responses("not-found", "idempotency-key-reused"),
)
async def create_expert(
    body: ExpertCreate, session: SessionDep, principal: ProvinceDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """Add an expert to the pool (province)."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.create_expert(session, principal, body.model_dump())
    out = ExpertRead.model_validate(record)
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/experts/{record.id}")
    )


@router.get("", operation_id="list_experts", response_model=Page[ExpertRead], responses=responses("not-found"))
async def list_experts(
    session: SessionDep,
    principal: ProvinceDep,
    page: PageDep,
    category: Annotated[ExpertCategory | None, Query()] = None,
    field: Annotated[FieldCode | None, Query()] = None,
) -> dict[str, object]:
    """The expert pool (province)."""
    result = await service.list_experts(session, page, category=category, field=field)
    return paginate([ExpertRead.model_validate(r) for r in result.items], result.next_key)


@router.get("/{expert_id}", operation_id="get_expert", response_model=ExpertRead, responses=responses("not-found"))
async def get_expert(expert_id: uuid.UUID, session: SessionDep, principal: ProvinceDep) -> JSONResponse:
    """One expert (province)."""
    record = await service.get_expert(session, expert_id)
    return versioned(ExpertRead.model_validate(record), record.version)


@router.patch(
    "/{expert_id}",
    operation_id="update_expert",
    response_model=ExpertRead,
    responses=responses("not-found", "version-mismatch"),
)
async def update_expert(
    expert_id: uuid.UUID, body: ExpertUpdate, session: SessionDep, principal: ProvinceDep, expected_version: IfMatchDep
) -> JSONResponse:
    """Change an expert (province), with `If-Match`."""
    changes = body.model_dump(exclude_unset=True)
    record = await service.update_expert(session, expert_id, changes, expected_version)
    return versioned(ExpertRead.model_validate(record), record.version)
