"""Applying one transition of a lifecycle table to a locked record, with history and a feed event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.documents import DEFAULT_PREFIX, decision_document, document_kind
from app.domain.events import fingerprint
from app.domain.principal import Principal
from app.services import audit, document_register
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
    number: document_register.Number | None = None,
    document_prefix: str = DEFAULT_PREFIX,
) -> None:
    """Set the new state and record the transition (history + feed) in the same transaction. A decision with an
    official date also records the SHA-256 of its canonical document, so the record can be checked later; one that
    issues an official document (批复, 认定, 整改通知, 撤销: `app.domain.documents.document_kind`) records it too, with
    `number` (given or reserved by the caller) or the register's next number, and the event names it."""
    from_status = record.status
    record.status = to_status
    await session.flush()
    if decision_date is not None:
        kind = document_kind(subject_type, action, to_status)
        if kind is not None and number is None:
            number = await document_register.number_for(session, decision_date, None, prefix=document_prefix)
        data = dict(data or {})
        if number is not None:
            data.setdefault("document_no", number.number)
        content = decision_document(
            subject_type=subject_type,
            subject_id=str(record.id),
            action=action,
            from_status=from_status,
            to_status=to_status,
            decision_date=decision_date,
            reason=reason,
            data=data,
        )
        digest = fingerprint(content)
        data["decision_sha256"] = digest
        if kind is not None and number is not None:
            issued = await document_register.issue(
                session,
                kind=kind,
                number=number,
                record=record,
                subject_type=subject_type,
                content=content,
                sha256=digest,
            )
            data["document"] = {"id": str(issued.id), "number": issued.number, "sha256": digest}
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
