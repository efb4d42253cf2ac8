"""Centers (技术创新中心) after approval: reading, facts for the guards, task book, own fields, creation at approval
and import (domain.md §6). The lifecycle actions are in `center_actions`; the rules in `app.domain.centers`."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, CenterRecord, TransitionRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import applications as applications_repo
from app.db.repositories import centers as repo
from app.db.repositories import organizations as orgs_repo
from app.db.repositories.centers import Reach
from app.domain import centers as rules
from app.domain.credit_code import normalize_credit_code, validate_credit_code
from app.domain.deadlines import default_construction_end
from app.domain.errors import RuleViolation
from app.domain.events import fingerprint
from app.domain.guards import ActionView, refusal
from app.domain.principal import Principal
from app.domain.publicity import NoticeFact
from app.services import audit, lifecycle, organizations, publicity
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


async def load(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, *, for_update: bool = False
) -> CenterRecord:
    record = await repo.get(session, center_id, reach_of(principal), for_update=for_update)
    if record is None:
        raise NotFound("center", str(center_id))
    return record


async def load_for_filing(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, *, for_update: bool = False
) -> CenterRecord:
    """The center its lead files under (annual reports, change requests). Every other role gets 404, even one that
    reads the center: filing is the lead's alone. Routes call this before an idempotent replay, so a replay never
    answers a caller who could not file here now."""
    record = await load(session, principal, center_id, for_update=for_update)
    if principal.role != "applicant":
        raise NotFound("center", str(center_id))
    return record


async def history(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, *, after: int | None, limit: int
) -> tuple[list[TransitionRecord], int | None]:
    record = await load(session, principal, center_id)
    return await audit.history(session, "center", record.id, after=after, limit=limit)


# --- the guards' facts, for one center or a page ------------------------------------------------------------------


def _facts(
    record: Any,
    today: date,
    accepted: frozenset[int],
    agencies: Collection[str],
    notices: tuple[NoticeFact, ...] = (),
) -> rules.CenterFacts:
    """The guard facts of a center: from its ORM record or from a lean read's row (the same column names)."""
    return rules.CenterFacts(
        status=record.status,
        today=today,
        approved_on=record.approved_on,
        has_task_book=bool(record.task_book),
        construction_ends_on=record.construction_ends_on,
        extension_months=record.extension_months,
        extension_requested_on=record.extension_requested_on,
        acceptance_requested_on=record.acceptance_requested_on,
        accepted_report_years=accepted,
        legal_entity=dict(record.legal_entity),
        rectifying_kind=record.rectifying_kind,
        exit_requested_on=record.exit_requested_on,
        acceptance_agency_org_id=str(record.acceptance_agency_org_id) if record.acceptance_agency_org_id else None,
        assessment_agency_org_ids=frozenset(agencies),
        publicity=notices,
    )


def _sees_publicity(principal: Principal) -> bool:
    # Only the province recognizes, so only its guards look at the recognition notices (公示).
    return principal.role == "province"


def _sees_agencies(principal: Principal) -> bool:
    # Only a third party's guards look at the assessment agencies; nobody else pays for reading them.
    return principal.role == "third_party"


async def facts_of(
    session: AsyncSession, principal: Principal, records: Sequence[CenterRecord], clock: Clock
) -> dict[uuid.UUID, rules.CenterFacts]:
    """The guard facts of many centers: one query per fact kind, whatever the number of centers (none at all for
    the accepted report years of centers this request loaded: `repo.get` reads them with the row)."""
    ids = [r.id for r in records]
    accepted = await repo.accepted_report_years(session, ids) if ids else {}
    agencies = await repo.assessment_agencies(session, ids) if ids and _sees_agencies(principal) else {}
    today = clock.today()
    facts = {r.id: _facts(r, today, accepted[r.id], agencies.get(r.id, set())) for r in records}
    recognizable = [cid for cid, f in facts.items() if "recognize" in rules.LIFECYCLE.table_open(principal, f)]
    notices = await publicity.facts_of(session, "recognition", recognizable)
    return {cid: replace(f, publicity=notices[cid]) if cid in notices else f for cid, f in facts.items()}


async def allowed_of(
    session: AsyncSession, principal: Principal, records: Sequence[CenterRecord], clock: Clock
) -> dict[uuid.UUID, list[str]]:
    """Each center's `allowed_actions` for this caller, from the same blockers as refusals and `GET …/actions`."""
    facts = await facts_of(session, principal, records, clock)
    return {r.id: rules.LIFECYCLE.allowed(principal, facts[r.id]) for r in records}


# --- lean reads: plain rows with their guard facts, one statement each ---------------------------------------------


def _allowed_from_row(principal: Principal, row: Row[Any], today: date) -> list[str]:
    agencies = [str(a) for a in row.assessment_agency_ids or ()] if _sees_agencies(principal) else []
    notices = publicity.notice_facts(row.publicity_facts or ()) if _sees_publicity(principal) else ()
    facts = _facts(row, today, frozenset(row.accepted_report_years or ()), agencies, notices)
    return rules.LIFECYCLE.allowed(principal, facts)


async def read(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, clock: Clock
) -> tuple[Row[Any], list[str]]:
    """One center as a plain row (every column), with the caller's `allowed_actions`: the same guards and facts as
    `allowed_of`, read by the row's own statement."""
    row = await repo.read(
        session, center_id, reach_of(principal), agencies=_sees_agencies(principal), notices=_sees_publicity(principal)
    )
    if row is None:
        raise NotFound("center", str(center_id))
    return row, _allowed_from_row(principal, row, clock.today())


