"""Calls for applications (申报通知): the province drafts, publishes and closes them; everyone reads published ones."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CallRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import calls as repo
from app.domain import calls as call_rules
from app.domain.lifecycles import CALL
from app.domain.principal import Principal
from app.services import audit, lifecycle
from app.services.errors import NotFound

PUBLIC_STATUSES = ("published", "closed")


def visible(principal: Principal, record: CallRecord) -> bool:
    return principal.sees_everything_public or record.status in PUBLIC_STATUSES


def allowed_actions(principal: Principal, record: CallRecord) -> list[str]:
    return call_rules.LIFECYCLE.allowed(principal, call_rules.CallFacts(record.status))


async def create_call(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> CallRecord:
    record = await repo.add(session, CallRecord(id=uuid.uuid4(), status=CALL.initial, **data))
    await audit.record_event(
        session,
        principal,
        type="call.created",
        subject_type="call",
        subject_id=record.id,
        data={"year": record.year, "title": record.title, "rule_set": record.rule_set},
    )
    return record


async def get_call(session: AsyncSession, principal: Principal, call_id: uuid.UUID) -> CallRecord:
    record = await repo.get(session, call_id)
    if record is None or not visible(principal, record):
        raise NotFound("call", str(call_id))
    return record


async def list_calls(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    status: str | None = None,
    year: int | None = None,
) -> PageResult[CallRecord]:
    statuses = None if principal.sees_everything_public else PUBLIC_STATUSES
    return await repo.list_page(session, page, statuses=statuses, status=status, year=year)


async def act(
    session: AsyncSession,
    principal: Principal,
    call_id: uuid.UUID,
    action: str,
    *,
    reason: str | None,
    expected_version: int | None,
) -> CallRecord:
    record = await repo.get(session, call_id, for_update=True)
    if record is None or not visible(principal, record):
        raise NotFound("call", str(call_id))
    call_rules.LIFECYCLE.check(action, principal, call_rules.CallFacts(record.status))
    lifecycle.check_version(expected_version, record.version)
    to_status = CALL.decide(record.status, action, principal.role)
    await lifecycle.apply(
        session, principal, record, subject_type="call", action=action, to_status=to_status, reason=reason
    )
    return record
