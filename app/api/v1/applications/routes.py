"""Applications (申报): create, read, edit, eligibility, history and the lifecycle actions."""

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
    CurrentRuleSetDep,
    DocumentPrefixDep,
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    PrincipalDep,
    ReviewTermsDep,
    SessionDep,
    created,
    page_response,
    versioned,
)
from app.api.problems import ProblemError, responses
from app.api.v1.applications.schemas import (
    ApplicationActionBody,
    ApplicationCreate,
    ApplicationRead,
    ApplicationUpdate,
    EligibilityRead,
    application_read,
)
from app.api.v1.common import ActionRead, FieldCode, FormationMode, TransitionRead, action_reads
from app.domain.principal import Principal
from app.services import application_actions
from app.services import applications as service
from app.services.clock import Clock

router = APIRouter(prefix="/applications", tags=["applications"])


async def _reads(
    session: AsyncSession, principal: Principal, records: Sequence[Any], clock: Clock
) -> list[ApplicationRead]:
    """Applications with the caller's allowed actions, from the same blockers as GET …/actions and refusals."""
    allowed = await service.allowed_of(session, principal, records, clock)
    return [application_read(r, allowed[r.id]) for r in records]


async def _read(session: AsyncSession, principal: Principal, record: Any, clock: Clock) -> ApplicationRead:
    return (await _reads(session, principal, [record], clock))[0]


@router.post(
    "",
    operation_id="create_application",
    status_code=201,
    response_model=ApplicationRead,
    responses=responses("not-found", "rule-violation", "idempotency-key-reused"),
)
async def create_application(
    body: ApplicationCreate,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency: IdempotencyDep,
    clock: ClockDep,
    current_rule_set: CurrentRuleSetDep,
) -> JSONResponse:
    """Draft an application. A lead organization (applicant) applies to a published call for itself; the province
    creates fast-track (一事一议) applications, with `fast_track_basis`, for a lead it names."""
    if principal.role not in ("applicant", "province"):
        raise ProblemError("not-found")
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.create_application(
        session, principal, body.model_dump(mode="json"), current_rule_set=current_rule_set
    )
    out = await _read(session, principal, record, clock)
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/applications/{record.id}")
    )


@router.get("", operation_id="list_applications", response_model=Page[ApplicationRead], responses=responses())
async def list_applications(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    field: Annotated[FieldCode | None, Query()] = None,
    call_id: Annotated[uuid.UUID | None, Query()] = None,
    lead_org_id: Annotated[uuid.UUID | None, Query()] = None,
    formation_mode: Annotated[FormationMode | None, Query()] = None,
    *,
    clock: ClockDep,
) -> JSONResponse:
    """Applications within the caller's reach, oldest first, filtered by the named fields."""
    result = await service.list_applications(
        session,
        principal,
        page,
        status=status,
        field=field,
        call_id=call_id,
        lead_org_id=lead_org_id,
        formation_mode=formation_mode,
    )
    return page_response(Page[ApplicationRead], await _reads(session, principal, result.items, clock), result.next_key)


