"""Centers (技术创新中心) after approval: task book, construction, extension, acceptance, recognition, revocation,
exit, changes and import (domain.md §6). Every decision is recorded with its official date."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import CenterRecord, TransitionRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import applications as applications_repo
from app.db.repositories import centers as repo
from app.db.repositories import organizations as orgs_repo
from app.db.repositories.centers import Reach
from app.domain import centers as rules
from app.domain.credit_code import normalize_credit_code, validate_credit_code
from app.domain.deadlines import add_months, default_construction_end
from app.domain.errors import InvalidTransition, RuleViolation
from app.domain.events import fingerprint
from app.domain.guards import Blocker
from app.domain.lifecycles import CENTER
from app.domain.principal import Principal
from app.services import audit, lifecycle
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound, ValidationFailed

CENTER_CODE_LOCK = 0x7E1C_0002
RECOGNITION_LOCK = 0x7E1C_0003


def reach_of(principal: Principal) -> Reach:
    """domain.md §1: the lead sees its centers, a department those it supervises, an agency those entrusted to it."""
    if principal.sees_everything_public:
        return Reach(everything=True)
    if principal.role == "applicant":
        return Reach(lead_org_id=principal.org_id)
    if principal.role == "supervisor":
        return Reach(supervised_by=principal.org_id)
    if principal.role == "third_party":
        return Reach(agency_org_id=principal.org_id)
    return Reach()


# Applied by finalizing an assessment cycle, not through a route of its own.
INTERNAL_ACTIONS = frozenset({"record_assessment"})


def allowed_actions(principal: Principal, record: CenterRecord) -> list[str]:
    if principal.role == "observer":
        return []
    return [a for a in CENTER.allowed_actions(record.status, principal.role) if a not in INTERNAL_ACTIONS]


async def load(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, *, for_update: bool = False
) -> CenterRecord:
    record = await repo.get(session, center_id, reach_of(principal), for_update=for_update)
    if record is None:
        raise NotFound("center", str(center_id))
    return record


async def get_center(session: AsyncSession, principal: Principal, center_id: uuid.UUID) -> CenterRecord:
    return await load(session, principal, center_id)


async def list_centers(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    status: str | None = None,
    field: str | None = None,
    lead_org_id: uuid.UUID | None = None,
) -> PageResult[CenterRecord]:
    return await repo.list_page(session, page, reach_of(principal), status=status, field=field, lead_org_id=lead_org_id)


async def history(session: AsyncSession, principal: Principal, center_id: uuid.UUID) -> list[TransitionRecord]:
    record = await load(session, principal, center_id)
    return await audit.history(session, "center", record.id)


async def next_code(session: AsyncSession, year: int) -> str:
    """HNTIC-{year}-{seq:03d}, numbered per decision year; a per-year lock keeps concurrent approvals apart."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": CENTER_CODE_LOCK, "b": year})
    seq = await repo.count_with_code_prefix(session, f"HNTIC-{year}-") + 1
    return f"HNTIC-{year}-{seq:03d}"


async def _recognition_no(session: AsyncSession, year: int) -> str:
    await session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": RECOGNITION_LOCK, "b": year})
    return f"HNTIC-R-{year}-{await repo.count_recognized_in_year(session, year) + 1:03d}"


# --- task book, center fields ----------------------------------------------------------------------------------


def _task_book_problems(book: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str, str]]:
    problems: list[tuple[tuple[str | int, ...], str, str]] = []
    codes = [t["code"] for t in book.get("targets", [])]
    for index, code in enumerate(codes):
        if codes.index(code) != index:
            problems.append((("body", "targets", index, "code"), "duplicate target code", "value_error"))
    ends_on = book.get("ends_on")
    if ends_on is not None and date.fromisoformat(ends_on) <= date.fromisoformat(book["starts_on"]):
        problems.append((("body", "ends_on"), "ends_on must be after starts_on", "value_error"))
    return problems


async def put_task_book(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    book: Mapping[str, Any],
    expected_version: int | None,
) -> CenterRecord:
    """The target task book (建设目标任务书), editable until it is signed; afterwards only a change request."""
    record = await load(session, principal, center_id, for_update=True)
    lifecycle.check_version(expected_version, record.version)
    if record.status != "approved" or record.task_book_signed_at is not None:
        raise RuleViolation(
            "task-book-signed",
            "任务书已签订，不能修改，须走变更程序",
            "The task book is signed; change it through a change request.",
            {},
        )
    problems = _task_book_problems(book)
    if problems:
        raise ValidationFailed(problems)
    record.task_book = dict(book)
    await session.flush()
    await audit.record_event(
        session,
        principal,
        type="center.task_book_drafted",
        subject_type="center",
        subject_id=record.id,
        data={"targets": len(book.get("targets", []))},
    )
    return record


