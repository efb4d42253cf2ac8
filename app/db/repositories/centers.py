"""SQL for centers."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    event,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.db.models import (
    AnnualReportRecord,
    AssessmentCycleRecord,
    AssessmentEntryRecord,
    CenterRecord,
    ChangeRequestRecord,
    OrganizationRecord,
    TransitionRecord,
)
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page
from app.db.repositories.publicity import facts_column as publicity_facts
from app.domain.deadlines import CenterChange, CenterHistory, ReportFiling, local_date


@dataclass(frozen=True)
class Reach:
    everything: bool = False
    lead_org_id: uuid.UUID | None = None
    supervised_by: uuid.UUID | None = None
    agency_org_id: uuid.UUID | None = None


# Table columns, not ORM attributes: the same conditions serve the ORM loads and the lean Core reads, which then
# skip the ORM's compile and loading steps altogether.
_CENTERS = CenterRecord.__table__.c
_ORGS = OrganizationRecord.__table__.c
_ENTRIES = AssessmentEntryRecord.__table__.c
_CYCLES = AssessmentCycleRecord.__table__.c
_REPORTS = AnnualReportRecord.__table__.c


def _reach_key(reach: Reach) -> tuple[str, uuid.UUID | None]:
    """(which kind of reach, the organization it is relative to)."""
    if reach.everything:
        return "everything", None
    if reach.lead_org_id is not None:
        return "lead", reach.lead_org_id
    if reach.supervised_by is not None:
        return "supervisor", reach.supervised_by
    if reach.agency_org_id is not None:
        return "agency", reach.agency_org_id
    return "nothing", None


def _reach_condition(kind: str, org: Any) -> ColumnElement[bool] | None:
    """The condition of a kind of reach, relative to `org` (a value, or a bind parameter of a cached statement)."""
    if kind == "everything":
        return None
    if kind == "lead":
        own: ColumnElement[bool] = _CENTERS.lead_org_id == org
        return own
    if kind == "supervisor":
        return _CENTERS.lead_org_id.in_(select(_ORGS.id).where(_ORGS.supervisor_id == org))
    if kind == "agency":
        entrusted = (
            select(_ENTRIES.center_id)
            .join(AssessmentCycleRecord.__table__, _CYCLES.id == _ENTRIES.cycle_id)
            .where(_CYCLES.entrusted_to_org_id == org)
        )
        return or_(_CENTERS.acceptance_agency_org_id == org, _CENTERS.id.in_(entrusted))
    return _CENTERS.id.is_(None)


def _condition(reach: Reach) -> ColumnElement[bool] | None:
    return _reach_condition(*_reach_key(reach))


def _query(reach: Reach) -> Select[CenterRecord]:
    query = select(CenterRecord)
    condition = _condition(reach)
    return query if condition is None else query.where(condition)


# --- the guards' facts that live outside the center row, as columns of the same statement -------------------------


def _accepted_years() -> ScalarSelect[Any]:
    """The years of the center's accepted annual reports (NULL when none), correlated to the outer `centers` row."""
    return (
        select(func.array_agg(_REPORTS.period_year))
        .where(_REPORTS.center_id == _CENTERS.id, _REPORTS.status == "accepted")
        .scalar_subquery()
    )


def _agencies() -> ScalarSelect[Any]:
    """The agencies entrusted with an assessment cycle that includes the center (NULL when none)."""
    return (
        select(func.array_agg(_CYCLES.entrusted_to_org_id))
        .select_from(
            AssessmentEntryRecord.__table__.join(AssessmentCycleRecord.__table__, _CYCLES.id == _ENTRIES.cycle_id)
        )
        .where(_ENTRIES.center_id == _CENTERS.id, _CYCLES.entrusted_to_org_id.is_not(None))
        .scalar_subquery()
    )


# Per session: {center id: accepted report years}, filled by every load of a center, so the guards of the request
# that loaded it (before and after an action) need no query of their own. A flush that touches annual reports
# forgets it.
_ACCEPTED = "tic.center_accepted_years"


@event.listens_for(Session, "before_flush")
def _forget_accepted_years(session: Session, flush_context: Any, instances: Any) -> None:
    if _ACCEPTED in session.info and any(
        isinstance(o, AnnualReportRecord) for o in (*session.new, *session.dirty, *session.deleted)
    ):
        del session.info[_ACCEPTED]


def _years(value: Any) -> frozenset[int]:
    return frozenset(value or ())


