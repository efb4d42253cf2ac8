"""The center lifecycle's actions (domain.md §6-7), one small function each.

`act` locks the center, gathers its facts once, refuses through `app.domain.centers.LIFECYCLE.check` (the same call
that explains blocked actions), checks the body against the facts, then runs the action's own function and records
the transition with history and a feed event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CenterRecord
from app.domain import centers as rules
from app.domain.deadlines import add_months, default_construction_end
from app.domain.documents import DEFAULT_PREFIX
from app.domain.events import fingerprint
from app.domain.lifecycles import CENTER
from app.domain.principal import Principal
from app.services import centers, document_register, lifecycle
from app.services.clock import Clock
from app.services.errors import InvalidReference, ValidationFailed


@dataclass(frozen=True)
class CenterAction:
    """What an action's body may carry (api.md: centers actions)."""

    reason: str | None = None
    decided_on: date | None = None
    months: int | None = None
    result: str | None = None
    by_org_id: uuid.UUID | None = None
    reason_code: str | None = None
    document_no: str | None = None
    recover_funds: bool | None = None


@dataclass
class Effect:
    """What an action did: the outcome (when the table has several), the official date and the recorded data."""

    target: str | None = None
    decision_date: date | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # The number of the document the decision issues, when the action chose it (else the register's next).
    number: document_register.Number | None = None


@dataclass(frozen=True)
class Context:
    session: AsyncSession
    principal: Principal
    record: CenterRecord
    body: CenterAction
    today: date
    clock: Clock
    prefix: str = DEFAULT_PREFIX


Handler = Callable[[Context], Awaitable[Effect]]


async def _sign_task_book(ctx: Context) -> Effect:
    record = ctx.record
    book = record.task_book or {}
    starts_on = date.fromisoformat(book["starts_on"])
    ends_on = date.fromisoformat(book["ends_on"]) if book.get("ends_on") else default_construction_end(starts_on)
    record.construction_starts_on, record.construction_ends_on = starts_on, ends_on
    record.task_book_signed_at = ctx.clock.now()
    record.task_book_sha256 = fingerprint(book)
    return Effect(
        decision_date=ctx.body.decided_on or starts_on,
        data={
            "construction_starts_on": starts_on.isoformat(),
            "construction_ends_on": ends_on.isoformat(),
            "task_book_sha256": record.task_book_sha256,
        },
    )


async def _request_extension(ctx: Context) -> Effect:
    ctx.record.extension_requested_on = ctx.today
    ctx.record.extension_requested_months = ctx.body.months
    return Effect(data={"months": ctx.body.months})


async def _extend(ctx: Context) -> Effect:
    """Approval runs from the original end date, whenever it is decided (issue 11 §3.11)."""
    record = ctx.record
    assert record.construction_ends_on is not None
    assert ctx.body.months is not None
    old_end = record.construction_ends_on
    record.construction_ends_on = add_months(old_end, ctx.body.months)
    record.extension_months = ctx.body.months
    record.extension_requested_on = record.extension_requested_months = None
    return Effect(
        decision_date=ctx.body.decided_on,
        data={
            "months": ctx.body.months,
            "old_ends_on": old_end.isoformat(),
            "new_ends_on": record.construction_ends_on.isoformat(),
        },
    )


async def _decline_extension(ctx: Context) -> Effect:
    months = ctx.record.extension_requested_months
    ctx.record.extension_requested_on = ctx.record.extension_requested_months = None
    return Effect(data={"requested_months": months})


async def _request_acceptance(ctx: Context) -> Effect:
    ctx.record.acceptance_requested_on = ctx.today
    return Effect()


async def _record_acceptance(ctx: Context) -> Effect:
    record, body = ctx.record, ctx.body
    assert body.decided_on is not None
    by_org = body.by_org_id or ctx.principal.org_id
    if ctx.principal.role == "third_party" and by_org != ctx.principal.org_id:
        raise InvalidReference(loc=("body", "by_org_id"), msg="an agency records only its own acceptance")
    if by_org is not None:
        await centers.check_not_involved(ctx.session, record, by_org, "by_org_id")
    passed = body.result == "passed"
    if passed and (problems := rules.legal_entity_blockers(record.legal_entity)):
        # Re-checked at the verdict (issue 11 §3.3): it is frozen from the request on, so this holds unless imported.
        raise ValidationFailed([(("body", "result"), problems[0].message_en, "legal_entity_not_independent")])
    outcome = rules.acceptance_outcome(
        passed=passed, failures_before=record.acceptance_failures, decided_on=body.decided_on
    )
    data: dict[str, Any] = {"result": body.result, "by_org_id": str(by_org) if by_org else None}
    if passed:
        record.accepted_on = body.decided_on
        record.rectifying_kind = record.rectification_due_on = None
    else:
        record.acceptance_failures += 1
        record.rectifying_kind = outcome.rectifying_kind
        record.rectification_due_on = outcome.rectification_due_on
        if outcome.revocation_reason:
            record.revoked_on = body.decided_on
            record.revocation_reason_code = outcome.revocation_reason
            data["reason_code"] = outcome.revocation_reason
        elif outcome.rectification_due_on:
            data["rectification_due_on"] = outcome.rectification_due_on.isoformat()
    return Effect(target=outcome.status, decision_date=body.decided_on, data=data)


