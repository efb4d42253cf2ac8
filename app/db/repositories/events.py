"""Appending to and reading the hash-chained feed. Appends serialise on one advisory lock so `seq` is
gap-free and follows commit order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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


PENDING = "tic_pending_events"


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
) -> None:
    """Queue an event for this transaction. It is chained and written by `_write_pending` just before COMMIT, so
    the feed lock is held only for the insert and the commit, never while the request builds its response."""
    session.sync_session.info.setdefault(PENDING, []).append(
        {
            "type": type,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "actor_sub": actor_sub,
            "actor_role": actor_role,
            "data": dict(data),
            "effective_on": effective_on,
            "occurred_at": datetime.now(UTC),
        }
    )


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Chain and insert the queued events: seq is gap-free and follows commit order because every writer takes the
    same transaction-scoped advisory lock here, right before its COMMIT."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY})
    last = session.execute(select(EventRecord.seq, EventRecord.hash).order_by(EventRecord.seq.desc()).limit(1)).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    for item in pending:
        chained = Event(
            seq=seq,
            id=str(uuid.uuid4()),
            type=item["type"],
            subject_type=item["subject_type"],
            subject_id=str(item["subject_id"]),
            actor_sub=item["actor_sub"],
            actor_role=item["actor_role"],
            occurred_at=item["occurred_at"],
            effective_on=item["effective_on"],
            data=item["data"],
            prev_hash=prev_hash,
        )
        digest = chained.compute_hash()
        session.add(
            EventRecord(
                seq=seq,
                id=uuid.UUID(chained.id),
                type=chained.type,
                subject_type=chained.subject_type,
                subject_id=item["subject_id"],
                actor_sub=chained.actor_sub,
                actor_role=chained.actor_role,
                occurred_at=chained.occurred_at,
                effective_on=chained.effective_on,
                data=chained.body()["data"],
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        seq, prev_hash = seq + 1, digest
    session.flush()


async def write_pending(session: AsyncSession) -> None:
    """Write the queued events now (taking the feed lock until COMMIT), for a use case that needs their seq."""
    await session.run_sync(_write_pending)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, *args: Any) -> None:
    session.info.pop(PENDING, None)


async def head(session: AsyncSession) -> int:
    """The highest committed feed seq. The feed commits in seq order (one advisory lock), so every seq up to this
    one is visible too."""
    return int((await session.execute(select(func.coalesce(func.max(EventRecord.seq), 0)))).scalar_one())


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


async def batches(session: AsyncSession, batch: int = 2000) -> AsyncIterator[list[EventRecord]]:
    """The whole feed in seq order, `batch` events at a time (never all of it in memory at once)."""
    after = 0
    while True:
        rows = await list_after(session, after=after, limit=batch)
        if not rows:
            return
        yield rows
        after = rows[-1].seq


async def history(
    session: AsyncSession, subject_type: str, subject_id: uuid.UUID, *, after: int | None = None, limit: int
) -> list[TransitionRecord]:
    """Up to `limit` transitions of one subject in recording order, after transition `after` (an id)."""
    query = select(TransitionRecord).where(
        TransitionRecord.subject_type == subject_type, TransitionRecord.subject_id == subject_id
    )
    if after is not None:
        query = query.where(TransitionRecord.id > after)
    return list((await session.execute(query.order_by(TransitionRecord.id).limit(limit))).scalars())