async def accepted_report_years(
    session: AsyncSession, center_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, frozenset[int]]:
    """{center_id: years of its accepted annual reports} for many centers: one query for those not loaded yet."""
    known: dict[uuid.UUID, frozenset[int]] = session.info.setdefault(_ACCEPTED, {})
    missing = [cid for cid in center_ids if cid not in known]
    if missing:
        query = select(_CENTERS.id, _accepted_years()).where(_CENTERS.id.in_(missing))
        found = {cid: _years(years) for cid, years in (await session.execute(query)).all()}
        known.update({cid: found.get(cid, frozenset()) for cid in missing})
    return {cid: known[cid] for cid in center_ids}


async def get(
    session: AsyncSession, center_id: uuid.UUID, reach: Reach, *, for_update: bool = False
) -> CenterRecord | None:
    """The center as an ORM record (for writes), its accepted report years read by the same statement."""
    query = _query(reach).add_columns(_accepted_years()).where(_CENTERS.id == center_id)
    if for_update:
        query = query.with_for_update(of=CenterRecord)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    record: CenterRecord = row[0]
    years = row[1]
    session.info.setdefault(_ACCEPTED, {})[record.id] = _years(years)
    return record


# The lean reads' statements are built once per shape and kept: building a select with its correlated subqueries
# and computing its cache key cost more CPU than the rest of a single read (bench/RESULTS.md, run 3's profile).
# Every value is a bind parameter.
_PAGE_FILTERS = ("status", "field", "lead_org_id")


@functools.cache
def _lean(kind: str, agencies: bool, notices: bool = False) -> Select[Any]:
    """Every column of the center plus its guard facts, as plain rows: no identity map, no ORM loading."""
    facts = [_accepted_years().label("accepted_report_years")]
    if agencies:
        facts.append(_agencies().label("assessment_agency_ids"))
    if notices:
        # The recognition notices (公示) listing the center: only an accepted center's `recognize` reads them.
        listed = case((_CENTERS.status == "accepted", publicity_facts("recognition", _CENTERS.id)), else_=None)
        facts.append(listed.label("publicity_facts"))
    query = select(CenterRecord.__table__, *facts)
    condition = _reach_condition(kind, bindparam("reach_org", type_=_CENTERS.lead_org_id.type))
    return query if condition is None else query.where(condition)


@functools.cache
def _read_one(kind: str, agencies: bool, notices: bool) -> Select[Any]:
    return _lean(kind, agencies, notices).where(_CENTERS.id == bindparam("center_id"))


@functools.cache
def _read_page(
    kind: str, agencies: bool, notices: bool, filters: tuple[str, ...], after: bool, since: bool
) -> Select[Any]:
    query = _lean(kind, agencies, notices)
    for name in filters:
        query = query.where(_CENTERS[name] == bindparam(name))
    if since:
        query = query.where(_CENTERS.updated_at >= bindparam("updated_since", type_=_CENTERS.updated_at.type))
    if after:
        after_key = tuple_(
            bindparam("after_created", type_=_CENTERS.created_at.type), bindparam("after_id", type_=_CENTERS.id.type)
        )
        # A row comparison, so PostgreSQL seeks the (created_at, id) index instead of filtering every earlier row.
        query = query.where(tuple_(_CENTERS.created_at, _CENTERS.id) > after_key)
    return query.order_by(_CENTERS.created_at, _CENTERS.id).limit(bindparam("limit", type_=Integer))


async def read(
    session: AsyncSession, center_id: uuid.UUID, reach: Reach, *, agencies: bool, notices: bool = False
) -> Row[Any] | None:
    """One center for a read, with its guard facts (`accepted_report_years`, and `assessment_agency_ids` and
    `publicity_facts` when asked): one statement."""
    kind, org = _reach_key(reach)
    result = await session.execute(_read_one(kind, agencies, notices), {"reach_org": org, "center_id": center_id})
    row: Row[Any] | None = result.one_or_none()
    return row


async def read_page(
    session: AsyncSession,
    page: PageRequest,
    reach: Reach,
    *,
    agencies: bool,
    notices: bool = False,
    status: str | None,
    field: str | None,
    lead_org_id: uuid.UUID | None,
) -> PageResult[Row[Any]]:
    """A page of centers for a read, each row with its guard facts: one statement, whatever the page size. Ordered
    by (created_at, id); one extra row tells whether there is a next page."""
    kind, org = _reach_key(reach)
    values: dict[str, Any] = {"reach_org": org, "limit": page.limit + 1}
    for name, value in zip(_PAGE_FILTERS, (status, field, lead_org_id), strict=True):
        if value:
            values[name] = value
    if page.updated_since is not None:
        values["updated_since"] = page.updated_since
    if page.after is not None:
        values["after_created"], values["after_id"] = page.after
    filters = tuple(name for name in _PAGE_FILTERS if name in values)
    statement = _read_page(kind, agencies, notices, filters, page.after is not None, page.updated_since is not None)
    rows = list((await session.execute(statement, values)).all())
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_key = (rows[-1].created_at, rows[-1].id) if has_more and rows else None
    return PageResult(items=rows, next_key=next_key)


