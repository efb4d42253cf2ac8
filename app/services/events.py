"""The event feed for other systems: replay from any sequence number, and re-check the whole hash chain."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventRecord
from app.db.repositories import events as repo
from app.domain.events import ChainCheck, verify_chain
from app.domain.principal import Principal
from app.services.errors import NotFound

READERS = ("province", "observer")


def _check_reader(principal: Principal) -> None:
    if principal.role not in READERS:
        raise NotFound("events", "*")


async def list_events(
    session: AsyncSession,
    principal: Principal,
    *,
    after: int,
    limit: int,
    type: str | None,
    subject_id: uuid.UUID | None,
) -> list[EventRecord]:
    _check_reader(principal)
    return await repo.list_after(session, after=after, limit=limit, type=type, subject_id=subject_id)


async def verify(session: AsyncSession, principal: Principal) -> ChainCheck:
    """Recompute every hash from the stored fields, in seq order: the first altered, missing or reordered event is
    reported by its seq."""
    _check_reader(principal)
    pairs = []
    async for record in repo.stream_all(session):
        pairs.append((repo.to_domain(record), record.hash))
    return verify_chain(pairs)
