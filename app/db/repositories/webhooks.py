"""SQL for webhooks, their deliveries, and the jobs that make the deliveries.

Jobs go into procrastinate's table through its own SQL function (`procrastinate_defer_jobs_v1`, the one its
`defer` calls) on *this* transaction, so a delivery row, its job and the webhook's cursor commit together or not at
all: no delivery without a job, no job without a delivery, no event dispatched twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ARRAY, Text, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventRecord, WebhookDeliveryRecord, WebhookRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import events
from app.db.repositories.common import keyset_page


@dataclass(frozen=True, slots=True)
class FeedItem:
    seq: int
    type: str
    subject_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class NewDelivery:
    id: uuid.UUID
    event_seq: int
    subject_id: uuid.UUID


# --- subscriptions -------------------------------------------------------------------------------------------------


async def add(session: AsyncSession, record: WebhookRecord) -> WebhookRecord:
    session.add(record)
    await session.flush()
    return record


async def get(session: AsyncSession, webhook_id: uuid.UUID, *, for_update: bool = False) -> WebhookRecord | None:
    """An active (not deleted) webhook."""
    query = select(WebhookRecord).where(WebhookRecord.id == webhook_id, WebhookRecord.active.is_(True))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_page(session: AsyncSession, page: PageRequest) -> PageResult[WebhookRecord]:
    return await keyset_page(session, select(WebhookRecord).where(WebhookRecord.active.is_(True)), WebhookRecord, page)


async def secrets_for_update(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """Every webhook's stored secret (deleted ones too), the rows locked."""
    query = select(WebhookRecord.id, WebhookRecord.secret).order_by(WebhookRecord.id).with_for_update()
    return [(row.id, row.secret) for row in await session.execute(query)]


async def store_secret(session: AsyncSession, webhook_id: uuid.UUID, secret: str) -> None:
    # Re-encrypting is not an edit: keep `version` and `updated_at` as the client left them.
    await session.execute(
        update(WebhookRecord)
        .where(WebhookRecord.id == webhook_id)
        .values(secret=secret, updated_at=WebhookRecord.updated_at)
        .execution_options(synchronize_session=False)
    )


feed_head = events.head


# --- dispatch ------------------------------------------------------------------------------------------------------


async def due(session: AsyncSession, head: int) -> list[uuid.UUID]:
    """Active webhooks whose cursor is behind the feed, furthest behind first."""
    query = (
        select(WebhookRecord.id)
        .where(WebhookRecord.active.is_(True), WebhookRecord.cursor_seq < head)
        .order_by(WebhookRecord.cursor_seq, WebhookRecord.id)
    )
    return list((await session.execute(query)).scalars())


async def creation_seq(session: AsyncSession, webhook_id: uuid.UUID) -> int | None:
    """The seq of the webhook's `webhook.created` event, None until the sequencer has placed it."""
    query = select(EventRecord.seq).where(EventRecord.subject_id == webhook_id, EventRecord.type == "webhook.created")
    return (await session.execute(query.limit(1))).scalar_one_or_none()


async def lock_for_dispatch(session: AsyncSession, webhook_id: uuid.UUID) -> WebhookRecord | None:
    """The webhook row locked for this transaction, or None when another dispatcher holds it (or it is gone)."""
    query = (
        select(WebhookRecord)
        .where(WebhookRecord.id == webhook_id, WebhookRecord.active.is_(True))
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def feed_after(
    session: AsyncSession, *, after: int, upto: int, event_types: Sequence[str], limit: int
) -> list[FeedItem]:
    query = select(EventRecord.seq, EventRecord.type, EventRecord.subject_id).where(
        EventRecord.seq > after, EventRecord.seq <= upto
    )
    if event_types:
        query = query.where(EventRecord.type.in_(list(event_types)))
    rows = await session.execute(query.order_by(EventRecord.seq).limit(limit))
    return [FeedItem(seq=row.seq, type=row.type, subject_id=row.subject_id) for row in rows]


async def insert_deliveries(
    session: AsyncSession, webhook_id: uuid.UUID, items: Sequence[FeedItem]
) -> list[NewDelivery]:
    """Pending deliveries for `items`, in seq order; an event that already has one for this webhook is skipped."""
    if not items:
        return []
    statement = (
        insert(WebhookDeliveryRecord)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "webhook_id": webhook_id,
                    "event_seq": item.seq,
                    "event_type": item.type,
                    "subject_id": item.subject_id,
                    "status": "pending",
                    "attempts": 0,
                }
                for item in items
            ]
        )
        .on_conflict_do_nothing(index_elements=["webhook_id", "event_seq"])
        .returning(WebhookDeliveryRecord.id, WebhookDeliveryRecord.event_seq, WebhookDeliveryRecord.subject_id)
    )
    rows = (await session.execute(statement)).all()
    created = [NewDelivery(id=row.id, event_seq=row.event_seq, subject_id=row.subject_id) for row in rows]
    return sorted(created, key=lambda d: d.event_seq)


