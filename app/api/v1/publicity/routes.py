"""Public notices (公示) of the lists the province intends to approve or recognize, and objections (异议) to them
(issue 16 §3). `approve` and `recognize` are blocked until a notice of the matching kind listing the subject has
ended and every objection against the subject is resolved (none upheld)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import (
    ClockDep,
    IdempotencyDep,
    IsoDate,
    Page,
    PageDep,
    PrincipalDep,
    SessionDep,
    created,
    page_response,
    versioned,
)
from app.api.pdf import pdf_ok, pdf_response
from app.api.problems import responses
from app.api.v1.common import Id, Reason, ShortText, Strict
from app.domain import publicity as rules
from app.domain.events import fingerprint
from app.domain.workdays import MAX_NOTICE_WORKING_DAYS
from app.services import document_pdf
from app.services import publicity as service
from app.services.errors import NotFound

router = APIRouter(prefix="/publicity", tags=["publicity"])
public_router = APIRouter(prefix="/public/publicity", tags=["publicity"])

Kind = Literal["approval", "recognition"]
NoticeStatus = Literal["scheduled", "running", "ended"]


class PublicityCreate(Strict):
    """A list to publish. `approval` (拟支持名单) lists applications in `reviewed`, `recognition` (拟认定名单) centers
    in `accepted`."""

    kind: Kind
    subject_ids: Annotated[list[Id], Field(min_length=1, max_length=rules.MAX_SUBJECTS)]
    starts_on: Annotated[
        IsoDate,
        Field(
            description=f"The notice's first day: a working day on the official PRC calendar, from "
            f"{rules.START_PAST_DAYS} days before today (a notice already posted, recorded late) to "
            f"{rules.START_FUTURE_DAYS} days after today. A year the calendar does not cover yet (neither the "
            "published `chinesecalendar` data nor the service's `TIC_WORKDAY_CALENDAR_FILE`) is 422 "
            "`calendar-unavailable`."
        ),
    ]
    working_days: Annotated[
        int, Field(ge=1, le=MAX_NOTICE_WORKING_DAYS, description="Length in working days (公示期), the first included.")
    ] = rules.DEFAULT_WORKING_DAYS


class PublicEntry(BaseModel):
    """What a notice publishes about one subject."""

    name: str
    lead_org_name: str
    field: str


class PublicityEntry(PublicEntry):
    subject_id: uuid.UUID


class PublicityRead(BaseModel):
    id: uuid.UUID
    kind: Kind
    subject_type: Literal["application", "center"]
    subjects: list[PublicityEntry]
    starts_on: date
    ends_on: date = Field(description="The last working day of the notice; it has ended from the day after.")
    working_days: int
    status: NoticeStatus = Field(description="From the service's clock: before, during or after the notice.")
    created_by: str
    created_at: datetime
    version: int


class PublicPublicityRead(BaseModel):
    """A notice as published: no ids, no scores, no objections, no contacts."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    title: str
    subjects: list[PublicEntry]
    starts_on: date
    ends_on: date
    working_days: int
    status: NoticeStatus


class ObjectionCreate(Strict):
    subject_id: Id = Field(description="One of the notice's subjects.")
    summary: Annotated[str, Field(min_length=1, max_length=5000)]
    objector_name: ShortText
    objector_contact: ShortText
    received_on: Annotated[
        IsoDate, Field(description="Within the notice (its first to its last working day), and not after today.")
    ]


class ObjectionResolve(Strict):
    outcome: Literal["upheld", "dismissed"]
    reason: Reason


