"""Attachments (附件) of applications and centers, and the formal review (形式审查) of an application."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import (
    AttachmentLimitsDep,
    ClockDep,
    IfMatchDep,
    ModelResponse,
    Page,
    PageDep,
    PrincipalDep,
    SessionDep,
    StorageDep,
    page_response,
    versioned,
)
from app.api.problems import responses
from app.api.v1.applications.schemas import ApplicationRead, FrozenAttachment
from app.api.v1.common import Strict
from app.domain import attachments as rules
from app.services import applications as applications_service
from app.services import attachments as service
from app.services import formal_reviews

router = APIRouter(tags=["attachments"])

SUBJECTS = {"applications": ("application", "application_id"), "centers": ("center", "center_id")}


class Uploader(BaseModel):
    role: str
    org_id: uuid.UUID | None = Field(description="The uploader's organization; null for the province.")


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    subject_type: Literal["application", "center"]
    subject_id: uuid.UUID
    kind: str = Field(description="A code of GET /api/v1/reference/attachment-kinds.")
    file_name: str
    sha256: str = Field(description="SHA-256 of the bytes, hex; also the download's ETag.")
    size: int = Field(description="Bytes.")
    media_type: str = Field(description="Recognised from the bytes, never taken from the upload's header.")
    note: str | None
    uploaded_by: Uploader
    uploaded_at: datetime


def attachment_read(record: Any) -> AttachmentRead:
    return AttachmentRead(
        id=record.id,
        subject_type=record.subject_type,
        subject_id=record.subject_id,
        kind=record.kind,
        file_name=record.file_name,
        sha256=record.sha256,
        size=record.size,
        media_type=record.media_type,
        note=record.note,
        uploaded_by=Uploader(role=record.uploader_role, org_id=record.uploader_org_id),
        uploaded_at=record.uploaded_at,
    )


Kind = Annotated[str, Form(max_length=32, description="Attachment kind code (GET /reference/attachment-kinds).")]
Note = Annotated[str | None, Form(max_length=2000, description="Optional note on the document.")]
Upload = Annotated[UploadFile, File(description="The file: PDF, PNG, JPEG, OFD, XLSX, DOCX or ZIP.")]


UPLOAD_DOC = """Attach a document (multipart form: `kind`, `file`, optional `note`). The bytes are hashed (SHA-256),
their media type recognised from the content (PDF, PNG, JPEG, OFD, XLSX, DOCX, ZIP; the upload's header is ignored)
and stored once per digest; the answer is the attachment. Refused: an unknown `kind` (422 on `kind`), a file over
the per-file limit (413 `attachment-too-large`), an empty file (422 `attachment-empty`), another type (422
`attachment-type-refused`), a subject over its total (409 `attachment-quota-exceeded`) — nothing is stored then."""

CONTENT_DOC = """The stored bytes, streamed, with `ETag` = the SHA-256 in quotes (`If-None-Match` answers 304) and a
`Content-Disposition` naming the file in UTF-8 (RFC 6266 / RFC 5987 `filename*`, with an ASCII fallback)."""


async def _upload(
    subject_type: str,
    subject_id: uuid.UUID,
    location: str,
    session: Any,
    principal: Any,
    storage: Any,
    limits: Any,
    clock: Any,
    kind: str,
    file: UploadFile,
    note: str | None,
) -> JSONResponse:
    record = await service.upload(
        session,
        principal,
        storage,
        subject_type,
        subject_id,
        service.Upload(kind=kind, note=note, file_name=file.filename, file=file.file),
        limits=limits,
        clock=clock,
    )
    return ModelResponse(attachment_read(record), status_code=201, headers={"Location": f"{location}/{record.id}"})


async def _list(subject_type: str, subject_id: uuid.UUID, session: Any, principal: Any, page: Any) -> JSONResponse:
    result = await service.list_attachments(session, principal, subject_type, subject_id, page)
    return page_response(Page[AttachmentRead], [attachment_read(r) for r in result.items], result.next_key)


async def _content(
    subject_type: str,
    subject_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: Any,
    principal: Any,
    storage: Any,
    if_none_match: str | None,
) -> Response:
    record = await service.get_attachment(session, principal, subject_type, subject_id, attachment_id)
    headers = {"ETag": f'"{record.sha256}"', "Cache-Control": "private, no-cache"}
    if rules.etag_matches(if_none_match, record.sha256):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = rules.content_disposition(record.file_name)
    headers["Content-Length"] = str(record.size)
    headers["X-Content-Type-Options"] = "nosniff"
    return StreamingResponse(service.content(storage, record.sha256), media_type=record.media_type, headers=headers)


IfNoneMatch = Annotated[
    str | None, Header(alias="If-None-Match", description="The ETag of a copy held: 304 when it is current.")
]
CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes.",
        # The file's own type (one of the accepted ones); octet-stream first, so generated clients take bytes.
        "content": {
            m: {"schema": {"type": "string", "format": "binary"}}
            for m in ("application/octet-stream", *rules.ALLOWED_MEDIA_TYPES)
        },
    },
    304: {"description": "Not modified: the copy held (If-None-Match) is current."},
    **responses("not-found"),
}
UPLOAD_RESPONSES = responses(
    "not-found", "rule-violation", "attachment-too-large", "attachment-type-refused", "attachment-quota-exceeded"
)


# --- applications -------------------------------------------------------------------------------------------------


@router.post(
    "/applications/{application_id}/attachments",
    operation_id="upload_application_attachment",
    status_code=201,
    response_model=AttachmentRead,
    responses=UPLOAD_RESPONSES,
    description=UPLOAD_DOC
    + " An application takes attachments while editable (draft, returned, revising, incomplete): its lead, or "
    "the province; a submission freezes the list it is judged on.",
)
async def upload_application_attachment(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    storage: StorageDep,
    limits: AttachmentLimitsDep,
    clock: ClockDep,
    kind: Kind,
    file: Upload,
    note: Note = None,
) -> JSONResponse:
    location = f"/api/v1/applications/{application_id}/attachments"
    return await _upload(
        "application", application_id, location, session, principal, storage, limits, clock, kind, file, note
    )


@router.get(
    "/applications/{application_id}/attachments",
    operation_id="list_application_attachments",
    response_model=Page[AttachmentRead],
    responses=responses("not-found"),
)
async def list_application_attachments(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> JSONResponse:
    """The application's attachments, oldest first, for its readers (experts only while on its panel in review)."""
    return await _list("application", application_id, session, principal, page)


@router.get(
    "/applications/{application_id}/attachments/{attachment_id}",
    operation_id="get_application_attachment",
    response_model=AttachmentRead,
    responses=responses("not-found"),
)
async def get_application_attachment(
    application_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AttachmentRead:
    """One attachment's record: kind, file name, digest, size, media type, uploader."""
    record = await service.get_attachment(session, principal, "application", application_id, attachment_id)
    return attachment_read(record)


@router.get(
    "/applications/{application_id}/attachments/{attachment_id}/content",
    operation_id="get_application_attachment_content",
    response_class=Response,
    responses=CONTENT_RESPONSES,
    description=CONTENT_DOC,
)
async def get_application_attachment_content(
    application_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    storage: StorageDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return await _content("application", application_id, attachment_id, session, principal, storage, if_none_match)


# --- centers ------------------------------------------------------------------------------------------------------


@router.post(
    "/centers/{center_id}/attachments",
    operation_id="upload_center_attachment",
    status_code=201,
    response_model=AttachmentRead,
    responses=UPLOAD_RESPONSES,
    description=UPLOAD_DOC + " A center takes attachments from its lead or the province until it is revoked or exits.",
)
async def upload_center_attachment(
    center_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    storage: StorageDep,
    limits: AttachmentLimitsDep,
    clock: ClockDep,
    kind: Kind,
    file: Upload,
    note: Note = None,
) -> JSONResponse:
    location = f"/api/v1/centers/{center_id}/attachments"
    return await _upload("center", center_id, location, session, principal, storage, limits, clock, kind, file, note)


@router.get(
    "/centers/{center_id}/attachments",
    operation_id="list_center_attachments",
    response_model=Page[AttachmentRead],
    responses=responses("not-found"),
)
async def list_center_attachments(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> JSONResponse:
    """The center's attachments, oldest first, for the center's readers."""
    return await _list("center", center_id, session, principal, page)


@router.get(
    "/centers/{center_id}/attachments/{attachment_id}",
    operation_id="get_center_attachment",
    response_model=AttachmentRead,
    responses=responses("not-found"),
)
async def get_center_attachment(
    center_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> AttachmentRead:
    """One attachment's record: kind, file name, digest, size, media type, uploader."""
    return attachment_read(await service.get_attachment(session, principal, "center", center_id, attachment_id))


@router.get(
    "/centers/{center_id}/attachments/{attachment_id}/content",
    operation_id="get_center_attachment_content",
    response_class=Response,
    responses=CONTENT_RESPONSES,
    description=CONTENT_DOC,
)
async def get_center_attachment_content(
    center_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    storage: StorageDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return await _content("center", center_id, attachment_id, session, principal, storage, if_none_match)


# --- formal review (形式审查) ---------------------------------------------------------------------------------------


class RuleVerdict(Strict):
    verdict: Literal["verified", "doubtful", "not_evidenced"]
    note: str | None = Field(default=None, max_length=2000, description="Required unless verified.")


class FormalReviewBody(Strict):
    """A formal review of the current submission: a verdict for every rule that needs evidence (the checklist's
    `evidence[].rule`), the outcome, and for `incomplete` what the lead must supply."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "verdicts": {"rd_spend_3y_avg": {"verdict": "verified", "note": "2023–2025 专项审计报告"}},
                    "outcome": "complete",
                }
            ]
        }
    )

    verdicts: dict[Annotated[str, Field(max_length=64)], RuleVerdict] = Field(max_length=64)
    outcome: Literal["complete", "incomplete"]
    missing: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=2000)


class EvidenceItemRead(BaseModel):
    rule: str
    kinds: list[str]
    attached: bool
    verdict: Literal["verified", "doubtful", "not_evidenced"] | None


class FormalReviewRecordRead(BaseModel):
    id: int
    outcome: Literal["complete", "incomplete"]
    verdicts: dict[str, RuleVerdict]
    missing: list[str]
    note: str | None
    attachments: list[FrozenAttachment]
    recorded_at: datetime


class FormalReviewRead(BaseModel):
    application_id: uuid.UUID
    status: str
    complete: bool = Field(description="The current submission's formal review concluded complete.")
    missing_sections: list[str]
    attachments: list[FrozenAttachment] = Field(description="The attachments frozen by the current submission.")
    evidence: list[EvidenceItemRead]
    blockers: list[dict[str, Any]] = Field(description="What stops a `complete` outcome now (before verdicts).")
    latest: FormalReviewRecordRead | None


def _formal_read(view: formal_reviews.Checklist) -> FormalReviewRead:
    latest = view.latest
    return FormalReviewRead(
        application_id=view.application_id,
        status=view.status,
        complete=view.complete,
        missing_sections=view.missing_sections,
        attachments=[FrozenAttachment.model_validate(a) for a in view.attachments],
        evidence=[EvidenceItemRead.model_validate(e) for e in view.evidence],
        blockers=view.blockers,
        latest=None
        if latest is None
        else FormalReviewRecordRead(
            id=latest.id,
            outcome=latest.outcome,
            verdicts={k: RuleVerdict.model_validate(v) for k, v in latest.verdicts.items()},
            missing=list(latest.missing),
            note=latest.note,
            attachments=[FrozenAttachment.model_validate(a) for a in latest.attachments],
            recorded_at=latest.recorded_at,
        ),
    )


@router.get(
    "/applications/{application_id}/formal-review",
    operation_id="get_formal_review",
    response_model=FormalReviewRead,
    responses=responses("not-found"),
)
async def get_formal_review(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> FormalReviewRead:
    """The formal review (形式审查) checklist of the current submission: missing plan sections, each eligibility rule
    that needs evidence with the kinds that back it and whether one is in the frozen attachments, and the latest
    recorded review's verdicts. Experts do not see it."""
    return _formal_read(await formal_reviews.checklist(session, principal, application_id))


@router.post(
    "/applications/{application_id}/formal-review",
    operation_id="record_formal_review",
    response_model=ApplicationRead,
    responses=responses("not-found", "invalid-transition", "rule-violation", "version-mismatch"),
)
async def record_formal_review(
    application_id: uuid.UUID,
    body: FormalReviewBody,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    expected_version: IfMatchDep,
) -> JSONResponse:
    """Record the formal review of a recommended application (province). Every rule that needs evidence gets a
    verdict (`verified`, `doubtful`, `not_evidenced`; a note unless verified). `complete` is refused (409, with each
    failed condition) while a plan section or a rule's evidence is missing or a rule is `not_evidenced`; it leaves
    the application `recommended` and opens `open_review`. `incomplete` (with `missing`) returns it to its lead:
    recommended → incomplete; the lead completes the material and submits again, back to formal review."""
    record, _ = await formal_reviews.record_review(
        session,
        principal,
        application_id,
        outcome=body.outcome,
        verdicts={rule: v.model_dump() for rule, v in body.verdicts.items()},
        missing=body.missing,
        note=body.note,
        clock=clock,
        expected_version=expected_version,
    )
    allowed = await applications_service.allowed_of(session, principal, [record], clock)
    out = ApplicationRead.model_validate(record)
    out.allowed_actions = allowed[record.id]
    return versioned(out, record.version)
