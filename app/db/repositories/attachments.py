"""Attachments and formal reviews: rows only; the bytes are in the object store (app/services/storage.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AttachmentRecord, FormalReviewRecord
from app.db.paging import PageRequest, PageResult


def _of(subject_type: str, subject_id: uuid.UUID) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return AttachmentRecord.subject_type == subject_type, AttachmentRecord.subject_id == subject_id


async def add(session: AsyncSession, record: AttachmentRecord) -> None:
    session.add(record)
    await session.flush()


async def stored_bytes(session: AsyncSession, subject_type: str, subject_id: uuid.UUID) -> int:
    query = select(func.coalesce(func.sum(AttachmentRecord.size), 0)).where(*_of(subject_type, subject_id))
    return int((await session.execute(query)).scalar_one())


async def get(
    session: AsyncSession, subject_type: str, subject_id: uuid.UUID, attachment_id: uuid.UUID
) -> AttachmentRecord | None:
    query = select(AttachmentRecord).where(*_of(subject_type, subject_id), AttachmentRecord.id == attachment_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(
    session: AsyncSession, subject_type: str, subject_id: uuid.UUID, page: PageRequest
) -> PageResult[AttachmentRecord]:
    """Oldest first, keyed by (uploaded_at, id)."""
    query = select(AttachmentRecord).where(*_of(subject_type, subject_id))
    if page.updated_since is not None:
        query = query.where(AttachmentRecord.uploaded_at >= page.updated_since)
    if page.after is not None:
        query = query.where(tuple_(AttachmentRecord.uploaded_at, AttachmentRecord.id) > tuple_(*page.after))
    query = query.order_by(AttachmentRecord.uploaded_at, AttachmentRecord.id).limit(page.limit + 1)
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return PageResult(rows, (rows[-1].uploaded_at, rows[-1].id) if more and rows else None)


async def all_of(session: AsyncSession, subject_type: str, subject_id: uuid.UUID) -> list[AttachmentRecord]:
    """Every attachment of a subject, oldest first: what a submission freezes (bounded by the subject's quota)."""
    query = (
        select(AttachmentRecord)
        .where(*_of(subject_type, subject_id))
        .order_by(AttachmentRecord.uploaded_at, AttachmentRecord.id)
    )
    return list((await session.execute(query)).scalars())


async def kinds_of(session: AsyncSession, subject_type: str, subject_id: uuid.UUID) -> set[str]:
    query = select(AttachmentRecord.kind).where(*_of(subject_type, subject_id)).distinct()
    return set((await session.execute(query)).scalars())


async def add_formal_review(session: AsyncSession, record: FormalReviewRecord) -> None:
    session.add(record)
    await session.flush()


async def latest_formal_review(session: AsyncSession, application_id: uuid.UUID) -> FormalReviewRecord | None:
    query = (
        select(FormalReviewRecord)
        .where(FormalReviewRecord.application_id == application_id)
        .order_by(FormalReviewRecord.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()