class ObjectionRead(BaseModel):
    """An objection as the province reads it (the only reader): the objector's name and contact included."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    notice_id: uuid.UUID
    subject_id: uuid.UUID
    summary: str
    objector_name: str
    objector_contact: str
    received_on: date
    status: Literal["open", "upheld", "dismissed"]
    resolution_reason: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_by: str
    created_at: datetime
    version: int


# No token on the public reads, so no 401: a malformed id is 422 and an unknown or unpublished notice 404.
PUBLIC_PROBLEMS = {status: entry for status, entry in responses("not-found").items() if status != 401}

TITLES = {"approval": "河南省技术创新中心拟支持建设名单公示", "recognition": "河南省技术创新中心拟认定名单公示"}


def _read(notice: service.Notice) -> PublicityRead:
    return PublicityRead(
        id=notice.id,
        kind=notice.kind,
        subject_type=rules.SUBJECT_TYPE[notice.kind],
        subjects=[
            PublicityEntry(subject_id=e.subject_id, name=e.name, lead_org_name=e.lead_org_name, field=e.field)
            for e in notice.subjects
        ],
        starts_on=notice.starts_on,
        ends_on=notice.ends_on,
        working_days=notice.working_days,
        status=notice.status,
        created_by=notice.created_by,
        created_at=notice.created_at,
        version=notice.version,
    )


@router.post(
    "",
    operation_id="create_publicity",
    status_code=201,
    response_model=PublicityRead,
    responses=responses("rule-violation", "calendar-unavailable", "idempotency-key-reused"),
)
async def create_publicity(
    body: PublicityCreate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Publish a list for public comment (公示) on the official PRC working-day calendar (holidays and 调休
    make-up working days included): `ends_on` is its last working day. Each of `subject_ids` must be in the state the
    kind lists (else 409 `rule-violation`, rule `publicity-subject-wrong-state`, with its `index`); an unknown id is a
    422 naming its index."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    calendar = request.app.state.settings.workday_calendar
    record = await service.publish(session, principal, body.model_dump(), clock, calendar)
    out = _read(await service.read(session, principal, record.id, clock))
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/publicity/{record.id}")
    )


@router.get("", operation_id="list_publicity", response_model=Page[PublicityRead], responses=responses())
async def list_publicity(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    clock: ClockDep,
    kind: Annotated[Kind | None, Query()] = None,
    status: Annotated[NoticeStatus | None, Query(description="On the service's clock.")] = None,
) -> JSONResponse:
    """Notices, oldest first, filtered by kind and by status on today's date."""
    result = await service.read_page(session, principal, page, clock, kind=kind, status=status)
    return page_response(Page[PublicityRead], [_read(n) for n in result.items], result.next_key)