async def update_center(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> CenterRecord:
    """Legal entity and governance (the province and the lead); the acceptance agency (the province)."""
    record = await load(session, principal, center_id, for_update=True)
    if principal.role not in ("province", "applicant") or record.status in CENTER.terminal:
        raise InvalidTransition(current=record.status, action="update", allowed=allowed_actions(principal, record))
    lifecycle.check_version(expected_version, record.version)
    values = dict(changes)
    if "acceptance_agency_org_id" in values:
        if principal.role != "province":
            raise InvalidReference(loc=("body", "acceptance_agency_org_id"), msg="only the province entrusts")
        agency_id = values["acceptance_agency_org_id"]
        if agency_id is not None:
            agency = await orgs_repo.get(session, uuid.UUID(str(agency_id)))
            if agency is None or agency.kind != "agency":
                raise InvalidReference(
                    loc=("body", "acceptance_agency_org_id"), msg="must name an organization of kind 'agency'"
                )
            await _check_not_involved(session, record, agency.id, "acceptance_agency_org_id")
            values["acceptance_agency_org_id"] = agency.id
    if "legal_entity" in values:
        entity = dict(values["legal_entity"])
        if entity.get("credit_code"):
            entity["credit_code"] = normalize_credit_code(entity["credit_code"])
            problem = validate_credit_code(entity["credit_code"])
            if problem:
                raise InvalidReference(
                    loc=("body", "legal_entity", "credit_code"), msg=problem, type="credit_code_invalid"
                )
        problems = rules.legal_entity_problems(entity)
        if problems:
            raise ValidationFailed([(("body", "legal_entity", name), msg, "value_error") for name, msg in problems])
        values["legal_entity"] = entity
    old = {key: _jsonable(getattr(record, key)) for key in values}
    for key, value in values.items():
        setattr(record, key, value)
    await session.flush()
    await audit.record_transition(
        session,
        principal,
        subject_type="center",
        subject_id=record.id,
        action="update",
        from_status=record.status,
        to_status=record.status,
        data={"changed": sorted(values), "old": old, "new": {k: _jsonable(v) for k, v in values.items()}},
        event_type="center.updated",
    )
    return record


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | date):
        return str(value)
    return value


async def _check_not_involved(session: AsyncSession, record: CenterRecord, org_id: uuid.UUID, field: str) -> None:
    """People of the center, its lead and its supervising department may not act for its acceptance. [practice]"""
    lead = await orgs_repo.get(session, record.lead_org_id)
    involved = {record.lead_org_id, *(uuid.UUID(p["org_id"]) for p in record.participants)}
    if lead is not None and lead.supervisor_id is not None:
        involved.add(lead.supervisor_id)
    if org_id in involved:
        raise RuleViolation(
            "acceptance-conflict-of-interest",
            "中心、牵头单位及其主管部门不得参与验收",
            "The center, its lead and its supervising department may not act for the acceptance.",
            {"org_id": str(org_id), "field": field},
        )


# --- actions ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CenterAction:
    reason: str | None = None
    decided_on: date | None = None
    months: int | None = None
    result: str | None = None
    by_org_id: uuid.UUID | None = None
    reason_code: str | None = None
    document_no: str | None = None
    recover_funds: bool | None = None


def _require(value: Any, name: str, msg: str) -> None:
    if value is None or value == "":
        raise InvalidReference(loc=("body", name), msg=msg, type="missing")


def _violation(blocker: Blocker) -> RuleViolation:
    return RuleViolation(blocker.code, blocker.message_zh, blocker.message_en, dict(blocker.data))


def _blocked(code: str, blockers: list[Blocker]) -> RuleViolation:
    return RuleViolation(
        code,
        "；".join(b.message_zh for b in blockers),
        " ".join(b.message_en for b in blockers),
        {"failed_conditions": [b.as_dict() for b in blockers]},
    )


async def accepted_report_years(session: AsyncSession, center_id: uuid.UUID) -> set[int]:
    statuses = (await repo.report_years_by_status(session, [center_id]))[center_id]
    return {year for year, status in statuses.items() if status == "accepted"}


