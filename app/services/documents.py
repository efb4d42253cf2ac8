"""Official documents (issue 16 §4), read within their subject's reach. They are numbered and issued with their
decision (`document_register`, called by `lifecycle.apply`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import DocumentRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import documents as repo
from app.db.repositories import events as events_repo
from app.domain.principal import Principal
from app.services import applications, centers
from app.services.document_pdf import PdfInput
from app.services.errors import NotFound

# --- reading ---------------------------------------------------------------------------------------------------


async def _check_reach(session: AsyncSession, principal: Principal, document: DocumentRecord) -> None:
    """A document is read within its center's reach once there is a center (an approval is filed under the center it
    creates too), within its application's otherwise."""
    try:
        if document.center_id is not None:
            await centers.load(session, principal, document.center_id)
        else:
            assert document.application_id is not None
            await applications.load(session, principal, document.application_id)
    except NotFound:
        raise NotFound("document", str(document.id)) from None


async def get(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> DocumentRecord:
    document = await repo.get(session, document_id)
    if document is None:
        raise NotFound("document", str(document_id))
    await _check_reach(session, principal, document)
    return document


async def get_with_seq(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> tuple[DocumentRecord, int | None]:
    """The document and the seq of the feed event that records its decision (None while it is not committed)."""
    document = await get(session, principal, document_id)
    return document, await events_repo.seq_of_document(session, document.subject_id, str(document.id))


async def pdf_source(session: AsyncSession, principal: Principal, document_id: uuid.UUID) -> PdfInput:
    """What the PDF of a document shows: everything is read here, so rendering needs no database."""
    document, seq = await get_with_seq(session, principal, document_id)
    return PdfInput(
        kind=document.kind,
        number=document.number,
        issued_on=document.issued_on,
        subject_type=document.subject_type,
        subject_id=str(document.subject_id),
        subject_name=document.subject_name,
        content=dict(document.content),
        sha256=document.sha256,
        event_seq=seq,
    )


async def list_for_application(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, page: PageRequest
) -> PageResult[DocumentRecord]:
    record = await applications.load(session, principal, application_id)
    return await repo.page_for(session, page, application_id=record.id, center_id=None)


async def list_for_center(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, page: PageRequest
) -> PageResult[DocumentRecord]:
    record = await centers.load(session, principal, center_id)
    return await repo.page_for(session, page, center_id=record.id)