async def add(session: AsyncSession, record: CenterRecord) -> CenterRecord:
    session.add(record)
    await session.flush()
    return record


async def count_with_code_prefix(session: AsyncSession, prefix: str) -> int:
    query = select(func.count()).select_from(CenterRecord).where(CenterRecord.code.startswith(prefix))
    return int((await session.execute(query)).scalar_one())


async def all_in_reach(
    session: AsyncSession, reach: Reach, *, center_id: uuid.UUID | None = None
) -> list[CenterRecord]:
    query = _query(reach)
    if center_id is not None:
        query = query.where(CenterRecord.id == center_id)
    return list((await session.execute(query.order_by(CenterRecord.code))).scalars())


def ids_in_reach(reach: Reach, *, center_id: uuid.UUID | None = None) -> Select[tuple[uuid.UUID]]:
    """The reachable center ids as a subquery, for filters that would otherwise send one parameter per center."""
    query: Select[tuple[uuid.UUID]] = _query(reach).with_only_columns(CenterRecord.id)
    if center_id is not None:
        query = query.where(CenterRecord.id == center_id)
    return query


# --- dated history, for obligations on any date ------------------------------------------------------------------


def _effective_on(decision_date: date | None, occurred_at: datetime, tz: tzinfo) -> date:
    """A decision takes effect on its recorded date; anything else on the local date on which it was recorded."""
    return decision_date if decision_date is not None else local_date(occurred_at, tz)


async def histories_page(
    session: AsyncSession,
    reach: Reach,
    *,
    limit: int,
    after_code: str | None = None,
    inclusive: bool = False,
    center_id: uuid.UUID | None = None,
) -> list[tuple[str, CenterHistory]]:
    """Up to `limit` reachable centers in code order from `after_code` (excluded, or included when `inclusive`):
    (code, own dates — approval, construction end as recorded now — without changes yet)."""
    query = _query(reach).with_only_columns(
        CenterRecord.id, CenterRecord.code, CenterRecord.approved_on, CenterRecord.construction_ends_on
    )
    if center_id is not None:
        query = query.where(CenterRecord.id == center_id)
    if after_code is not None:
        query = query.where(CenterRecord.code >= after_code if inclusive else CenterRecord.code > after_code)
    rows = (await session.execute(query.order_by(CenterRecord.code).limit(limit))).all()
    return [
        (
            row.code,
            CenterHistory(
                center_id=str(row.id),
                approved_on=row.approved_on,
                changes=(),
                construction_ends_on=row.construction_ends_on,
            ),
        )
        for row in rows
    ]


async def changes_of(
    session: AsyncSession, center_ids: Sequence[uuid.UUID], tz: tzinfo
) -> dict[str, list[CenterChange]]:
    """{center id: its status changes and extensions, in recording order}, from `transitions`, in one query.

    Edits that keep the status (`update`, requests, declined requests) are left out; `extend` is kept for the end
    dates it records. The import of a recognized center carries the recognition date recorded on the center.
    """
    recognized_on = case(
        (
            and_(TransitionRecord.action == "import", TransitionRecord.to_status == "recognized"),
            CenterRecord.recognized_on,
        ),
        else_=None,
    )
    query = (
        select(
            TransitionRecord.subject_id,
            TransitionRecord.action,
            TransitionRecord.from_status,
            TransitionRecord.to_status,
            TransitionRecord.decision_date,
            TransitionRecord.occurred_at,
            TransitionRecord.data["old_ends_on"].astext.label("old_ends_on"),
            recognized_on.label("recognized_on"),
        )
        .join(CenterRecord, CenterRecord.id == TransitionRecord.subject_id)
        .where(
            TransitionRecord.subject_type == "center",
            TransitionRecord.subject_id.in_(list(center_ids)),
            or_(
                TransitionRecord.from_status.is_distinct_from(TransitionRecord.to_status),
                TransitionRecord.action == "extend",
            ),
        )
        .order_by(TransitionRecord.subject_id, TransitionRecord.id)
    )
    out: dict[str, list[CenterChange]] = {}
    for row in (await session.execute(query)).all():
        out.setdefault(str(row.subject_id), []).append(
            CenterChange(
                action=row.action,
                from_status=row.from_status,
                status=row.to_status,
                effective_on=_effective_on(row.decision_date, row.occurred_at, tz),
                extended_from=_stored_date(row.old_ends_on) if row.action == "extend" else None,
                recognized_on=row.recognized_on,
            )
        )
    return out


