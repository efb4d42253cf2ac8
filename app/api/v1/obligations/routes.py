"""Obligations (应履行事项): what each reachable center owes on a date, derived from recorded dates."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from app.api import pagination
from app.api.dates import AsOfDate
from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.problems import responses
from app.api.v1.centers.schemas import ObligationsRead
from app.services import obligations

router = APIRouter(tags=["obligations"])

CURSOR = "obligations"


@router.get("/obligations", operation_id="list_obligations", response_model=ObligationsRead, responses=responses())
async def list_obligations(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    as_of: Annotated[
        AsOfDate,
        Query(
            description="The date to judge, YYYY-MM-DD (Asia/Shanghai calendar): from 1949-10-01 to 10 years after "
            "today."
        ),
    ],
    center_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern="^(annual_report|acceptance|assessment|rectification)$")] = None,
    overdue: Annotated[bool | None, Query()] = None,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> ObligationsRead:
    """What each reachable center owes on `as_of` — annual reports, acceptance, assessment, rectification — and
    whether it is overdue, derived from recorded dates for any date, past or future: a past date is judged on what
    was true on it (the status then in force, the reports submitted by then).

    Items come by center code, then reports by year, acceptance, rectification, assessment, `limit` at a time; pass
    `next_cursor` as `cursor` (with the same `as_of` and filters) to read on, until it is null. One page reads at most
    500 centers, so with `kind` or `overdue` a page may hold fewer than `limit` items (even none) and still have a
    `next_cursor`. `as_of` runs from 1949-10-01 to ten years after today; reports are owed from 2000 at the earliest."""
    after = pagination.decode(cursor, CURSOR, str, int, int) if cursor else None
    page = await obligations.obligations_on(
        session,
        principal,
        as_of,
        tz=clock.tz,
        limit=limit,
        after=after,
        center_id=center_id,
        kind=kind,
        overdue=overdue,
    )
    return ObligationsRead.model_validate(
        {
            "as_of": as_of,
            "items": [asdict(item) for item in page.items],
            "next_cursor": None if page.next_after is None else pagination.encode(CURSOR, *page.next_after),
        }
    )
