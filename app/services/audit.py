"""Every state change is written twice in the same transaction: to the subject's history and to the feed's append
queue, which the sequencer (app/services/sequencer.py) moves into the feed moments after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import TransitionRecord
from app.db.repositories import events as repo
from app.domain.principal import Principal


async def record_transition(
    session: AsyncSession,
    principal: Principal,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    action: str,
    from_status: str | None,
    to_status: str,
    reason: str | None = None,
    decision_date: date | None = None,
    data: Mapping[str, Any] | None = None,
    event_type: str | None = None,
) -> None:
    payload = dict(data or {})
    await repo.add_transition(
        session,
        TransitionRecord(
            subject_type=subject_type,
            subject_id=subject_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor_sub=principal.sub,
            actor_role=principal.role,
            reason=reason,
            decision_date=decision_date,
            data=payload,
        ),
    )
    await record_event(
        session,
        principal,
        type=event_type or f"{subject_type}.{to_status}",
        subject_type=subject_type,
        subject_id=subject_id,
        effective_on=decision_date,
        data={"action": action, "from": from_status, "to": to_status, "reason": reason, **payload},
    )


async def record_event(
    session: AsyncSession,
    principal: Principal,
    *,
    type: str,
    subject_type: str,
    subject_id: uuid.UUID,
    data: Mapping[str, Any],
    effective_on: date | None = None,
) -> None:
    await repo.append(
        session,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_sub=principal.sub,
        actor_role=principal.role,
        data=data,
        effective_on=effective_on,
    )


async def history(
    session: AsyncSession, subject_type: str, subject_id: uuid.UUID, *, after: int | None, limit: int
) -> tuple[list[TransitionRecord], int | None]:
    """A page of a subject's history in recording order, and the transition id the next page starts after (None on
    the last page). A history grows with every edit, so it is read a page at a time."""
    records = await repo.history(session, subject_type, subject_id, after=after, limit=limit + 1)
    return records[:limit], records[limit - 1].id if len(records) > limit else None
