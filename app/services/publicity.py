"""Public notices (公示) and objections (异议) (issue 16 §3): publishing a list, recording and resolving objections,
and the facts the `approve` / `recognize` guards read.

Only the province publishes, records and resolves; the province and observers read notices (the same list is public
without a token at `GET /public/publicity/{id}`, without ids); the objector's name and contact are the province's
alone and never reach the feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import PublicityNoticeRecord, PublicityObjectionRecord, PublicitySubjectRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import publicity as repo
from app.domain import publicity as rules
from app.domain.errors import RuleViolation
from app.domain.principal import Principal
from app.domain.workdays import OFFICIAL, WorkdayCalendar
from app.services import audit
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound, ValidationFailed

READERS = ("province", "observer")


def _check_reader(principal: Principal, notice_id: uuid.UUID | str = "*") -> None:
    if principal.role not in READERS:
        raise NotFound("publicity", str(notice_id))


def _check_province(principal: Principal, notice_id: uuid.UUID | str = "*") -> None:
    if principal.role != "province":
        raise NotFound("publicity", str(notice_id))


@dataclass(frozen=True)
class Entry:
    subject_id: uuid.UUID
    name: str
    lead_org_name: str
    field: str


@dataclass(frozen=True)
class Notice:
    id: uuid.UUID
    kind: str
    starts_on: date
    ends_on: date
    working_days: int
    status: str
    created_by: str
    created_at: datetime
    version: int
    subjects: list[Entry]


def _notice(row: Row[Any], today: date) -> Notice:
    entries = sorted(row.subjects or [], key=lambda e: e["p"])
    return Notice(
        id=row.id,
        kind=row.kind,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        working_days=row.working_days,
        status=rules.notice_status(row.starts_on, row.ends_on, today),
        created_by=row.created_by,
        created_at=row.created_at,
        version=row.version,
        subjects=[
            Entry(uuid.UUID(e["e"]["subject_id"]), e["e"]["name"], e["e"]["lead_org_name"], e["e"]["field"])
            for e in entries
        ],
    )


# --- publishing --------------------------------------------------------------------------------------------------


def _subject_problems(subject_ids: Sequence[uuid.UUID]) -> None:
    seen: set[uuid.UUID] = set()
    errors: list[tuple[tuple[str | int, ...], str, str]] = []
    for index, sid in enumerate(subject_ids):
        if sid in seen:
            errors.append((("body", "subject_ids", index), "listed twice", "value_error"))
        seen.add(sid)
    if errors:
        raise ValidationFailed(errors)


async def publish(
    session: AsyncSession,
    principal: Principal,
    data: Mapping[str, Any],
    clock: Clock,
    calendar: WorkdayCalendar = OFFICIAL,
) -> PublicityNoticeRecord:
    """Publish a notice: every subject in the state its kind lists, the period counted on the official calendar."""
    _check_province(principal)
    kind: str = data["kind"]
    subject_ids: list[uuid.UUID] = list(data["subject_ids"])
    starts_on: date = data["starts_on"]
    working_days: int = data["working_days"]
    today = clock.today()
    _subject_problems(subject_ids)
    if (problem := rules.start_problem(starts_on, today, calendar)) is not None:
        raise InvalidReference(loc=("body", "starts_on"), msg=problem, type="value_error")
    ends_on = rules.ends_on(starts_on, working_days, calendar)
    found = await repo.candidates(session, kind, subject_ids)
    wanted = rules.SUBJECT_STATUS[kind]
    for index, sid in enumerate(subject_ids):
        row = found.get(sid)
        if row is None:
            raise InvalidReference(loc=("body", "subject_ids", index), msg=f"no such {rules.SUBJECT_TYPE[kind]}")
        if row.status != wanted:
            raise RuleViolation(
                "publicity-subject-wrong-state",
                f"第 {index + 1} 项不处于{'评审完成' if kind == 'approval' else '验收通过'}状态（{row.status}）",
                f"subject_ids[{index}] is '{row.status}'; a {kind} notice lists only subjects in '{wanted}'.",
                {"index": index, "subject_id": str(sid), "subject_status": row.status, "field": "subject_ids"},
            )
    notice = PublicityNoticeRecord(
        id=uuid.uuid4(),
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        working_days=working_days,
        created_by=principal.sub,
    )
    entries = [
        PublicitySubjectRecord(
            notice_id=notice.id,
            subject_id=sid,
            position=index,
            name=found[sid].name,
            lead_org_name=found[sid].lead_org_name,
            field=found[sid].field,
        )
        for index, sid in enumerate(subject_ids)
    ]
    await repo.add(session, notice, entries)
    await audit.record_transition(
        session,
        principal,
        subject_type="publicity",
        subject_id=notice.id,
        action="publish",
        from_status=None,
        to_status="published",
        data={
            "kind": kind,
            "subject_type": rules.SUBJECT_TYPE[kind],
            "subject_ids": [str(s) for s in subject_ids],
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "working_days": working_days,
        },
    )
    return notice


async def read(session: AsyncSession, principal: Principal, notice_id: uuid.UUID, clock: Clock) -> Notice:
    _check_reader(principal, notice_id)
    return await read_public(session, notice_id, clock)


async def read_public(session: AsyncSession, notice_id: uuid.UUID, clock: Clock) -> Notice:
    """A notice as anyone may read it: the route decides which of its fields to show."""
    row = await repo.read(session, notice_id)
    if row is None:
        raise NotFound("publicity", str(notice_id))
    return _notice(row, clock.today())


async def read_page(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    clock: Clock,
    *,
    kind: str | None,
    status: str | None,
) -> PageResult[Notice]:
    _check_reader(principal)
    today = clock.today()
    result = await repo.read_page(session, page, kind=kind, status=status, today=today)
    return PageResult(items=[_notice(r, today) for r in result.items], next_key=result.next_key)


# --- objections ----------------------------------------------------------------------------------------------------


async def record_objection(
    session: AsyncSession, principal: Principal, notice_id: uuid.UUID, data: Mapping[str, Any], clock: Clock
) -> PublicityObjectionRecord:
    """An objection received during the notice against one of its subjects, recorded for the objector."""
    _check_province(principal, notice_id)
    notice = await repo.get(session, notice_id)
    if notice is None:
        raise NotFound("publicity", str(notice_id))
    subject_id: uuid.UUID = data["subject_id"]
    if not await repo.subject_of(session, notice_id, subject_id):
        raise InvalidReference(loc=("body", "subject_id"), msg="not a subject of this notice")
    received_on: date = data["received_on"]
    if (problem := rules.received_on_problem(received_on, clock.today())) is not None:
        raise InvalidReference(loc=("body", "received_on"), msg=problem, type="value_error")
    rules.check_received_in_notice(received_on, notice.starts_on, notice.ends_on)
    record = PublicityObjectionRecord(
        id=uuid.uuid4(),
        notice_id=notice_id,
        subject_id=subject_id,
        summary=data["summary"],
        objector_name=data["objector_name"],
        objector_contact=data["objector_contact"],
        received_on=received_on,
        status="open",
        created_by=principal.sub,
    )
    await repo.add_objection(session, record)
    # The feed says that an objection against which subject arrived when: never who objected, how to reach them,
    # or what they wrote (it may name people).
    await audit.record_transition(
        session,
        principal,
        subject_type="objection",
        subject_id=record.id,
        action="record",
        from_status=None,
        to_status="open",
        event_type="publicity.objection_recorded",
        data={
            "notice_id": str(notice_id),
            "kind": notice.kind,
            "subject_id": str(subject_id),
            "received_on": received_on.isoformat(),
        },
    )
    return record


async def list_objections(
    session: AsyncSession, principal: Principal, notice_id: uuid.UUID, page: PageRequest
) -> PageResult[PublicityObjectionRecord]:
    _check_province(principal, notice_id)
    if await repo.get(session, notice_id) is None:
        raise NotFound("publicity", str(notice_id))
    return await repo.objections_page(session, notice_id, page)


async def resolve_objection(
    session: AsyncSession,
    principal: Principal,
    notice_id: uuid.UUID,
    objection_id: uuid.UUID,
    data: Mapping[str, Any],
    clock: Clock,
) -> PublicityObjectionRecord:
    """`upheld` (the subject stays blocked; the province may reject it) or `dismissed` (it no longer blocks)."""
    _check_province(principal, notice_id)
    record = await repo.get_objection(session, notice_id, objection_id, for_update=True)
    if record is None:
        raise NotFound("objection", str(objection_id))
    rules.resolve_problem(record.status)
    outcome: str = data["outcome"]
    record.status = outcome
    record.resolution_reason = data["reason"]
    record.resolved_by = principal.sub
    record.resolved_at = clock.now()
    await session.flush()
    await audit.record_transition(
        session,
        principal,
        subject_type="objection",
        subject_id=record.id,
        action="resolve",
        from_status="open",
        to_status=outcome,
        reason=data["reason"],
        event_type="publicity.objection_resolved",
        data={"notice_id": str(notice_id), "subject_id": str(record.subject_id), "outcome": outcome},
    )
    return record


# --- the guards' facts ----------------------------------------------------------------------------------------------


def notice_facts(rows: Sequence[tuple[Any, Any, int, int]]) -> tuple[rules.NoticeFact, ...]:
    """Facts from (notice id, ends_on, open, upheld) rows: tuples of a query, or lists of a lean read's JSON."""
    return tuple(
        rules.NoticeFact(
            notice_id=str(nid),
            ends_on=ends if isinstance(ends, date) else date.fromisoformat(ends),
            open_objections=int(opened),
            upheld_objections=int(upheld),
        )
        for nid, ends, opened, upheld in rows
    )


async def facts_of(
    session: AsyncSession, kind: str, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[rules.NoticeFact, ...]]:
    """The notices of `kind` listing each subject, with its objections: one query for any number of subjects."""
    if not subject_ids:
        return {}
    found = await repo.facts(session, kind, subject_ids)
    return {sid: notice_facts(rows) for sid, rows in found.items()}