async def act(
    session: AsyncSession,
    principal: Principal,
    center_id: uuid.UUID,
    action: str,
    body: CenterAction,
    *,
    clock: Clock,
    expected_version: int | None,
) -> CenterRecord:
    """One lifecycle action on a locked center row: of concurrent attempts exactly one wins."""
    record = await load(session, principal, center_id, for_update=True)
    target: str | None = None
    decision_date = body.decided_on
    data: dict[str, Any] = {}
    today = clock.today()

    if action == "record_acceptance":
        _require(body.result, "result", "result is passed or failed")
        _require(body.decided_on, "decided_on", "the decision date is required")
        outcome = rules.acceptance_outcome(
            passed=body.result == "passed",
            failures_before=record.acceptance_failures,
            decided_on=body.decided_on or today,
        )
        target = outcome.status
    elif action == "record_rectification_review":
        _require(body.result, "result", "result is passed or failed")
        _require(body.decided_on, "decided_on", "the decision date is required")
        target = "recognized" if body.result == "passed" else "revoked"
    to_status = lifecycle.decide(CENTER, record, action, principal, expected_version=expected_version, target=target)

    if action == "sign_task_book":
        if not record.task_book:
            raise _violation(rules.TASK_BOOK_MISSING)
        book = record.task_book
        starts_on = date.fromisoformat(book["starts_on"])
        ends_on = date.fromisoformat(book["ends_on"]) if book.get("ends_on") else default_construction_end(starts_on)
        record.construction_starts_on, record.construction_ends_on = starts_on, ends_on
        record.task_book_signed_at = clock.now()
        record.task_book_sha256 = fingerprint(book)
        decision_date = decision_date or starts_on
        data = {
            "construction_starts_on": starts_on.isoformat(),
            "construction_ends_on": ends_on.isoformat(),
            "task_book_sha256": record.task_book_sha256,
        }
    elif action == "extend":
        _require(body.months, "months", "months (1–12) is required")
        _require(body.reason, "reason", "a reason is required")
        months = body.months or 0
        blockers = rules.extension_blockers(
            today=today,
            construction_ends_on=record.construction_ends_on,
            already_extended=record.extension_months is not None,
            months=months,
        )
        if blockers:
            raise _blocked("extension-refused", blockers)
        assert record.construction_ends_on is not None
        old_end = record.construction_ends_on
        record.construction_ends_on = add_months(old_end, months)
        record.extension_months = months
        data = {
            "months": months,
            "old_ends_on": old_end.isoformat(),
            "new_ends_on": record.construction_ends_on.isoformat(),
        }
    elif action == "request_acceptance":
        if record.status == "rectifying" and record.rectifying_kind != "acceptance":
            raise InvalidTransition(
                current=record.status,
                action=action,
                allowed=[a for a in allowed_actions(principal, record) if a != action],
            )
        assert record.construction_ends_on is not None
        blockers = rules.acceptance_blockers(
            today=today,
            construction_ends_on=record.construction_ends_on,
            approved_on=record.approved_on,
            accepted_report_years=await accepted_report_years(session, record.id),
            legal_entity=record.legal_entity,
            after_failed_acceptance=record.status == "rectifying",
        )
        if blockers:
            raise _blocked("acceptance-conditions-unmet", blockers)
        record.acceptance_requested_on = today
    elif action == "record_acceptance":
        by_org = body.by_org_id or principal.org_id
        if principal.role == "third_party" and by_org != principal.org_id:
            raise InvalidReference(loc=("body", "by_org_id"), msg="an agency records only its own acceptance")
        if by_org is not None:
            await _check_not_involved(session, record, by_org, "by_org_id")
        outcome = rules.acceptance_outcome(
            passed=body.result == "passed",
            failures_before=record.acceptance_failures,
            decided_on=body.decided_on or today,
        )
        data = {"result": body.result, "by_org_id": str(by_org) if by_org else None}
        if body.result == "passed":
            assert body.decided_on is not None
            record.recognized_on = body.decided_on
            record.recognition_no = await _recognition_no(session, body.decided_on.year)
            record.rectifying_kind = record.rectification_due_on = None
            data["recognition_no"] = record.recognition_no
        else:
            record.acceptance_failures += 1
            record.rectifying_kind = outcome.rectifying_kind
            record.rectification_due_on = outcome.rectification_due_on
            if outcome.revocation_reason:
                record.revoked_on = body.decided_on
                record.revocation_reason_code = outcome.revocation_reason
                data["reason_code"] = outcome.revocation_reason
    elif action == "record_rectification_review":
        if record.rectifying_kind != "assessment":
            raise InvalidTransition(
                current=record.status,
                action=action,
                allowed=[a for a in allowed_actions(principal, record) if a != action],
            )
        data = {"result": body.result}
        record.rectifying_kind = record.rectification_due_on = None
        if to_status == "revoked":
            record.revoked_on, record.revocation_reason_code = body.decided_on, "failed_rectification"
            data["reason_code"] = "failed_rectification"
    elif action == "revoke":
        _require(body.reason_code, "reason_code", "a revocation reason code is required")
        _require(body.decided_on, "decided_on", "the decision date is required")
        _require(body.reason, "reason", "a reason is required")
        if body.recover_funds and body.reason_code != "fraud":
            raise InvalidReference(loc=("body", "recover_funds"), msg="recovery of funds is ordered only for fraud")
        record.revoked_on, record.revocation_reason_code = body.decided_on, body.reason_code
        record.rectifying_kind = record.rectification_due_on = None
        data = {"reason_code": body.reason_code, "recover_funds": bool(body.recover_funds)}
    elif action == "request_exit":
        _require(body.reason, "reason", "a reason is required")
        for blocker in rules.exit_blockers(action, exit_requested=record.exit_requested_on is not None):
            raise _violation(blocker)
        record.exit_requested_on = today
    elif action == "exit":
        _require(body.decided_on, "decided_on", "the decision date is required")
        for blocker in rules.exit_blockers(action, exit_requested=record.exit_requested_on is not None):
            raise _violation(blocker)
        record.exited_on = body.decided_on
        record.revocation_reason_code = "voluntary_exit"
    await lifecycle.apply(
        session,
        principal,
        record,
        subject_type="center",
        action=action,
        to_status=to_status,
        reason=body.reason,
        decision_date=decision_date,
        data=data,
    )
    return record


