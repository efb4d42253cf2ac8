"""Expert review of an application (评审论证): panel, scores, site visits and the review itself."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import (
    WRITES_ON_READ,
    ClockDep,
    IdempotencyDep,
    PrincipalDep,
    ProvinceDep,
    ReviewTermsDep,
    SessionDep,
    etag,
)
from app.api.problems import responses
from app.api.v1.reviews.schemas import (
    DrawCreate,
    DrawRead,
    InvitationDecline,
    InvitationRead,
    PanelPut,
    PanelRead,
    ReviewRead,
    ScorePut,
    ScoreRead,
    SiteVisitCreate,
    SiteVisitRead,
)
from app.services import applications as applications_service
from app.services import draws as draws_service
from app.services import review as service

router = APIRouter(prefix="/applications/{application_id}", tags=["review"])


@router.put(
    "/panel",
    operation_id="put_application_panel",
    response_model=PanelRead,
    responses=responses("not-found", "invalid-transition", "conflict-of-interest", "rule-violation"),
)
async def put_application_panel(
    application_id: uuid.UUID, body: PanelPut, session: SessionDep, principal: ProvinceDep, clock: ClockDep
) -> JSONResponse:
    """Form the expert panel (province): at least 5 experts covering technical, financial and management; an expert
    affiliated with, or declaring a conflict with, the lead or a participant must recuse (409 conflict-of-interest).
    During review the province may replace members who have not scored (declined, a conflict found late,
    unresponsive) with a `reason`, keeping the same rules; a member who has scored stays (422 on `expert_ids`).
    After a review (or while revising) a new panel may be formed for the next round. Members set by hand count as
    having accepted (no invitation)."""
    record = await service.set_panel(session, principal, application_id, body.expert_ids, body.reason, clock.today())
    out = PanelRead(application_id=record.id, expert_ids=body.expert_ids)
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": etag(record.version)})


@router.put(
    "/scores/me",
    operation_id="put_my_score",
    response_model=ScoreRead,
    responses=responses("not-found", "invalid-transition"),
)
async def put_my_score(
    application_id: uuid.UUID, body: ScorePut, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    """Score the application (an expert on its panel, while under review); may be revised until the review
    concludes. A criterion above its maximum is a 422 naming it."""
    score, created = await service.put_score(
        session, principal, application_id, body.criteria.model_dump(), body.opinion, body.support
    )
    out = ScoreRead(
        criteria=score.criteria,
        total=f"{score.total:.2f}",
        opinion=score.opinion,
        support=score.support,
        updated_at=score.updated_at,
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.post(
    "/site-visits",
    operation_id="create_site_visit",
    status_code=201,
    response_model=SiteVisitRead,
    responses=responses("not-found", "invalid-transition", "rule-violation", "idempotency-key-reused"),
)
async def create_site_visit(
    application_id: uuid.UUID,
    body: SiteVisitCreate,
    session: SessionDep,
    principal: ProvinceDep,
    idempotency: IdempotencyDep,
    clock: ClockDep,
) -> JSONResponse:
    """Record a site visit (实地考察): date, members and findings (province); `visited_on` is not before 2021-08-11
    nor in the future; at most 20 per application (`rule-violation` `site-visits-limit`)."""
    # Reach before replay: a replay must never answer a caller who could not create here now.
    await applications_service.load(session, principal, application_id)
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    visit = await service.add_site_visit(
        session, principal, application_id, body.visited_on, body.members, body.findings, clock
    )
    out = SiteVisitRead(id=visit.id, visited_on=visit.visited_on, members=visit.members, findings=visit.findings)
    return await idempotency.respond(out, status_code=201, headers={})


@router.get(
    "/review",
    operation_id="get_application_review",
    response_model=ReviewRead,
    responses=responses("not-found"),
    dependencies=[WRITES_ON_READ],
)
async def get_application_review(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep, terms: ReviewTermsDep
) -> ReviewRead:
    """The review as this caller may see it (see the schema). The province's `panel` lists each member's invitation
    `status`, `reply_by` and `late` (accepted, not scored, past `scores_due_on`). Invitations past their reply
    deadline lapse on this read, each replaced by the next backup of the draw."""
    view = await service.review_view(session, principal, application_id, clock.today(), terms)
    return ReviewRead.model_validate(view, from_attributes=True)


@router.post(
    "/panel/draw",
    operation_id="draw_application_panel",
    status_code=201,
    response_model=DrawRead,
    responses=responses("not-found", "invalid-transition", "rule-violation"),
)
async def draw_application_panel(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: ProvinceDep,
    clock: ClockDep,
    terms: ReviewTermsDep,
    body: DrawCreate | None = None,
) -> DrawRead:
    """Draw the panel at random (province; a recommended application, or a reviewed one before its next round).
    A 32-byte seed is generated; `panel.draw_committed` publishes its SHA-256 and the pool snapshot's digest before
    the draw, `panel.drawn` reveals the seed after. Experts of the application's field come first; conflicted and
    inactive experts and those already on `TIC_EXPERT_PANEL_CAP` (3) panels of the same call are never drawn. The
    drawn members are invited (reply within `TIC_EXPERT_REPLY_DAYS`, 3 days); the backups step in, in draw order,
    for those who decline or do not answer. Too few eligible experts: 409 `rule-violation` `draw-pool-too-small`."""
    payload = body or DrawCreate()
    await draws_service.draw_panel(
        session,
        principal,
        application_id,
        size=payload.size,
        backups=payload.backups,
        category_mix=payload.category_mix,
        clock=clock,
        terms=terms,
    )
    view = await draws_service.draw_view(session, principal, application_id, clock, terms)
    return DrawRead.model_validate(view, from_attributes=True)


@router.get(
    "/panel/draw",
    operation_id="get_application_panel_draw",
    response_model=DrawRead,
    responses=responses("not-found"),
    dependencies=[WRITES_ON_READ],
)
async def get_application_panel_draw(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep, terms: ReviewTermsDep
) -> DrawRead:
    """The application's current draw, re-run here from its seed and pool snapshot: `recomputed_members` and
    `recomputed_backups`, and `reproduced` (true when they equal the stored result and the seed and snapshot match
    the published hashes). Anyone who reads the application; experts appear only under per-draw pseudonyms, except
    to the province. 404 when no panel was drawn."""
    view = await draws_service.draw_view(session, principal, application_id, clock, terms)
    return DrawRead.model_validate(view, from_attributes=True)


@router.post(
    "/panel/invitation/accept",
    operation_id="accept_panel_invitation",
    response_model=InvitationRead,
    responses=responses("not-found", "rule-violation"),
)
async def accept_panel_invitation(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep, terms: ReviewTermsDep
) -> InvitationRead:
    """Accept the invitation to the panel (the invited expert, by the reply deadline); scoring opens for accepted
    members only. Past the deadline: 409 `invitation-expired`; already accepted: 409 `invitation-answered`."""
    await draws_service.accept(session, principal, application_id, clock, terms)
    return InvitationRead(application_id=application_id, status="accepted")


@router.post(
    "/panel/invitation/decline",
    operation_id="decline_panel_invitation",
    response_model=InvitationRead,
    responses=responses("not-found", "rule-violation"),
)
async def decline_panel_invitation(
    application_id: uuid.UUID,
    body: InvitationDecline,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    terms: ReviewTermsDep,
) -> InvitationRead:
    """Decline the invitation with a `reason` (the invited expert): the next backup of the draw is invited at once.
    The feed and the history record only that a member declined; the reason is for the province."""
    await draws_service.decline(session, principal, application_id, body.reason, clock, terms)
    return InvitationRead(application_id=application_id, status="declined")