@router.get(
    "/{publicity_id}", operation_id="get_publicity", response_model=PublicityRead, responses=responses("not-found")
)
async def get_publicity(
    publicity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> JSONResponse:
    """One notice with its subjects (ids included) and status."""
    notice = await service.read(session, principal, publicity_id, clock)
    return versioned(_read(notice), notice.version)


@router.post(
    "/{publicity_id}/objections",
    operation_id="create_publicity_objection",
    status_code=201,
    response_model=ObjectionRead,
    responses=responses("not-found", "rule-violation", "idempotency-key-reused"),
)
async def create_objection(
    publicity_id: uuid.UUID,
    body: ObjectionCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Record an objection (异议) received during the notice, on the objector's behalf. A date outside the notice is
    409 `rule-violation`, rule `objection-outside-notice`. The objector's name and contact stay with the province:
    the feed records only the notice, the subject and the date."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.record_objection(session, principal, publicity_id, body.model_dump(), clock)
    out = ObjectionRead.model_validate(record)
    return await idempotency.respond(
        out,
        status_code=201,
        headers=created(out, record.version, f"/api/v1/publicity/{publicity_id}/objections/{record.id}"),
    )


@router.get(
    "/{publicity_id}/objections",
    operation_id="list_publicity_objections",
    response_model=Page[ObjectionRead],
    responses=responses("not-found"),
)
async def list_objections(
    publicity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> JSONResponse:
    """The notice's objections, oldest first (province only: they carry the objectors' contacts)."""
    result = await service.list_objections(session, principal, publicity_id, page)
    return page_response(Page[ObjectionRead], [ObjectionRead.model_validate(r) for r in result.items], result.next_key)


@router.post(
    "/{publicity_id}/objections/{objection_id}/resolve",
    operation_id="resolve_publicity_objection",
    response_model=ObjectionRead,
    responses=responses("not-found", "rule-violation"),
)
async def resolve_objection(
    publicity_id: uuid.UUID,
    objection_id: uuid.UUID,
    body: ObjectionResolve,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> JSONResponse:
    """Resolve an objection once: `dismissed` (it no longer blocks) or `upheld` (the subject stays blocked from
    approval or recognition; the province may reject it)."""
    record = await service.resolve_objection(session, principal, publicity_id, objection_id, body.model_dump(), clock)
    return versioned(ObjectionRead.model_validate(record), record.version)


def _published(notice: service.Notice) -> PublicPublicityRead:
    return PublicPublicityRead(
        kind=notice.kind,
        title=TITLES[notice.kind],
        subjects=[PublicEntry(name=e.name, lead_org_name=e.lead_org_name, field=e.field) for e in notice.subjects],
        starts_on=notice.starts_on,
        ends_on=notice.ends_on,
        working_days=notice.working_days,
        status=notice.status,
    )


def published_sha256(published: PublicPublicityRead) -> str:
    """SHA-256 of what a notice publishes, as canonical JSON, without its clock-dependent `status`: the digest its
    PDF prints, which anyone recomputes from `GET /public/publicity/{id}`."""
    return fingerprint(published.model_dump(mode="json", exclude={"status"}))


# Registered before `/{publicity_id}`, whose parameter would otherwise take "….pdf" and answer 422.
@public_router.get(
    "/{publicity_id}.pdf",
    operation_id="download_public_publicity_pdf",
    response_class=Response,
    responses={
        **pdf_ok("The published list as a PDF (Chinese text in reportlab's built-in STSong-Light font)."),
        **PUBLIC_PROBLEMS,
    },
)
async def download_public_publicity_pdf(
    publicity_id: uuid.UUID,
    session: SessionDep,
    clock: ClockDep,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The published list (拟支持名单 / 拟认定名单) as a PDF for anyone, without a token, from the notice's first day:
    title, notice period, each subject's name, lead organization and field, and the SHA-256 of the published
    content (canonical JSON of `GET /public/publicity/{id}` without `status`), so a printed copy can be checked."""
    notice = await service.read_public(session, publicity_id, clock)
    if notice.status == "scheduled":  # not published before its first day
        raise NotFound("publicity", str(publicity_id))
    published = _published(notice)
    source = document_pdf.NoticePdfInput(
        title=published.title,
        starts_on=published.starts_on,
        ends_on=published.ends_on,
        working_days=published.working_days,
        entries=tuple(document_pdf.NoticeEntry(e.name, e.lead_org_name, e.field) for e in published.subjects),
        sha256=published_sha256(published),
    )
    pdf = await run_in_threadpool(document_pdf.render_notice, source)
    return pdf_response(pdf, f"{published.title}.pdf", f"publicity-{publicity_id}.pdf", if_none_match, accept)


@public_router.get(
    "/{publicity_id}",
    operation_id="get_public_publicity",
    response_model=PublicPublicityRead,
    responses=PUBLIC_PROBLEMS,
)
async def get_public_publicity(publicity_id: uuid.UUID, session: SessionDep, clock: ClockDep) -> PublicPublicityRead:
    """What a notice publishes, for anyone, without a token: the title, each subject's name, lead organization and
    field, and the dates, from the notice's first day (404 before). No ids, no scores, no objections, no contacts."""
    notice = await service.read_public(session, publicity_id, clock)
    if notice.status == "scheduled":  # not published before its first day
        raise NotFound("publicity", str(publicity_id))
    return _published(notice)