# --- import ----------------------------------------------------------------------------------------------------


async def import_center(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> CenterRecord:
    """Bring in a center that exists on paper; from then on it obeys every rule, from its recorded dates."""
    values = dict(data)
    lead = await orgs_repo.get(session, values["lead_org_id"])
    if lead is None:
        raise InvalidReference(loc=("body", "lead_org_id"), msg="no such organization")
    participants = [
        {"org_id": str(p["org_id"]), "role": p.get("role", "参建单位")} for p in values.get("participants") or []
    ]
    found = await orgs_repo.get_many(session, [uuid.UUID(p["org_id"]) for p in participants])
    for index, participant in enumerate(participants):
        if uuid.UUID(participant["org_id"]) not in found:
            raise InvalidReference(loc=("body", "participants", index, "org_id"), msg="no such organization")
    approved_on: date = values["approved_on"]
    starts_on: date = values["construction_starts_on"]
    ends_on: date = values.get("construction_ends_on") or default_construction_end(starts_on)
    book = values.get("task_book")
    status = values["status"]
    record = CenterRecord(
        id=uuid.uuid4(),
        code=await next_code(session, approved_on.year),
        name=values["name"],
        field=values["field"],
        lead_org_id=lead.id,
        participants=participants,
        rule_set=values["rule_set"],
        status=status,
        approved_on=approved_on,
        approval_document_no=values["document_no"],
        construction_starts_on=starts_on,
        construction_ends_on=ends_on,
        task_book=book,
        imported=True,
        task_book_sha256=fingerprint(book) if book else None,
        recognized_on=values.get("recognized_on"),
    )
    if status == "recognized" and record.recognized_on is not None:
        record.recognition_no = values.get("recognition_no") or await _recognition_no(
            session, record.recognized_on.year
        )
    await repo.add(session, record)
    await audit.record_transition(
        session,
        principal,
        subject_type="center",
        subject_id=record.id,
        action="import",
        from_status=None,
        to_status=status,
        decision_date=approved_on,
        data={"code": record.code, "document_no": record.approval_document_no, "imported": True},
        event_type="center.imported",
    )
    return record


async def for_cause_revocations(session: AsyncSession, lead_org_id: uuid.UUID) -> list[date]:
    return [
        c.revoked_on
        for c in await applications_repo.for_cause_revocations(session, lead_org_id)
        if c.revoked_on is not None
    ]
