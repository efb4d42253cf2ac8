"""The feed's Merkle tree in PostgreSQL: perfect-subtree hashes in `log_nodes`, integrated from the feed.

Leaf i (from 0) is event seq i + 1. Integration takes its own advisory lock, reads the events the tree does not hold
yet in seq order, a batch at a time, and inserts the nodes they complete; concurrent integrators wait for the lock and
then find nothing left to do. A proof reads only the O(log n) nodes its plan names, in one query."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventRecord, LogNodeRecord
from app.db.repositories import events
from app.db.repositories.events import to_domain
from app.domain import merkle
from app.domain.events import canonical_json

LOG_LOCK_KEY = 0x7E1C_0002
BATCH = 2000


def entry_bytes(record: EventRecord) -> bytes:
    """What a leaf commits to: the event's canonical JSON, whose SHA-256 is its chain `hash`."""
    return canonical_json(to_domain(record).body()).encode("utf-8")


async def tree_size(session: AsyncSession) -> int:
    last = await session.scalar(select(func.max(LogNodeRecord.idx)).where(LogNodeRecord.level == 0))
    return 0 if last is None else int(last) + 1


async def nodes(session: AsyncSession, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    keys = sorted(set(wanted))
    if not keys:
        return {}
    rows = await session.execute(
        select(LogNodeRecord.level, LogNodeRecord.idx, LogNodeRecord.hash).where(
            tuple_(LogNodeRecord.level, LogNodeRecord.idx).in_(keys)
        )
    )
    return {(row.level, row.idx): bytes(row.hash) for row in rows}


async def integrate(session: AsyncSession) -> int:
    """Bring the tree up to the feed's last event; returns the tree size. The caller's transaction commits it."""
    size = await tree_size(session)
    if size >= await events.head(session):
        return size
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK_KEY})
    size = await tree_size(session)  # another integrator may have gone first
    while True:
        batch = list(
            (
                await session.execute(
                    select(EventRecord).where(EventRecord.seq > size).order_by(EventRecord.seq).limit(BATCH)
                )
            ).scalars()
        )
        if not batch:
            return size
        if batch[0].seq != size + 1:
            raise RuntimeError(f"the feed has no event {size + 1}: the tree cannot grow past a gap")
        frontier = await nodes(session, merkle.frontier_nodes(size))
        created = merkle.new_nodes(size, frontier, [merkle.leaf_hash(entry_bytes(record)) for record in batch])
        await session.execute(
            insert(LogNodeRecord),
            [{"level": level, "idx": idx, "hash": digest} for (level, idx), digest in created.items()],
        )
        size += len(batch)


async def event_at(session: AsyncSession, seq: int) -> EventRecord | None:
    return await session.get(EventRecord, seq)


async def leaves(session: AsyncSession, after: int, limit: int) -> list[bytes]:
    rows = await session.execute(
        select(LogNodeRecord.hash)
        .where(LogNodeRecord.level == 0, LogNodeRecord.idx >= after)
        .order_by(LogNodeRecord.idx)
        .limit(limit)
    )
    return [bytes(digest) for digest in rows.scalars()]
