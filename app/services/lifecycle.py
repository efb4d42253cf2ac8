"""Applying one transition of a lifecycle table to a locked record, with history and a feed event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.events import fingerprint
from app.domain.principal import Principal
from app.services import audit
from app.services.errors import VersionMismatch


class Stateful(Protocol):
    id: uuid.UUID
    status: str
    version: int


def check_version(expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise VersionMismatch(expected=expected, actual=actual)


async def apply(
    session: AsyncSession,
    principal: Principal,
    record: Stateful,
    *,
    subject_type: str,
    action: str,
    to_status: str,
    reason: str | None = None,
    decision_date: date | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Set the new state and record the transition (history + feed) in the same transaction. A decision with an
    official date also records the SHA-256 of its canonical document, so the record can be checked later."""
    from_status = record.status
    record.status = to_status
    await session.flush()
    if decision_date is not None:
        document = {
            "subject_type": subject_type,
            "subject_id": str(record.id),
            "action": action,
            "from": from_status,
            "to": to_status,
            "decision_date": decision_date.isoformat(),
            "reason": reason,
            "data": dict(data or {}),
        }
        data = {**(data or {}), "decision_sha256": fingerprint(document)}
    await audit.record_transition(
        session,
        principal,
        subject_type=subject_type,
        subject_id=record.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        decision_date=decision_date,
        data=data,
    )
