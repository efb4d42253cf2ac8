"""Obligations (应履行事项): what each reachable center owes on a date, derived from recorded dates."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ClockDep, IsoDate, PrincipalDep, SessionDep
from app.api.problems import responses
from app.api.v1.centers.schemas import ObligationsRead
from app.services import obligations

router = APIRouter(tags=["obligations"])


@router.get("/obligations", operation_id="list_obligations", response_model=ObligationsRead, responses=responses())
async def list_obligations(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    as_of: Annotated[IsoDate, Query(description="The date to judge, YYYY-MM-DD (Asia/Shanghai calendar).")],
    center_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern="^(annual_report|acceptance|assessment|rectification)$")] = None,
    overdue: Annotated[bool | None, Query()] = None,
) -> ObligationsRead:
    """What each reachable center owes on `as_of` — annual reports, acceptance, assessment, rectification — and
    whether it is overdue, derived from recorded dates for any date, past or future: a past date is judged on what
    was true on it (the status then in force, the reports submitted by then)."""
    items = await obligations.obligations_on(
        session, principal, as_of, tz=clock.tz, center_id=center_id, kind=kind, overdue=overdue
    )
    return ObligationsRead.model_validate({"as_of": as_of, "items": [asdict(item) for item in items]})
