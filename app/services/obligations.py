"""What each center owes on a date, derived from its dated history only (domain.md §8): no job has to have run, and
a past date is judged on what was true then, not on today's statuses.

A request's work is bounded whatever the data (issue 12): the answer is a page of at most `limit` items in center
code order, read from at most `SCAN_CENTERS` centers in batches of `BATCH_CENTERS`. Each center owes at most one
report per year from 2000 (`app.domain.deadlines.report_years`) up to `as_of`, which the API keeps within ten years
of today, plus one acceptance, rectification or assessment. When the filters leave most items out, a page may come
back short (even empty) with a `next_cursor` to read on from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import assessments as assessments_repo
from app.db.repositories import centers as repo
from app.domain.deadlines import KIND_ORDER, Obligation, obligations, order_in_center
from app.domain.principal import Principal
from app.services.centers import reach_of

BATCH_CENTERS = 100
SCAN_CENTERS = 500
# A position after every item of a center: past the last kind.
AFTER_CENTER = (len(KIND_ORDER), 0)

Position = tuple[str, int, int]  # (center code, kind order, period year or 0)


@dataclass(frozen=True)
class ObligationsPage:
    items: list[Obligation]
    next_after: Position | None


async def obligations_on(
    session: AsyncSession,
    principal: Principal,
    as_of: date,
    *,
    tz: tzinfo,
    limit: int,
    after: Position | None = None,
    center_id: uuid.UUID | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
) -> ObligationsPage:
    """The items after `after`, one query per kind of fact for each batch of reachable centers (their dates, status
    changes, report filings, assessments); `tz` is the programme's calendar, on which recorded instants become
    dates."""
    reach = reach_of(principal)
    items: list[tuple[Position, Obligation]] = []
    from_code, inclusive = (after[0], True) if after is not None else (None, False)
    scanned = 0
    while True:
        batch = await repo.histories_page(
            session, reach, limit=BATCH_CENTERS, after_code=from_code, inclusive=inclusive, center_id=center_id
        )
        ids = [uuid.UUID(history.center_id) for _, history in batch]
        changes = await repo.changes_of(session, ids, tz) if ids else {}
        filings = await repo.report_filings_of(session, ids, tz) if ids else {}
        assessed = await assessments_repo.assessed_on_by_center(session, ids) if ids else {}
        for code, history in batch:
            key = history.center_id
            dated = replace(
                history,
                changes=tuple(changes.get(key, ())),
                reports=tuple(filings.get(key, ())),
                assessed_on=tuple(assessed.get(key, ())),
            )
            for item in obligations(dated, as_of):
                position = (code, *order_in_center(item))
                if after is not None and position <= after:
                    continue
                if (kind is None or item.kind == kind) and (overdue is None or item.overdue == overdue):
                    items.append((position, item))
                if len(items) > limit:
                    return ObligationsPage([item for _, item in items[:limit]], items[limit - 1][0])
        scanned += len(batch)
        if len(batch) < BATCH_CENTERS:
            return ObligationsPage([item for _, item in items], None)
        from_code, inclusive = batch[-1][0], False
        if scanned >= SCAN_CENTERS:
            return ObligationsPage([item for _, item in items], (from_code, *AFTER_CENTER))
