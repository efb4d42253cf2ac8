"""Official documents (issue 16 §4), read within the reach of their center. They are numbered and issued with their
decision (`document_register`, called by `lifecycle.apply`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import DocumentRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import centers as centers_repo
from app.db.repositories import documents as repo
from app.domain.principal import Principal
from app.services import applications, centers
from app.services.document_pdf import PdfInput
from app.services.errors import NotFound

# --- reading ---------------------------------------------------------------------------------------------------


async def get_with_seq(
    session: AsyncSession, principal: Principal, document_id: uuid.UUID
) -> tuple[DocumentRecord, int | None]:
    """The document within the caller's reach, and the seq of the feed event that records its decision (None until
    it is committed). Every document has a center (an approval is filed under the one it creates), so its reach is
    the center's: one statement."""
    found = await repo.get_with_seq(session, document_id, centers_repo.ids_in_reach(centers.reach_of(principal)))
    if found is None:
        raise NotFound("document", str(document_id))
    return found


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
