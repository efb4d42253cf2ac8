"""Experts (专家库): the province only. Expert identities are confidential to everyone else (404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.api.deps import (
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    ProvinceDep,
    SessionDep,
    created,
    paginate,
    versioned,
)
from app.api.problems import responses
from app.api.v1.common import ExpertCategory, FieldCode
from app.api.v1.experts.schemas import ExpertCreate, ExpertRead, ExpertUpdate
from app.services import organizations as service

router = APIRouter(prefix="/experts", tags=["experts"])


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