async def read_page(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    clock: Clock,
    *,
    status: str | None = None,
    field: str | None = None,
    lead_org_id: uuid.UUID | None = None,
) -> PageResult[tuple[Row[Any], list[str]]]:
    """A page of centers within the caller's reach, each with its `allowed_actions`: one statement for the page and
    all its guard facts, whatever the page size."""
    result = await repo.read_page(
        session,
        page,
        reach_of(principal),
        agencies=_sees_agencies(principal),
        notices=_sees_publicity(principal),
        status=status,
        field=field,
        lead_org_id=lead_org_id,
    )
    today = clock.today()
    return PageResult(
        items=[(r, _allowed_from_row(principal, r, today)) for r in result.items], next_key=result.next_key
    )


async def action_views(
    session: AsyncSession, principal: Principal, center_id: uuid.UUID, clock: Clock
) -> list[ActionView]:
    record = await load(session, principal, center_id)
    facts = (await facts_of(session, principal, [record], clock))[record.id]
    return rules.LIFECYCLE.views(principal, facts)


# --- numbering ---------------------------------------------------------------------------------------------------


async def next_code(session: AsyncSession, year: int) -> str:
    """HNTIC-{year}-{seq:03d}, numbered per decision year; a per-year lock keeps concurrent approvals apart."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": CENTER_CODE_LOCK, "b": year})
    seq = await repo.count_with_code_prefix(session, f"HNTIC-{year}-") + 1
    return f"HNTIC-{year}-{seq:03d}"


async def recognition_no(session: AsyncSession, year: int) -> str:
    await session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": RECOGNITION_LOCK, "b": year})
    return f"HNTIC-R-{year}-{await repo.count_recognized_in_year(session, year) + 1:03d}"


# --- task book, center fields ----------------------------------------------------------------------------------


def task_book_problems(book: Mapping[str, Any], approved_on: date, loc: tuple[str, ...] = ("body",)) -> None:
    problems = rules.task_book_problems(book, approved_on=approved_on)
    if problems:
        raise ValidationFailed([((*loc, *where), msg, "value_error") for where, msg in problems])


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
            "The task book is signed; change it through a 'task_book' change request.",
            {},
        )
    task_book_problems(book, record.approved_on)
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
    clock: Clock,
) -> CenterRecord:
    """Legal entity and governance (the province and the lead); the acceptance agency (the province)."""
    record = await load(session, principal, center_id, for_update=True)
    facts = (await facts_of(session, principal, [record], clock))[record.id]
    values = dict(changes)
    blockers = rules.update_blockers(principal, facts, values)
    if "governance" in values:
        blockers += rules.director_change_blockers(record.governance, values["governance"])
    if blockers:
        raise refusal(record.status, "update", blockers, rules.LIFECYCLE.allowed(principal, facts))
    lifecycle.check_version(expected_version, record.version)
    if values.get("acceptance_agency_org_id") is not None:
        agency = await orgs_repo.get(session, uuid.UUID(str(values["acceptance_agency_org_id"])))
        if agency is None or agency.kind != "agency":
            raise InvalidReference(
                loc=("body", "acceptance_agency_org_id"), msg="must name an organization of kind 'agency'"
            )
        await check_not_involved(session, record, agency.id, "acceptance_agency_org_id")
        values["acceptance_agency_org_id"] = agency.id
    if "legal_entity" in values:
        values["legal_entity"] = _legal_entity(values["legal_entity"])
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


def _legal_entity(value: Mapping[str, Any]) -> dict[str, Any]:
    entity = dict(value)
    if entity.get("credit_code"):
        entity["credit_code"] = normalize_credit_code(entity["credit_code"])
        problem = validate_credit_code(entity["credit_code"])
        if problem:
            raise InvalidReference(loc=("body", "legal_entity", "credit_code"), msg=problem, type="credit_code_invalid")
    problems = rules.legal_entity_problems(entity)
    if problems:
        raise ValidationFailed([(("body", "legal_entity", name), msg, "value_error") for name, msg in problems])
    return entity


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | date):
        return str(value)
    return value


async def check_not_involved(session: AsyncSession, record: CenterRecord, org_id: uuid.UUID, field: str) -> None:
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


# --- creation: at approval, or by import -----------------------------------------------------------------------


async def create_center(session: AsyncSession, principal: Principal, application: ApplicationRecord) -> CenterRecord:
    """Approval creates the center (state `approved`) in the same transaction; code HNTIC-{year}-{seq:03d}."""
    assert application.decision_date is not None
    assert application.document_no is not None
    center = CenterRecord(
        id=uuid.uuid4(),
        code=await next_code(session, application.decision_date.year),
        name=application.proposed_name,
        field=application.field,
        lead_org_id=application.lead_org_id,
        participants=application.participants,
        application_id=application.id,
        rule_set=application.rule_set,
        status="approved",
        approved_on=application.decision_date,
        approval_document_no=application.document_no,
    )
    await repo.add(session, center)
    await audit.record_transition(
        session,
        principal,
        subject_type="center",
        subject_id=center.id,
        action="approve",
        from_status=None,
        to_status="approved",
        decision_date=application.decision_date,
        data={"code": center.code, "application_id": str(application.id), "document_no": application.document_no},
    )
    return center


async def import_center(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> CenterRecord:
    """Bring in a center that exists on paper; from then on it obeys every rule, from its recorded dates."""
    values = dict(data)
    lead = await orgs_repo.get(session, values["lead_org_id"])
    if lead is None:
        raise InvalidReference(loc=("body", "lead_org_id"), msg="no such organization")
    participants = await organizations.check_participants(session, lead.id, values.get("participants") or [])
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
        record.recognition_no = values.get("recognition_no") or await recognition_no(session, record.recognized_on.year)
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
