"""Reminders (issue 17 §3): the worker announces every dated inbox item on the feed once when it becomes due
(`reminder.due`) and once when it becomes overdue (`reminder.overdue`), so webhooks carry them to the province's
messaging systems.

Once means once: a reminder is a row of `reminders` keyed by (kind, subject, due date, stage), inserted with
INSERT … ON CONFLICT DO NOTHING in the same transaction as its event. Two workers racing on the same item both try
the insert; the second waits for the first to commit and then inserts nothing, so only one event is written; a
restarted worker finds the rows and writes nothing again. An item first seen after its date is reminded of as
overdue only. Events say what is due and when — kind, subject, due date — and nothing about people: no names, no
expert identities, no contact data.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ReminderRecord
from app.db.repositories import inbox as repo
from app.domain.inbox import SOURCES, items_of
from app.domain.principal import Principal
from app.services import audit

# The feed's actor for what the worker writes.
WORKER = Principal(sub="tic-worker", role="system")
EVENT_PREFIX = "reminder."
# Rows per INSERT: five parameters each, well inside PostgreSQL's 32767 per statement.
CHUNK = 1000


async def emit(session: AsyncSession, as_of: date) -> int:
    """Emit the reminders due on `as_of` that no one has emitted yet; answers how many. One query reads every dated
    source, one INSERT claims the new reminders, and their events are appended in this transaction."""
    names = [source.name for source in SOURCES.values() if source.dated]
    rows = await repo.rows_for(session, repo.Scope(role=repo.SYSTEM), names)
    wanted: dict[tuple[str, str, str, date, str], None] = {}
    for item in items_of(rows, as_of):
        stage = item.stage()
        if stage is not None and item.due_on is not None:
            wanted[(item.kind, item.subject.type, item.subject.id, item.due_on, stage)] = None
    if not wanted:
        return 0
    keys = list(wanted)
    claimed: list[Any] = []
    for start in range(0, len(keys), CHUNK):
        statement = (
            pg_insert(ReminderRecord)
            .values(
                [
                    {"kind": k, "subject_type": t, "subject_id": uuid.UUID(i), "due_on": d, "stage": s}
                    for k, t, i, d, s in keys[start : start + CHUNK]
                ]
            )
            .on_conflict_do_nothing()
            .returning(
                ReminderRecord.kind,
                ReminderRecord.subject_type,
                ReminderRecord.subject_id,
                ReminderRecord.due_on,
                ReminderRecord.stage,
            )
        )
        claimed.extend((await session.execute(statement)).all())
    claimed.sort(key=lambda r: (r.due_on, r.kind, str(r.subject_id), r.stage))
    for row in claimed:
        await audit.record_event(
            session,
            WORKER,
            type=EVENT_PREFIX + row.stage,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            effective_on=row.due_on,
            data={"kind": row.kind, "due_on": row.due_on.isoformat(), "stage": row.stage},
        )
    return len(claimed)
