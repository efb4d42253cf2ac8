"""The document number register and issuing (issue 16 §4): a document is issued by `lifecycle.apply` in the
decision's own transaction, so a rolled-back decision leaves no document and gives its number back. Its canonical
content and SHA-256 are the ones the feed event records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import DocumentRecord
from app.db.repositories import documents as repo
from app.domain import documents as rules
from app.services.errors import AlreadyExists


@dataclass(frozen=True)
class Number:
    """A document number for one decision: issued by the register (`seq`) or given as-is (external, no `seq`)."""

    number: str
    year: int
    seq: int | None = None

    @property
    def external(self) -> bool:
        return self.seq is None


async def number_for(session: AsyncSession, decided_on: date, given: str | None, *, prefix: str) -> Number:
    """The given (externally issued) number if it is still free, else the register's next one for the decision's
    year. The register skips a number an external document already holds, so no number is ever issued twice."""
    if given is not None:
        if await repo.number_taken(session, given):
            raise AlreadyExists("document", "document_no", given)
        return Number(given, decided_on.year)
    while True:
        seq = await repo.next_seq(session, prefix, decided_on.year)
        number = rules.format_number(prefix, decided_on.year, seq)
        if not await repo.number_taken(session, number):
            return Number(number, decided_on.year, seq)


async def issue(
    session: AsyncSession,
    *,
    kind: str,
    number: Number,
    record: Any,
    subject_type: str,
    content: dict[str, Any],
    sha256: str,
) -> DocumentRecord:
    """Record the document of a decision on `record` (an application or a center)."""
    decided_on = date.fromisoformat(content["decision_date"])
    if subject_type == "application":
        name, application_id, center_id = record.proposed_name, record.id, record.center_id
    else:
        name, application_id, center_id = record.name, record.application_id, record.id
    document = DocumentRecord(
        id=uuid.uuid4(),
        kind=kind,
        number=number.number,
        year=number.year,
        seq=number.seq,
        external=number.external,
        issued_on=decided_on,
        subject_type=subject_type,
        subject_id=record.id,
        subject_name=name or "",
        action=content["action"],
        application_id=application_id,
        center_id=center_id,
        content=content,
        sha256=sha256,
    )
    if not await repo.add(session, document):
        # Given externally by two decisions at once: the one that committed first keeps it.
        raise AlreadyExists("document", "document_no", number.number)
    return document
