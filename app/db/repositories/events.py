"""Appending to and reading the hash-chained feed (issue 14).

A transaction appends its events to `event_queue` right before its COMMIT, with no lock shared with other writers,
so PostgreSQL can group the commits of concurrent transitions. The sequencer (`sequence_batch`, run by the one
leader of app/services/sequencer.py) moves committed queue rows into `events` in `id` order, giving them consecutive
seqs and chaining prev_hash/hash, and integrates the Merkle tree, all in one transaction under one lock; it is the
only writer of `events`, so the feed holds only sequenced events and `seq` is gap-free.

Order. A subject's transitions are serialised by its row lock (SELECT ... FOR UPDATE, held until COMMIT), and a
transaction queues its events after every statement it ran, right before COMMIT. So when two transactions change one
subject, the later one reaches its queue insert only after the earlier one committed, whose queue rows then already
hold lower identity values (an identity is drawn at insert and never reused): in `id` order, and so in `seq` order,
the subject's events come as its transitions did. More generally, a transaction that begins after another committed
draws higher ids than all of that one's; only transactions that overlapped in time may be sequenced in either order.
Gaps in `id` (rolled-back inserts) do not matter: seq is assigned by the sequencer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.models import EventQueueRecord, EventRecord, TransitionRecord
from app.domain.events import GENESIS_HASH, Event, Unsequenced, chain

# One sequencer batch at a time (transaction-scoped), and one leader among the processes (session-scoped).
SEQUENCE_LOCK_KEY = 0x7E1C_0001
LEADER_LOCK_KEY = 0x7E1C_0005


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
    """Queue an event for this transaction. `_write_pending` inserts it into `event_queue` just before COMMIT (after
    every lock the transaction takes), so an event exists if and only if its transaction committed."""
    session.sync_session.info.setdefault(PENDING, []).append(
        {
            "event_id": uuid.uuid4(),
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
    """Insert the queued events into the append queue: one statement, no global lock, nothing read first."""
    pending = session.info.pop(PENDING, None)
    if pending:
        session.execute(insert(EventQueueRecord), pending)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, *args: Any) -> None:
    session.info.pop(PENDING, None)


def _unsequenced(row: EventQueueRecord) -> Unsequenced:
    return Unsequenced(
        id=str(row.event_id),
        type=row.type,
        subject_type=row.subject_type,
        subject_id=str(row.subject_id),
        actor_sub=row.actor_sub,
        actor_role=row.actor_role,
        occurred_at=row.occurred_at,
        effective_on=row.effective_on,
        data=row.data,
    )


async def sequence_batch(session: AsyncSession, *, limit: int) -> int:
    """Move up to `limit` committed queue rows, in `id` order, onto the end of the feed; answers how many. The
    caller's transaction commits it (with the tree nodes its caller integrates).

    The transaction-scoped SEQUENCE lock makes concurrent calls (two leaders for a moment, or the tests' per-request
    sequencing) take turns: each reads the head the previous one committed. It is held across this COMMIT only,
    never by a transition's."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK_KEY})
    rows = list((await session.execute(select(EventQueueRecord).order_by(EventQueueRecord.id).limit(limit))).scalars())
    if not rows:
        return 0
    last = (
        await session.execute(select(EventRecord.seq, EventRecord.hash).order_by(EventRecord.seq.desc()).limit(1))
    ).first()
    head_seq, head_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)
    chained = chain([_unsequenced(row) for row in rows], head_seq=head_seq, head_hash=head_hash)
    await session.execute(
        insert(EventRecord),
        [
            {
                "seq": item.seq,
                "id": row.event_id,
                "type": item.type,
                "subject_type": item.subject_type,
                "subject_id": row.subject_id,
                "actor_sub": item.actor_sub,
                "actor_role": item.actor_role,
                "occurred_at": item.occurred_at,
                "effective_on": item.effective_on,
                "data": row.data,
                "prev_hash": item.prev_hash,
                "hash": digest,
            }
            for row, (item, digest) in zip(rows, chained, strict=True)
        ],
    )
    await session.execute(delete(EventQueueRecord).where(EventQueueRecord.id.in_([row.id for row in rows])))
    for row in rows:  # gone from the table: keep the identity map from holding them
        session.expunge(row)
    return len(rows)


async def queued(session: AsyncSession) -> int:
    """How many committed events wait for the sequencer."""
    return int((await session.execute(select(func.count()).select_from(EventQueueRecord))).scalar_one())


async def head(session: AsyncSession) -> int:
    """The highest committed feed seq. Only the sequencer writes the feed, one batch at a time under one lock, so
    every seq up to this one is visible too."""
    return int((await session.execute(select(func.coalesce(func.max(EventRecord.seq), 0)))).scalar_one())


async def add_transition(session: AsyncSession, record: TransitionRecord) -> None:
    session.add(record)
    await session.flush()


async def list_after(
    session: AsyncSession,
    *,
    after: int,
    limit: int,
    type: str | None = None,
    subject_id: uuid.UUID | None = None,
    upto: int | None = None,
) -> list[EventRecord]:
    query = select(EventRecord).where(EventRecord.seq > after)
    if upto is not None:
        query = query.where(EventRecord.seq <= upto)
    if type:
        query = query.where(EventRecord.type == type)
    if subject_id:
        query = query.where(EventRecord.subject_id == subject_id)
    return list((await session.execute(query.order_by(EventRecord.seq).limit(limit))).scalars())


async def batches(
    session: AsyncSession, batch: int = 2000, *, upto: int | None = None
) -> AsyncIterator[list[EventRecord]]:
    """The whole feed (or its events up to seq `upto`) in seq order, `batch` events at a time (never all of it in
    memory at once)."""
    after = 0
    while True:
        rows = await list_after(session, after=after, limit=batch, upto=upto)
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
