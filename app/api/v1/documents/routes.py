"""Official documents (批复、认定、整改通知、撤销, issue 16 §4): read as JSON or downloaded as PDF, within the reach of
their subject. They are issued by the decisions themselves (approve, recognize, a rectification, revoke)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from app.api.deps import ModelResponse, Page, PageDep, PrincipalDep, SessionDep, paginate
from app.api.pdf import pdf_ok, pdf_response
from app.api.problems import responses
from app.api.v1.documents.schemas import DocumentRead, DocumentSubject
from app.domain import documents as rules
from app.services import document_pdf
from app.services import documents as service

router = APIRouter(tags=["documents"])
API = "/api/v1"


def _read(document: Any, event_seq: int | None = None) -> DocumentRead:
    return DocumentRead(
        id=document.id,
        kind=document.kind,
        kind_label=rules.KINDS[document.kind].label_zh,
        title=rules.title(document.kind, document.subject_name),
        number=document.number,
        year=document.year,
        seq=document.seq,
        external=document.external,
        issued_on=document.issued_on,
        subject=DocumentSubject(type=document.subject_type, id=document.subject_id, name=document.subject_name),
        application_id=document.application_id,
        center_id=document.center_id,
        content=document.content,
        sha256=document.sha256,
        event_seq=event_seq,
        pdf_url=f"{API}/documents/{document.id}.pdf",
        created_at=document.created_at,
    )


# Registered before `/documents/{document_id}`, whose parameter would otherwise take "….pdf" and answer 422.
@router.get(
    "/documents/{document_id}.pdf",
    operation_id="download_document_pdf",
    response_class=Response,
    responses={
        **pdf_ok("The document as a PDF (Chinese text in reportlab's built-in STSong-Light CID font)."),
        **responses("not-found"),
    },
)
async def download_document_pdf(
    document_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The document rendered as a PDF: title, number, date, subject, the decision in Chinese and the SHA-256 of its
    canonical data (with the feed seq of its event), so a printed copy can be checked against the feed."""
    source = await service.pdf_source(session, principal, document_id)
    pdf = await run_in_threadpool(document_pdf.render, source)
    # Offered under its number (豫科〔2026〕17号.pdf).
    return pdf_response(pdf, rules.pdf_file_name(source.number), f"document-{document_id}.pdf", if_none_match, accept)


@router.get(
    "/documents/{document_id}",
    operation_id="get_document",
    response_model=DocumentRead,
    responses=responses("not-found"),
)
async def get_document(document_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """One issued document, within the reach of its center (or of its application before there is one), with the
    feed seq of the event that records its decision."""
    document, seq = await service.get_with_seq(session, principal, document_id)
    return ModelResponse(_read(document, seq))


@router.get(
    "/applications/{application_id}/documents",
    operation_id="list_application_documents",
    response_model=Page[DocumentRead],
    responses=responses("not-found"),
)
async def list_application_documents(
    application_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, object]:
    """The documents issued on the application (its approval, 批复), oldest first."""
    result = await service.list_for_application(session, principal, application_id, page)
    return paginate([_read(d) for d in result.items], result.next_key)


@router.get(
    "/centers/{center_id}/documents",
    operation_id="list_center_documents",
    response_model=Page[DocumentRead],
    responses=responses("not-found"),
)
async def list_center_documents(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, object]:
    """The documents of the center, oldest first: its approval (批复), recognition (认定), rectification notices
    (整改通知) and revocation (撤销)."""
    result = await service.list_for_center(session, principal, center_id, page)
    return paginate([_read(d) for d in result.items], result.next_key)
