"""The event feed for other systems: replay from any sequence number, and re-check the whole hash chain."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventRecord
from app.db.repositories import events as repo
from app.domain.events import GENESIS_HASH, ChainCheck, verify_chain
from app.domain.principal import Principal
from app.services.errors import NotFound

READERS = ("province", "observer")


def check_reader(principal: Principal, resource: str = "events") -> None:
    """The feed, and what carries its events (the log's inclusion proofs), is for its readers only: 404 to others."""
    if principal.role not in READERS:
        raise NotFound(resource, "*")


async def list_events(
    session: AsyncSession,
    principal: Principal,
    *,
    after: int,
    limit: int,
    type: str | None,
    subject_id: uuid.UUID | None,
) -> list[EventRecord]:
    check_reader(principal)
    return await repo.list_after(session, after=after, limit=limit, type=type, subject_id=subject_id)


async def verify(session: AsyncSession, principal: Principal) -> ChainCheck:
    """Recompute every hash from the stored fields, in seq order: the first altered, missing or reordered event is
    reported by its seq."""
    check_reader(principal)
    previous_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    async for batch in repo.batches(session):
        pairs = [(repo.to_domain(record), record.hash) for record in batch]
        # Hashing is the CPU-heavy part and grows with the feed: each batch is hashed in a worker thread, so the
        # event loop keeps answering other requests while a long chain is checked (issue 12).
        result = await asyncio.to_thread(verify_chain, pairs, previous_hash=previous_hash, expected_seq=expected_seq)
        if not result.ok:
            return ChainCheck(ok=False, checked=checked + result.checked, first_bad_seq=result.first_bad_seq)
        checked += result.checked
        previous_hash, expected_seq = batch[-1].hash, batch[-1].seq + 1
    return ChainCheck(ok=True, checked=checked, first_bad_seq=None)
