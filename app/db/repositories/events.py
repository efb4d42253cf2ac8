"""Appending to and reading the hash-chained feed. Appends serialise on one advisory lock so `seq` is
gap-free and follows commit order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventRecord, TransitionRecord
from app.domain.events import GENESIS_HASH, Event

FEED_LOCK_KEY = 0x7E1C_0001


def to_domain(record: EventRecord) -> Event:
    return Event(
        seq=record.seq,
        id=str(record.id),
        type=record.type,
        subject_type=record.subject_type,
        subject_id=str(record.subject_id),
        actor_sub=record.actor_sub,
        actor_role=record.actor_role,
        occurred_at=record.occurred_at,
        effective_on=record.effective_on,
        data=record.data,
        prev_hash=record.prev_hash,
    )


async def append(
    session: AsyncSession,
    *,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    actor_sub: str,
    actor_role: str,
    data: Mapping[str, Any],
    effective_on: date | None = None,
) -> EventRecord:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})
    last = (
        await session.execute(select(EventRecord.seq, EventRecord.hash).order_by(EventRecord.seq.desc()).limit(1))
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event = Event(
        seq=seq,
        id=str(uuid.uuid4()),
        type=type,
        subject_type=subject_type,
        subject_id=str(subject_id),
        actor_sub=actor_sub,
        actor_role=actor_role,
        occurred_at=datetime.now(UTC),
        effective_on=effective_on,
        data=dict(data),
        prev_hash=prev_hash,
    )
    record = EventRecord(
        seq=seq,
        id=uuid.UUID(event.id),
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_sub=actor_sub,
        actor_role=actor_role,
        occurred_at=event.occurred_at,
        effective_on=effective_on,
        data=event.body()["data"],
        prev_hash=prev_hash,
        hash=event.compute_hash(),
    )
    session.add(record)
    await session.flush()
    return record


async def add_transition(session: AsyncSession, record: TransitionRecord) -> None:
    session.add(record)
    await session.flush()


async def list_after(
    session: AsyncSession, *, after: int, limit: int, type: str | None = None, subject_id: uuid.UUID | None = None
) -> list[EventRecord]:
    query = select(EventRecord).where(EventRecord.seq > after)
    if type:
        query = query.where(EventRecord.type == type)
    if subject_id:
        query = query.where(EventRecord.subject_id == subject_id)
    return list((await session.execute(query.order_by(EventRecord.seq).limit(limit))).scalars())


async def stream_all(session: AsyncSession, batch: int = 5000) -> AsyncIterator[EventRecord]:
    after = 0
    while True:
        rows = await list_after(session, after=after, limit=batch)
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].seq


async def history(session: AsyncSession, subject_type: str, subject_id: uuid.UUID) -> list[TransitionRecord]:
    return list(
        (
            await session.execute(
                select(TransitionRecord)
                .where(TransitionRecord.subject_type == subject_type, TransitionRecord.subject_id == subject_id)
                .order_by(TransitionRecord.id)
            )
        ).scalars()
    )
