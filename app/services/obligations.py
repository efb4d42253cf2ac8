"""What each center owes on a date, derived from recorded dates only (domain.md §8): no job has to have run."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CenterRecord
from app.db.repositories import centers as repo
from app.domain.deadlines import CenterTimeline, Obligation, obligations
from app.domain.principal import Principal
from app.services.centers import reach_of

SUBMITTED = ("submitted", "endorsed", "accepted")


def timeline(center: CenterRecord) -> CenterTimeline:
    ended_on = center.revoked_on if center.status == "revoked" else center.exited_on
    return CenterTimeline(
        center_id=str(center.id),
        status=center.status,
        approved_on=center.approved_on,
        construction_starts_on=center.construction_starts_on,
        construction_ends_on=center.construction_ends_on,
        recognized_on=center.recognized_on,
        rectifying_kind=center.rectifying_kind,
        rectification_due_on=center.rectification_due_on,
        last_assessed_on=center.last_assessed_on,
        ended_on=ended_on,
    )


async def obligations_on(
    session: AsyncSession,
    principal: Principal,
    as_of: date,
    *,
    center_id: uuid.UUID | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
) -> list[Obligation]:
    centers = await repo.all_in_reach(session, reach_of(principal), center_id=center_id)
    statuses = await repo.report_years_by_status(session, [c.id for c in centers])
    items: list[Obligation] = []
    for center in centers:
        submitted = {year for year, status in statuses[center.id].items() if status in SUBMITTED}
        for item in obligations(timeline(center), submitted, as_of):
            if (kind is None or item.kind == kind) and (overdue is None or item.overdue == overdue):
                items.append(item)
    return items
