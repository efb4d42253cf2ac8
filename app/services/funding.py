"""Funding (支持, domain.md §7): construction support, post-subsidies and stable support, which goes only to a center
whose latest grade is excellent or good."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import FundingRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import assessments as repo
from app.db.repositories import centers as centers_repo
from app.domain import assessment as rules
from app.domain.errors import RuleViolation
from app.domain.lifecycles import CENTER
from app.domain.principal import Principal
from app.services import audit
from app.services.centers import load as load_center
from app.services.centers import reach_of as center_reach


async def add_funding(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, data: Mapping[str, Any]
) -> FundingRecord:
    center = await load_center(session, principal, center_id, for_update=True)
    kind = data["kind"]
    if kind == "stable_support" and not rules.stable_support_eligible(center.grade):
        raise RuleViolation(
            "stable-support-ineligible",
            "稳定支持仅限最近一次考核为优秀或良好的中心",
            "Stable support goes only to a center whose latest grade is excellent or good.",
            {"grade": center.grade},
        )
    if kind == "construction" and center.status != "under_construction":
        raise RuleViolation(
            "not-under-construction",
            "建设经费仅在建设期内支持",
            "Construction support is given only during construction.",
            {"center_status": center.status},
        )
    if center.status in CENTER.terminal:
        raise RuleViolation("center-closed", "中心已撤销或退出", "The center has been revoked or has exited.", {})
    record = await repo.add_funding(
        session,
        FundingRecord(
            id=uuid.uuid4(),
            center_id=center.id,
            kind=kind,
            amount_wan=data["amount_wan"],
            year=data["year"],
            decision_ref=data["decision_ref"],
            created_by=principal.sub,
        ),
    )
    await audit.record_event(
        session,
        principal,
        type="center.funded",
        subject_type="center",
        subject_id=center.id,
        data={
            "kind": kind,
            "amount_wan": f"{record.amount_wan:.2f}",
            "year": record.year,
            "decision_ref": record.decision_ref,
        },
    )
    return record


async def list_funding(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, page: PageRequest
) -> PageResult[FundingRecord]:
    await load_center(session, principal, center_id)
    return await repo.funding_of(session, center_id, page)


async def funding_summary(
    session: AsyncSession, principal: Principal, year: int | None
) -> list[tuple[str, str, Decimal, int]]:
    reach = center_reach(principal)
    within = None if reach.everything else centers_repo.ids_in_reach(reach)
    return await repo.funding_summary(session, year=year, within=within)
