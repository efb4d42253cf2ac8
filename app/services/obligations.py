"""What each center owes on a date, derived from recorded dates only (domain.md §8): no job has to have run."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import centers as repo
from app.domain.deadlines import Obligation, obligations
from app.domain.principal import Principal
from app.services.centers import reach_of

SUBMITTED = ("submitted", "endorsed", "accepted")


async def obligations_on(
    session: AsyncSession,
    principal: Principal,
    as_of: date,
    *,
    center_id: uuid.UUID | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
) -> list[Obligation]:
    reach = reach_of(principal)
    timelines = await repo.timelines_in_reach(session, reach, center_id=center_id)
    submitted = await repo.report_years_in_reach(session, reach, SUBMITTED, center_id=center_id)
    items: list[Obligation] = []
    for timeline in timelines:
        for item in obligations(timeline, submitted.get(timeline.center_id, set()), as_of):
            if (kind is None or item.kind == kind) and (overdue is None or item.overdue == overdue):
                items.append(item)
    return items
