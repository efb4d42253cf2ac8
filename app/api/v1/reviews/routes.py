"""Expert review of an application (评审论证): panel, scores, site visits and the review itself."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import ClockDep, IdempotencyDep, PrincipalDep, ProvinceDep, SessionDep, etag
from app.api.problems import responses
from app.api.v1.reviews.schemas import (
    PanelPut,
    PanelRead,
    ReviewRead,
    ScorePut,
    ScoreRead,
    SiteVisitCreate,
    SiteVisitRead,
)
from app.services import applications as applications_service
from app.services import review as service

router = APIRouter(prefix="/applications/{application_id}", tags=["review"])


@router.put(
    "/panel",
    operation_id="put_application_panel",
    response_model=PanelRead,
    responses=responses("not-found", "invalid-transition", "conflict-of-interest", "rule-violation"),
)
async def put_application_panel(
    application_id: uuid.UUID, body: PanelPut, session: SessionDep, principal: ProvinceDep
) -> JSONResponse:
    """Form the expert panel (province): at least 5 experts covering technical, financial and management; an expert
    affiliated with, or declaring a conflict with, the lead or a participant must recuse (409 conflict-of-interest).
    During review the province may replace members who have not scored (declined, a conflict found late,
    unresponsive) with a `reason`, keeping the same rules; a member who has scored stays (422 on `expert_ids`).
    After a review (or while revising) a new panel may be formed for the next round."""
    record = await service.set_panel(session, principal, application_id, body.expert_ids, body.reason)
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
    "/review", operation_id="get_application_review", response_model=ReviewRead, responses=responses("not-found")
)
async def get_application_review(application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> ReviewRead:
    """The review as this caller may see it (see the schema)."""
    view = await service.review_view(session, principal, application_id)
    return ReviewRead.model_validate(view, from_attributes=True)
