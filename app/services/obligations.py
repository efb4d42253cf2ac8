"""What each center owes on a date, derived from its dated history only (domain.md §8): no job has to have run, and
a past date is judged on what was true then, not on today's statuses."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import assessments as assessments_repo
from app.db.repositories import centers as repo
from app.domain.deadlines import Obligation, obligations
from app.domain.principal import Principal
from app.services.centers import reach_of


async def obligations_on(
    session: AsyncSession,
    principal: Principal,
    as_of: date,
    *,
    tz: tzinfo,
    center_id: uuid.UUID | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
) -> list[Obligation]:
    """One query per kind of fact for all reachable centers (their dates, status changes, report filings,
    assessments); `tz` is the programme's calendar, on which recorded instants become dates."""
    reach = reach_of(principal)
    histories = await repo.histories_in_reach(session, reach, center_id=center_id)
    changes = await repo.changes_in_reach(session, reach, tz, center_id=center_id)
    filings = await repo.report_filings_in_reach(session, reach, tz, center_id=center_id)
    assessed = await assessments_repo.assessed_on_by_center(session, repo.ids_in_reach(reach, center_id=center_id))
    items: list[Obligation] = []
    for history in histories:
        key = history.center_id
        dated = replace(
            history,
            changes=tuple(changes.get(key, ())),
            reports=tuple(filings.get(key, ())),
            assessed_on=tuple(assessed.get(key, ())),
        )
        for item in obligations(dated, as_of):
            if (kind is None or item.kind == kind) and (overdue is None or item.overdue == overdue):
                items.append(item)
    return items
