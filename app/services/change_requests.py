"""Change requests (变更): lead organization → supervising department (review) → province. Approved changes apply
to the center and the old value stays in its history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CenterRecord, ChangeRequestRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import centers as repo
from app.db.repositories import organizations as orgs_repo
from app.domain import change_requests as change_rules
from app.domain import eligibility as eligibility_rules
from app.domain import participants as participant_rules
from app.domain.errors import RuleViolation
from app.domain.events import fingerprint
from app.domain.guards import ActionView
from app.domain.lifecycles import CENTER, CHANGE_REQUEST
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit, lifecycle, organizations
from app.services.annual_reports import lead_has_supervisor
from app.services.centers import for_cause_revocations, load_for_filing, task_book_problems
from app.services.centers import load as load_center
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound, ValidationFailed

# Rules that judge the lead organization itself; a new lead is re-checked against these (domain.md §6).
LEAD_RULES = ("leading_enterprise", "no_recent_revocation", "registered_in_henan")


async def facts_of(
    session: AsyncSession,
    principal: Principal,
    center: CenterRecord,
    records: Sequence[ChangeRequestRecord],
    clock: Clock,
    current_rule_set: str,
) -> dict[uuid.UUID, change_rules.ChangeFacts]:
    """The guard facts of a center's change requests; a new lead is judged only where approving is open."""
    supervised = await lead_has_supervisor(session, center)
    out = {}
    for r in records:
        facts = change_rules.ChangeFacts(
            status=r.status, kind=r.kind, center_status=center.status, lead_has_supervisor=supervised
        )
        if r.kind == "lead_org" and "approve" in change_rules.LIFECYCLE.table_open(principal, facts):
            failing = await _lead_failures(session, center, uuid.UUID(r.new_value), clock, current_rule_set)
            facts = replace(facts, new_lead_failing_checks=tuple(failing))
        out[r.id] = facts
    return out


async def allowed_of(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    records: Sequence[ChangeRequestRecord],
    clock: Clock,
    current_rule_set: str,
) -> dict[uuid.UUID, list[str]]:
    center = await load_center(session, principal, center_id)
    facts = await facts_of(session, principal, center, records, clock, current_rule_set)
    return {r.id: change_rules.LIFECYCLE.allowed(principal, facts[r.id]) for r in records}


async def action_views(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    request_id: uuid.UUID,
    clock: Clock,
    current_rule_set: str,
) -> list[ActionView]:
    center = await load_center(session, principal, center_id)
    record = await repo.get_change(session, center_id, request_id)
    if record is None:
        raise NotFound("change request", str(request_id))
    facts = await facts_of(session, principal, center, [record], clock, current_rule_set)
    return change_rules.LIFECYCLE.views(principal, facts[record.id])


async def _normalise(session: AsyncSession, center: CenterRecord, kind: str, value: Any) -> Any:
    if kind in ("name", "research_direction", "director"):
        if not isinstance(value, str) or not value.strip() or len(value) > 2000:
            raise InvalidReference(loc=("body", "new_value"), msg=f"a {kind} change takes a non-empty text")
        return value.strip()
    if kind == "lead_org":
        try:
            org_id = uuid.UUID(str(value))
        except ValueError as exc:
            raise InvalidReference(loc=("body", "new_value"), msg="a lead_org change takes an organization id") from exc
        if await orgs_repo.get(session, org_id) is None:
            raise InvalidReference(loc=("body", "new_value"), msg="no such organization")
        if org_id == center.lead_org_id:
            raise InvalidReference(loc=("body", "new_value"), msg="already the lead organization")
        return str(org_id)
    if kind == "task_book":
        return _task_book_value(center, value)
    # The whole new list of participants, held to what an application's participants are held to.
    problems = participant_rules.shape_problems(value)
    if problems:
        raise ValidationFailed([(("body", "new_value", *where), msg, error) for where, msg, error in problems])
    participants = [{**item, "org_id": str(uuid.UUID(item["org_id"]))} for item in value]
    return await organizations.check_participants(session, center.lead_org_id, participants, ("body", "new_value"))


def _task_book_value(center: CenterRecord, value: Any) -> dict[str, Any]:
    """A new version of a signed task book (validated as a task book by the API): same construction dates — they
    change only by extension — and consistent targets."""
    # Signing is what moves a center out of `approved` (an imported center was signed on paper).
    if center.status == "approved" or not center.task_book or center.construction_starts_on is None:
        raise RuleViolation(
            "task-book-not-signed",
            "任务书尚未签订，直接修改即可",
            "The task book is not signed yet; edit it with PUT …/task-book.",
            {},
        )
    book = dict(value)
    book.setdefault("ends_on", center.construction_ends_on.isoformat() if center.construction_ends_on else None)
    if book["starts_on"] != center.construction_starts_on.isoformat() or (
        center.construction_ends_on is not None and book["ends_on"] != center.construction_ends_on.isoformat()
    ):
        raise InvalidReference(
            loc=("body", "new_value", "starts_on"),
            msg="a task book change keeps the construction dates; the end moves only by extension",
        )
    task_book_problems(book, center.approved_on, loc=("body", "new_value"))
    return book


