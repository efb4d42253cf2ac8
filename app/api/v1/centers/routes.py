"""Centers (技术创新中心): reading, import, task book, legal entity and governance, and the lifecycle actions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import pagination
from app.api.deps import (
    ClockDep,
    DocumentPrefixDep,
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    PrincipalDep,
    ProvinceDep,
    SessionDep,
    created,
    page_response,
    versioned,
)
from app.api.problems import responses
from app.api.v1.centers.schemas import (
    CenterActionBody,
    CenterImport,
    CenterRead,
    CenterUpdate,
    TaskBook,
    center_read,
    center_read_row,
)
from app.api.v1.common import ActionRead, FieldCode, TransitionRead, action_reads
from app.domain.principal import Principal
from app.services import center_actions
from app.services import centers as service
from app.services.clock import Clock

router = APIRouter(prefix="/centers", tags=["centers"])


async def _reads(session: AsyncSession, principal: Principal, records: Sequence[Any], clock: Clock) -> list[CenterRead]:
    """Centers with the caller's allowed actions, from the same blockers as GET …/actions and refusals."""
    allowed = await service.allowed_of(session, principal, records, clock)
    return [center_read(r, allowed[r.id]) for r in records]


async def _read(session: AsyncSession, principal: Principal, record: Any, clock: Clock) -> CenterRead:
    return (await _reads(session, principal, [record], clock))[0]


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
) -> JSONResponse:
    """Centers within the caller's reach, oldest first."""
    result = await service.read_page(
        session, principal, page, clock, status=status, field=field, lead_org_id=lead_org_id
    )
    return page_response(
        Page[CenterRead], [center_read_row(row._mapping, allowed) for row, allowed in result.items], result.next_key
    )


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
    out = await _read(session, principal, record, clock)
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/centers/{record.id}")
    )


@router.get("/{center_id}", operation_id="get_center", response_model=CenterRead, responses=responses("not-found"))
async def get_center(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> JSONResponse:
    """One center with its `ETag` and the caller's `allowed_actions`."""
    row, allowed = await service.read(session, principal, center_id, clock)
    return versioned(center_read_row(row._mapping, allowed), row.version)


@router.patch(
    "/{center_id}",
    operation_id="update_center",
    response_model=CenterRead,
    responses=responses("not-found", "invalid-transition", "rule-violation", "version-mismatch"),
)
async def update_center(
    center_id: uuid.UUID,
    body: CenterUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    expected_version: IfMatchDep,
    clock: ClockDep,
) -> JSONResponse:
    """Legal entity (人、财、物相对独立 → 独立法人; frozen from the acceptance request on) and governance, by the
    province or the lead, with `If-Match`; the director changes only by a `director` change request (备案); the
    entrusted acceptance agency, by the province."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    record = await service.update_center(session, principal, center_id, changes, expected_version, clock)
    return versioned(await _read(session, principal, record, clock), record.version)


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
    """Draft the target task book (province) before it is signed; it starts on or after the approval. A signed one
    changes only by a `task_book` change request."""
    record = await service.put_task_book(session, principal, center_id, body.model_dump(mode="json"), expected_version)
    return versioned(await _read(session, principal, record, clock), record.version)


# Not a page: one item per action of the lifecycle's table, a handful whatever the data (issue 12).
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
    role, a due annual report not accepted, no independent legal entity, too early, already extended, ...). A refused
    action answers exactly these blockers."""
    return action_reads(await service.action_views(session, principal, center_id, clock))


@router.get(
    "/{center_id}/history",
    operation_id="list_center_history",
    response_model=Page[TransitionRead],
    responses=responses("not-found"),
)
async def list_center_history(
    center_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> dict[str, object]:
    """Every transition and change of the center, with the old values, oldest first, a page at a time (every edit
    adds one, so a history has no natural end)."""
    after = pagination.decode(cursor, "center-history", int)[0] if cursor else None
    records, next_after = await service.history(session, principal, center_id, after=after, limit=limit)
    return pagination.page([TransitionRead.model_validate(t) for t in records], "center-history", next_after)


CENTER_ACTIONS = {
    "sign_task_book": "Sign the task book (province): approved → under_construction; sets the construction dates "
    "(3 years by default) and records the task book's SHA-256.",
    "request_extension": "Ask for an extension (lead) before construction ends: `months` (1–12) and `reason`; once "
    "per center.",
    "extend": "Grant the requested extension (province) with `months`, `reason` and `decided_on` (on any later date, "
    "not in the future); it runs from the original end date.",
    "decline_extension": "Decline the requested extension (province) with a `reason`; the lead may ask again before "
    "construction ends.",
    "request_acceptance": "Request acceptance (lead): from 3 months before construction ends; needs every due annual "
    "report accepted and an independent legal entity (frozen from then on).",
    "record_acceptance": "Record the acceptance verdict (province, or the entrusted agency) with `result`, "
    "`decided_on` (on or after construction end and the request, not in the future) and `by_org_id`: passed → "
    "accepted; failed → rectifying (3 months, with a numbered rectification notice, 整改通知); a second failure → "
    "revoked.",
    "recognize": "Formally recognize an accepted center (province, 正式认定) with `decided_on` and optionally "
    "`document_no`; issues the recognition number and the recognition document (认定, GET …/documents): without "
    "`document_no` the register gives the next 豫科〔YYYY〕N号 (answered as `recognition_document_no`); a given number "
    "is kept as-is (409 `already-exists` if taken).",
    "record_rectification_review": "Record the rectification review after an assessment: passed → recognized, "
    "failed → revoked (failed_rectification).",
    "revoke": "Revoke (province) with `reason_code`, `reason` and `decided_on`; issues a numbered revocation "
    "document (撤销).",
    "request_exit": "Ask to exit (lead), with a `reason`; the province decides.",
    "exit": "Approve the lead's exit request (province), with `decided_on`.",
    "decline_exit": "Decline the lead's exit request (province), with a `reason`; the lead may ask again.",
    "withdraw_exit": "Withdraw the exit request (lead); it may ask again later.",
}


def _center_action(action: str, description: str) -> None:
    async def act(
        center_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        document_prefix: DocumentPrefixDep,
        body: Annotated[CenterActionBody | None, Body()] = None,
    ) -> JSONResponse:
        payload = body or CenterActionBody()
        record = await center_actions.act(
            session,
            principal,
            center_id,
            action,
            center_actions.CenterAction(**payload.model_dump()),
            clock=clock,
            expected_version=expected_version,
            document_prefix=document_prefix,
        )
        return versioned(await _read(session, principal, record, clock), record.version)

    router.add_api_route(
        f"/{{center_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_center",
        response_model=CenterRead,
        summary=f"{action.replace('_', ' ').capitalize()} (center)",
        description=description,
        responses=responses(
            "not-found",
            "invalid-transition",
            "rule-violation",
            "version-mismatch",
            *(("already-exists",) if action == "recognize" else ()),
        ),
    )


for _action, _description in CENTER_ACTIONS.items():
    _center_action(_action, _description)
