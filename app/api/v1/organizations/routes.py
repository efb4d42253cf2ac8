"""Organizations: the province writes; every role reads what it may reach (404 otherwise)."""

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
    PrincipalDep,
    ProvinceDep,
    SessionDep,
    created,
    paginate,
    versioned,
)
from app.api.problems import responses
from app.api.v1.common import OrgKind
from app.api.v1.organizations.schemas import OrganizationCreate, OrganizationRead, OrganizationUpdate
from app.services import organizations as service

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.post(
    "",
    operation_id="create_organization",
    status_code=201,
    response_model=OrganizationRead,
    responses=responses("not-found", "already-exists", "idempotency-key-reused"),
)
async def create_organization(
    body: OrganizationCreate, session: SessionDep, principal: ProvinceDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """Register an organization (province). The credit code is checked per GB 32100-2015 and must be unique."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.create_organization(session, principal, body.model_dump())
    out = OrganizationRead.model_validate(record)
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/organizations/{record.id}")
    )


@router.get("", operation_id="list_organizations", response_model=Page[OrganizationRead], responses=responses())
async def list_organizations(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    kind: Annotated[OrgKind | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    supervisor_id: Annotated[uuid.UUID | None, Query()] = None,
) -> dict[str, object]:
    """Organizations within the caller's reach, oldest first."""
    result = await service.list_organizations(
        session, principal, page, kind=kind, region=region, supervisor_id=supervisor_id
    )
    return paginate([OrganizationRead.model_validate(r) for r in result.items], result.next_key)


@router.get(
    "/{org_id}", operation_id="get_organization", response_model=OrganizationRead, responses=responses("not-found")
)
async def get_organization(org_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """One organization, with its `ETag`."""
    record = await service.get_organization(session, principal, org_id)
    return versioned(OrganizationRead.model_validate(record), record.version)


@router.patch(
    "/{org_id}",
    operation_id="update_organization",
    response_model=OrganizationRead,
    responses=responses("not-found", "already-exists", "rule-violation", "version-mismatch"),
)
async def update_organization(
    org_id: uuid.UUID,
    body: OrganizationUpdate,
    session: SessionDep,
    principal: ProvinceDep,
    expected_version: IfMatchDep,
) -> JSONResponse:
    """Change an organization (province); send `If-Match` with the ETag you read."""
    changes = body.model_dump(exclude_unset=True)
    record = await service.update_organization(session, principal, org_id, changes, expected_version)
    return versioned(OrganizationRead.model_validate(record), record.version)