def _current(center: CenterRecord, kind: str) -> Any:
    return {
        "name": center.name,
        "lead_org": str(center.lead_org_id),
        "research_direction": center.research_direction,
        "director": center.governance.get("director"),
        "participants": center.participants,
        "task_book": center.task_book,
    }[kind]


async def create_change(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, data: Mapping[str, Any]
) -> ChangeRequestRecord:
    center = await load_for_filing(session, principal, center_id)
    if center.status in CENTER.terminal:
        raise RuleViolation("center-closed", "中心已撤销或退出", "The center has been revoked or has exited.", {})
    value = await _normalise(session, center, data["kind"], data["new_value"])
    record = ChangeRequestRecord(
        id=uuid.uuid4(),
        center_id=center.id,
        kind=data["kind"],
        new_value=value,
        reason=data["reason"],
        status=CHANGE_REQUEST.initial,
        created_by=principal.sub,
    )
    await repo.add_change(session, record)
    await audit.record_transition(
        session,
        principal,
        subject_type="change_request",
        subject_id=record.id,
        action="create",
        from_status=None,
        to_status=record.status,
        data={"center_id": str(center.id), "kind": record.kind},
    )
    return record


async def get_change(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, request_id: uuid.UUID
) -> ChangeRequestRecord:
    await load_center(session, principal, center_id)
    record = await repo.get_change(session, center_id, request_id)
    if record is None:
        raise NotFound("change request", str(request_id))
    return record


async def list_changes(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, page: PageRequest
) -> PageResult[ChangeRequestRecord]:
    await load_center(session, principal, center_id)
    return await repo.changes(session, center_id, page)


async def _lead_failures(
    session: AsyncSession, center: CenterRecord, new_lead_id: uuid.UUID, clock: Clock, rule_set_name: str
) -> list[dict[str, Any]]:
    """The checks a new lead organization fails against the current rule set's rules on the lead itself."""
    lead = await orgs_repo.get(session, new_lead_id)
    assert lead is not None
    rule_set = get_rule_set(rule_set_name)
    inp = eligibility_rules.EligibilityInput(
        field=center.field,
        formation_mode="enterprise_led",
        lead=eligibility_rules.OrgProfile(
            org_id=str(lead.id),
            kind=lead.kind,
            is_leading_enterprise=lead.is_leading_enterprise,
            registered_on=lead.registered_on,
        ),
        participants=(),
        facts=eligibility_rules.Facts(),
        judged_on=clock.today(),
        for_cause_revocations_on=tuple(await for_cause_revocations(session, lead.id)),
    )
    checks = [rule.check(inp) for rule in rule_set.rules if rule.id in LEAD_RULES]
    return [c.as_dict() for c in checks if c.outcome == "fail"]


async def act(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    request_id: uuid.UUID,
    action: str,
    *,
    reason: str | None,
    clock: Clock,
    current_rule_set: str,
    expected_version: int | None,
) -> ChangeRequestRecord:
    center = await load_center(session, principal, center_id, for_update=True)
    record = await repo.get_change(session, center_id, request_id, for_update=True)
    if record is None:
        raise NotFound("change request", str(request_id))
    facts = await facts_of(session, principal, center, [record], clock, current_rule_set)
    change_rules.LIFECYCLE.check(action, principal, facts[record.id])
    lifecycle.check_version(expected_version, record.version)
    to_status = CHANGE_REQUEST.decide(record.status, action, principal.role)
    if action == "reject" and not reason:
        raise InvalidReference(loc=("body", "reason"), msg="a reason is required to reject", type="missing")
    data: dict[str, Any] = {"center_id": str(center.id), "kind": record.kind}
    if action == "approve":
        old = _current(center, record.kind)
        if record.kind == "lead_org":
            center.lead_org_id = uuid.UUID(record.new_value)
        elif record.kind == "task_book":
            # A new version with its own fingerprint; the history keeps the old one (issue 11 §3.4).
            center.task_book = record.new_value
            center.task_book_sha256 = fingerprint(record.new_value)
            center.task_book_version += 1
        elif record.kind == "name":
            center.name = record.new_value
        elif record.kind == "research_direction":
            center.research_direction = record.new_value
        elif record.kind == "director":
            center.governance = {**center.governance, "director": record.new_value}
        else:
            center.participants = record.new_value
        record.old_value = old
        record.decided_at = clock.now()
        await session.flush()
        await audit.record_transition(
            session,
            principal,
            subject_type="center",
            subject_id=center.id,
            action=f"change_{record.kind}",
            from_status=center.status,
            to_status=center.status,
            reason=record.reason,
            data={"change_request_id": str(record.id), "kind": record.kind, "old": old, "new": record.new_value},
            event_type="center.changed",
        )
        data.update({"old": old, "new": record.new_value})
    await lifecycle.apply(
        session,
        principal,
        record,
        subject_type="change_request",
        action=action,
        to_status=to_status,
        reason=reason,
        data=data,
    )
    return record
