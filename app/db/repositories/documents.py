"""Issued documents and the number register."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, String, cast, exists, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import DocumentRecord, EventRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page

# One statement: the first number of a (prefix, year) inserts the row, every later one increments it. The row stays
# locked until the transaction ends, so concurrent issuers queue here and a rollback gives the number back.
_NEXT = text(
    "INSERT INTO document_counters (prefix, year, last_no) VALUES (:prefix, :year, 1) "
    "ON CONFLICT (prefix, year) DO UPDATE SET last_no = document_counters.last_no + 1 RETURNING last_no"
)


async def next_seq(session: AsyncSession, prefix: str, year: int) -> int:
    return int((await session.execute(_NEXT, {"prefix": prefix, "year": year})).scalar_one())


async def number_taken(session: AsyncSession, number: str) -> bool:
    return bool((await session.execute(select(exists().where(DocumentRecord.number == number)))).scalar_one())


async def add(session: AsyncSession, record: DocumentRecord) -> bool:
    """Insert the document; False when its number was taken meanwhile (a concurrent transaction committed it)."""
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError as exc:
        if "uq_documents_number" in str(exc.orig):
            return False
        raise
    return True


async def get_with_seq(
    session: AsyncSession, document_id: uuid.UUID, center_ids: Select[tuple[uuid.UUID]]
) -> tuple[DocumentRecord, int | None] | None:
    """The document if its center is among `center_ids` (the caller's reach, a subquery), with the seq of the feed
    event that issued it (its data names the document): one statement."""
    seq = (
        select(EventRecord.seq)
        .where(
            EventRecord.subject_id == DocumentRecord.subject_id,
            EventRecord.data["document"]["id"].astext == cast(DocumentRecord.id, String),
        )
        .limit(1)
        .scalar_subquery()
    )
    query = select(DocumentRecord, seq).where(
        DocumentRecord.id == document_id, DocumentRecord.center_id.in_(center_ids)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def page_for(
    session: AsyncSession, page: PageRequest, *, application_id: uuid.UUID | None = None, center_id: uuid.UUID | None
) -> PageResult[DocumentRecord]:
    query = select(DocumentRecord)
    if application_id is not None:
        query = query.where(DocumentRecord.application_id == application_id)
    else:
        query = query.where(DocumentRecord.center_id == center_id)
    return await keyset_page(session, query, DocumentRecord, page)