def _stored_date(text: str | None) -> date | None:
    """A date kept as text in a transition's data; None when absent or unreadable (it must not fail a listing)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def report_filings_of(
    session: AsyncSession, center_ids: Sequence[uuid.UUID], tz: tzinfo
) -> dict[str, list[ReportFiling]]:
    """{center id: its annual reports ever submitted}, with the local date of the first submission (`submitted_at`,
    else the report's first `submit` transition) and, for a report now returned, the date of its last return."""

    def transition_time(action: str, aggregate: Any) -> ScalarSelect[datetime]:
        return (
            select(aggregate(TransitionRecord.occurred_at))
            .where(
                TransitionRecord.subject_type == "annual_report",
                TransitionRecord.subject_id == AnnualReportRecord.id,
                TransitionRecord.action == action,
            )
            .scalar_subquery()
        )

    query = select(
        AnnualReportRecord.center_id,
        AnnualReportRecord.period_year,
        func.coalesce(AnnualReportRecord.submitted_at, transition_time("submit", func.min)).label("submitted_at"),
        case((AnnualReportRecord.status == "returned", transition_time("return", func.max)), else_=None).label(
            "returned_at"
        ),
    ).where(
        AnnualReportRecord.center_id.in_(list(center_ids)),
        AnnualReportRecord.status != "draft",
    )
    out: dict[str, list[ReportFiling]] = {}
    for row in (await session.execute(query)).all():
        if row.submitted_at is None:
            continue
        out.setdefault(str(row.center_id), []).append(
            ReportFiling(
                period_year=row.period_year,
                first_submitted_on=local_date(row.submitted_at, tz),
                returned_on=None if row.returned_at is None else local_date(row.returned_at, tz),
            )
        )
    return out


# --- annual reports ---------------------------------------------------------------------------------------------


async def get_report(
    session: AsyncSession, center_id: uuid.UUID, report_id: uuid.UUID, *, for_update: bool = False
) -> AnnualReportRecord | None:
    query = select(AnnualReportRecord).where(
        AnnualReportRecord.id == report_id, AnnualReportRecord.center_id == center_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def report_for_year(session: AsyncSession, center_id: uuid.UUID, year: int) -> AnnualReportRecord | None:
    query = select(AnnualReportRecord).where(
        AnnualReportRecord.center_id == center_id, AnnualReportRecord.period_year == year
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add_report(session: AsyncSession, record: AnnualReportRecord) -> AnnualReportRecord:
    session.add(record)
    await session.flush()
    return record


async def reports(session: AsyncSession, center_id: uuid.UUID, page: PageRequest) -> PageResult[AnnualReportRecord]:
    query = select(AnnualReportRecord).where(AnnualReportRecord.center_id == center_id)
    return await keyset_page(session, query, AnnualReportRecord, page)


# --- change requests --------------------------------------------------------------------------------------------


async def get_change(
    session: AsyncSession, center_id: uuid.UUID, request_id: uuid.UUID, *, for_update: bool = False
) -> ChangeRequestRecord | None:
    query = select(ChangeRequestRecord).where(
        ChangeRequestRecord.id == request_id, ChangeRequestRecord.center_id == center_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def add_change(session: AsyncSession, record: ChangeRequestRecord) -> ChangeRequestRecord:
    session.add(record)
    await session.flush()
    return record


async def changes(session: AsyncSession, center_id: uuid.UUID, page: PageRequest) -> PageResult[ChangeRequestRecord]:
    query = select(ChangeRequestRecord).where(ChangeRequestRecord.center_id == center_id)
    return await keyset_page(session, query, ChangeRequestRecord, page)


async def count_recognized_in_year(session: AsyncSession, year: int) -> int:
    query = (
        select(func.count()).select_from(CenterRecord).where(CenterRecord.recognition_no.startswith(f"HNTIC-R-{year}-"))
    )
    return int((await session.execute(query)).scalar_one())


async def assessment_agencies(session: AsyncSession, center_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """{center_id: ids of the agencies entrusted with a cycle that includes it}, for many centers in one query."""
    out: dict[uuid.UUID, set[str]] = {cid: set() for cid in center_ids}
    if not center_ids:
        return out
    query = (
        select(AssessmentEntryRecord.center_id, AssessmentCycleRecord.entrusted_to_org_id)
        .join(AssessmentCycleRecord, AssessmentCycleRecord.id == AssessmentEntryRecord.cycle_id)
        .where(AssessmentEntryRecord.center_id.in_(center_ids), AssessmentCycleRecord.entrusted_to_org_id.is_not(None))
    )
    for center_id, agency_id in (await session.execute(query)).all():
        out[center_id].add(str(agency_id))
    return out