@router.get(
    "/{application_id}",
    operation_id="get_application",
    response_model=ApplicationRead,
    responses=responses("not-found"),
)
async def get_application(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> JSONResponse:
    """One application with its `status`, the caller's `allowed_actions` and its `ETag`."""
    record = await service.load(session, principal, application_id)
    return versioned(await _read(session, principal, record, clock), record.version)


@router.patch(
    "/{application_id}",
    operation_id="update_application",
    response_model=ApplicationRead,
    responses=responses("not-found", "invalid-transition", "version-mismatch"),
)
async def update_application(
    application_id: uuid.UUID,
    body: ApplicationUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    expected_version: IfMatchDep,
    clock: ClockDep,
) -> JSONResponse:
    """Edit a draft, returned or revising application (its lead; the province for a fast-track one)."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    record = await service.update_application(session, principal, application_id, changes, expected_version, clock)
    return versioned(await _read(session, principal, record, clock), record.version)


@router.get(
    "/{application_id}/eligibility",
    operation_id="get_application_eligibility",
    response_model=EligibilityRead,
    responses=responses("not-found"),
)
async def get_application_eligibility(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> EligibilityRead:
    """Rule by rule, whether the application meets the conditions of its rule set (建设条件): the verdict recorded at
    submission once submitted, a live evaluation while it is editable."""
    view = await service.eligibility(session, principal, application_id, clock)
    return EligibilityRead.model_validate(view, from_attributes=True)


# Not a page: one item per action of the lifecycle's table, a handful whatever the data (issue 12).
@router.get(
    "/{application_id}/actions",
    operation_id="list_application_actions",
    response_model=list[ActionRead],
    responses=responses("not-found"),
)
async def list_application_actions(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> list[ActionRead]:
    """Every action of the application lifecycle: `allowed` for this caller now, or `blocked_by` each failing guard
    (wrong state, wrong role, call not open, plan incomplete, a failing eligibility rule, panel or scores missing)."""
    return action_reads(await service.action_views(session, principal, application_id, clock))


@router.get(
    "/{application_id}/history",
    operation_id="list_application_history",
    response_model=Page[TransitionRead],
    responses=responses("not-found"),
)
async def list_application_history(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> dict[str, object]:
    """Every transition: action, from and to state, actor, role, time, reason and decision date; oldest first, a
    page at a time (returns and revisions may repeat, so a history has no natural end)."""
    after = pagination.decode(cursor, "application-history", int)[0] if cursor else None
    records, next_after = await service.history(session, principal, application_id, after=after, limit=limit)
    return pagination.page([TransitionRead.model_validate(t) for t in records], "application-history", next_after)


ACTIONS = {
    "submit": "Submit (lead): needs all seven plan sections, no failing eligibility rule and an open call. "
    "A fast-track application goes straight to `recommended`.",
    "withdraw": "Withdraw (lead) from draft, returned, submitted or revising.",
    "recommend": "Recommend (supervising department; the province for a lead without one): submitted → recommended.",
    "return": "Return for changes (supervising department; the province for a lead without one), with a `reason` "
    "and optionally `resubmit_by` (≤ 30 days): submitted → returned.",
    "reject": "Reject with a `reason`: the supervising department (the province for a lead without one) from "
    "submitted (→ not_recommended), the province from reviewed (→ rejected).",
    "open_review": "Open the expert review (province): needs a valid panel. recommended → under_review; or re-open it "
    "once on a revised plan: reviewed → under_review (a new round; the earlier sheets no longer count).",
    "conclude_review": "Conclude the review (province): needs every panel member's score in this round. → reviewed.",
    "request_revision": "Ask for a revised plan (province), with a `reason`: reviewed → revising.",
    "resubmit": "Resubmit the revised plan (lead): revising → reviewed. Needs all seven plan sections and no "
    "failing eligibility rule; the new verdict replaces the recorded one.",
    "approve": "Approve construction (province), with `decision_date` (not in the future, not before the review "
    "concluded) and optionally `document_no`: needs a passing review; creates the center and answers with "
    "`center_id`. Issues the approval document (批复, GET …/documents): without `document_no` the register gives the "
    "next 豫科〔YYYY〕N号 (answered as `document_no`); a given number is kept as-is (409 `already-exists` if taken).",
}


def _action_route(action: str, description: str) -> None:
    async def act(
        application_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        clock: ClockDep,
        expected_version: IfMatchDep,
        terms: ReviewTermsDep,
        document_prefix: DocumentPrefixDep,
        body: Annotated[ApplicationActionBody | None, Body()] = None,
    ) -> JSONResponse:
        payload = body or ApplicationActionBody()
        record = await application_actions.act(
            session,
            principal,
            application_id,
            action,
            application_actions.ActionInput(
                reason=payload.reason,
                decision_date=payload.decision_date,
                document_no=payload.document_no,
                resubmit_by=payload.resubmit_by,
            ),
            clock=clock,
            expected_version=expected_version,
            score_days=terms.score_days,
            document_prefix=document_prefix,
        )
        return versioned(await _read(session, principal, record, clock), record.version)

    router.add_api_route(
        f"/{{application_id}}/{action}",
        act,
        methods=["POST"],
        operation_id=f"{action}_application",
        response_model=ApplicationRead,
        summary=f"{action.replace('_', ' ').capitalize()} an application",
        description=description,
        responses=responses(
            "not-found",
            "invalid-transition",
            "ineligible",
            "conflict-of-interest",
            "rule-violation",
            "version-mismatch",
            *(("already-exists",) if action == "approve" else ()),
        ),
    )


for _action, _description in ACTIONS.items():
    _action_route(_action, _description)