_DEFER = text(
    """
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(
            CAST(:queue AS varchar), CAST(:task AS varchar), 0, job.lock, NULL::text,
            jsonb_build_object('delivery_id', job.delivery_id::text), NULL::timestamptz
        )::procrastinate_job_to_defer_v1
        FROM unnest(:locks, :delivery_ids) WITH ORDINALITY AS job(lock, delivery_id, n)
        ORDER BY job.n
    ))
    """
).bindparams(
    bindparam("locks", type_=ARRAY(Text)),
    bindparam("delivery_ids", type_=ARRAY(UUID(as_uuid=True))),
)


async def enqueue_deliveries(
    session: AsyncSession, *, queue: str, task: str, jobs: Sequence[tuple[str, uuid.UUID]]
) -> None:
    """One job per (lock, delivery id), created in the given order: procrastinate runs jobs that share a lock one
    at a time, oldest first."""
    if not jobs:
        return
    await session.execute(
        _DEFER,
        {"queue": queue, "task": task, "locks": [lock for lock, _ in jobs], "delivery_ids": [d for _, d in jobs]},
    )


async def advance_cursor(session: AsyncSession, webhook_id: uuid.UUID, seq: int) -> None:
    # Progress is not an edit: keep `version` and `updated_at` as the client left them.
    await session.execute(
        update(WebhookRecord)
        .where(WebhookRecord.id == webhook_id)
        .values(cursor_seq=seq, updated_at=WebhookRecord.updated_at)
        .execution_options(synchronize_session=False)
    )


# --- deliveries ----------------------------------------------------------------------------------------------------


async def get_delivery(
    session: AsyncSession, delivery_id: uuid.UUID
) -> tuple[WebhookDeliveryRecord, WebhookRecord, EventRecord] | None:
    query = (
        select(WebhookDeliveryRecord, WebhookRecord, EventRecord)
        .join(WebhookRecord, WebhookRecord.id == WebhookDeliveryRecord.webhook_id)
        .join(EventRecord, EventRecord.seq == WebhookDeliveryRecord.event_seq)
        .where(WebhookDeliveryRecord.id == delivery_id)
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def lock_pending_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDeliveryRecord | None:
    """The delivery locked for this transaction while it is still pending (None once it succeeded, failed or was
    cancelled)."""
    query = (
        select(WebhookDeliveryRecord)
        .where(WebhookDeliveryRecord.id == delivery_id, WebhookDeliveryRecord.status == "pending")
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def cancel_pending(session: AsyncSession, webhook_id: uuid.UUID) -> int:
    statement = (
        update(WebhookDeliveryRecord)
        .where(WebhookDeliveryRecord.webhook_id == webhook_id, WebhookDeliveryRecord.status == "pending")
        .values(status="cancelled", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def list_deliveries(
    session: AsyncSession, webhook_id: uuid.UUID, page: PageRequest, *, status: str | None = None
) -> PageResult[WebhookDeliveryRecord]:
    query = select(WebhookDeliveryRecord).where(WebhookDeliveryRecord.webhook_id == webhook_id)
    if status:
        query = query.where(WebhookDeliveryRecord.status == status)
    return await keyset_page(session, query, WebhookDeliveryRecord, page)
