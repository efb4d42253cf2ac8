"""The append-only, hash-chained event feed (province, observer)."""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.deps import PrincipalDep, SessionDep
from app.api.problems import responses
from app.services import events as service
from app.services import log as log_service

router = APIRouter(prefix="/events", tags=["events"])


class Actor(BaseModel):
    sub: str
    role: str


class EventRead(BaseModel):
    """One event. CloudEvents mapping: `id` → id, `type` → type, `subject_id` → subject, `occurred_at` → time,
    `data` → data, source = this service; `seq`, `prev_hash` and `hash` are extensions for replay and the chain
    (hash = SHA-256 of the canonical JSON of every other field, including prev_hash, the previous event's hash; the
    sequencer computes both as it places the event)."""

    seq: int
    id: uuid.UUID
    type: str = Field(examples=["application.submitted"])
    subject_type: str
    subject_id: uuid.UUID
    actor: Actor
    occurred_at: datetime
    effective_on: date | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class EventPage(BaseModel):
    items: list[EventRead]
    next_after: int = Field(
        description="Pass as `after` to read on (the last seq returned, or `after` itself when "
        "nothing new has been sequenced yet)."
    )


class ChainVerification(BaseModel):
    ok: bool = Field(description="The chain and the Merkle tree both check out.")
    checked: int
    first_bad_seq: int | None
    tree_ok: bool = Field(
        description="The root recomputed from every event equals the stored tree's root (the one checkpoints sign)."
    )
    tree_size: int
    tree_root: str = Field(description="The stored tree's root, base64, as in `GET /log/checkpoint`.")


@router.get("", operation_id="list_events", response_model=EventPage, responses=responses("not-found"))
async def list_events(
    session: SessionDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, description="Return events with seq greater than this.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[str | None, Query(max_length=64)] = None,
    subject_id: Annotated[uuid.UUID | None, Query()] = None,
) -> EventPage:
    """Sequenced events in `seq` order from `after`. A change's event appears here once the feed's sequencer has
    placed it, moments after the commit (typically milliseconds); `seq` is gap-free, and one subject's events come in
    the order of its changes. No expert identity or individual score is ever in the feed."""
    records = await service.list_events(session, principal, after=after, limit=limit, type=type, subject_id=subject_id)
    items = [
        EventRead(
            seq=r.seq,
            id=r.id,
            type=r.type,
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            actor=Actor(sub=r.actor_sub, role=r.actor_role),
            occurred_at=r.occurred_at,
            effective_on=r.effective_on,
            data=r.data,
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in records
    ]
    return EventPage(items=items, next_after=records[-1].seq if records else after)


@router.get(
    "/verify",
    operation_id="verify_events",
    response_model=ChainVerification,
    responses=responses("not-found"),
)
async def verify_events(session: SessionDep, principal: PrincipalDep) -> ChainVerification:
    """Recompute the hash chain over the whole feed, and the Merkle tree's root from every event: an event or a tree
    node altered behind the database's append-only triggers shows here."""
    result = await service.verify(session, principal)
    tree = await log_service.check_tree(session)
    return ChainVerification(
        ok=result.ok and tree.ok,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        tree_ok=tree.ok,
        tree_size=tree.size,
        tree_root=base64.b64encode(tree.stored_root).decode(),
    )