async def _recognize(ctx: Context) -> Effect:
    """正式认定: only the province, after a passed acceptance, with its decision date and document number [seed]."""
    record, body = ctx.record, ctx.body
    assert body.decided_on is not None
    # Omitted: the register issues the next number; given: an externally issued number, kept as-is. Taken before the
    # recognition number's lock, as approval takes it before the center code's: one lock order, no deadlock.
    number = await document_register.number_for(ctx.session, body.decided_on, body.document_no, prefix=ctx.prefix)
    record.recognition_document_no = number.number
    record.recognized_on = body.decided_on
    record.recognition_no = await centers.recognition_no(ctx.session, body.decided_on.year)
    return Effect(
        decision_date=body.decided_on,
        data={"recognition_no": record.recognition_no, "document_no": number.number},
        number=number,
    )


async def _record_rectification_review(ctx: Context) -> Effect:
    record, body = ctx.record, ctx.body
    passed = body.result == "passed"
    data: dict[str, Any] = {"result": body.result}
    record.rectifying_kind = record.rectification_due_on = None
    if not passed:
        record.revoked_on, record.revocation_reason_code = body.decided_on, "failed_rectification"
        data["reason_code"] = "failed_rectification"
    return Effect(target="recognized" if passed else "revoked", decision_date=body.decided_on, data=data)


async def _revoke(ctx: Context) -> Effect:
    record, body = ctx.record, ctx.body
    record.revoked_on, record.revocation_reason_code = body.decided_on, body.reason_code
    record.rectifying_kind = record.rectification_due_on = None
    return Effect(
        decision_date=body.decided_on,
        data={"reason_code": body.reason_code, "recover_funds": bool(body.recover_funds)},
    )


async def _request_exit(ctx: Context) -> Effect:
    ctx.record.exit_requested_on = ctx.today
    return Effect()


async def _exit(ctx: Context) -> Effect:
    ctx.record.exited_on = ctx.body.decided_on
    ctx.record.revocation_reason_code = "voluntary_exit"
    return Effect(decision_date=ctx.body.decided_on)


async def _close_exit_request(ctx: Context) -> Effect:
    """decline_exit (province) and withdraw_exit (lead): the request is closed and the lead may ask again."""
    requested_on = ctx.record.exit_requested_on
    ctx.record.exit_requested_on = None
    return Effect(data={"requested_on": requested_on.isoformat() if requested_on else None})


HANDLERS: dict[str, Handler] = {
    "sign_task_book": _sign_task_book,
    "request_extension": _request_extension,
    "extend": _extend,
    "decline_extension": _decline_extension,
    "request_acceptance": _request_acceptance,
    "record_acceptance": _record_acceptance,
    "recognize": _recognize,
    "record_rectification_review": _record_rectification_review,
    "revoke": _revoke,
    "request_exit": _request_exit,
    "exit": _exit,
    "decline_exit": _close_exit_request,
    "withdraw_exit": _close_exit_request,
}
# Every action the table offers through a route has its function here (finalizing a cycle applies the rest).
assert set(HANDLERS) == set(CENTER.actions()) - rules.LIFECYCLE.internal


async def act(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    action: str,
    body: CenterAction,
    *,
    clock: Clock,
    expected_version: int | None,
    document_prefix: str = DEFAULT_PREFIX,
) -> CenterRecord:
    """One lifecycle action on a locked center row: of concurrent attempts exactly one wins."""
    record = await centers.load(session, principal, center_id, for_update=True)
    facts = (await centers.facts_of(session, principal, [record], clock))[record.id]
    rules.LIFECYCLE.check(action, principal, facts)
    lifecycle.check_version(expected_version, record.version)
    problems = rules.argument_problems(action, facts, asdict(body))
    if problems:
        raise ValidationFailed([(("body", name), msg, "value_error") for name, msg in problems])
    effect = await HANDLERS[action](Context(session, principal, record, body, facts.today, clock, document_prefix))
    to_status = CENTER.decide(record.status, action, principal.role, effect.target)
    await lifecycle.apply(
        session,
        principal,
        record,
        subject_type="center",
        action=action,
        to_status=to_status,
        reason=body.reason,
        decision_date=effect.decision_date,
        data=effect.data,
        number=effect.number,
        document_prefix=document_prefix,
    )
    return record
