"""The inbox's queries: one per source of `app.domain.inbox.SOURCES`, under the same name, all sent as one statement.

Each query selects the same six columns — source name, subject type, id and name, the parent id (the center of a
report or a change request, the cycle of an assessment result) and a JSON object of the facts its rule reads — and
restricts its rows to the caller's reach itself. The queries of a caller's sources are joined with UNION ALL, so an
inbox costs one statement whatever it holds; each source reads at most `ROWS_PER_SOURCE` rows, which bounds the work.
Dates travel in the JSON as ISO text; every fact named `…_on` or `…_by` is read back as a date.

To add a source: write `def _my_source(scope: Scope) -> Select | None` (None where the scope has no rows of it),
register it in `QUERIES` under the domain source's name, and select `_columns(...)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import (
    AnnualReportRecord,
    ApplicationRecord,
    AssessmentCycleRecord,
    AssessmentEntryRecord,
    CallRecord,
    CenterRecord,
    ChangeRequestRecord,
    OrganizationRecord,
    PanelMemberRecord,
    PublicityObjectionRecord,
    PublicitySubjectRecord,
    ReviewScoreRecord,
)
from app.domain.inbox import Row, Subject
from app.domain.lifecycles import CENTER_LIVE_STATES

ROWS_PER_SOURCE = 1000
# The worker's scope: every row of every dated source, whoever's it is.
SYSTEM = "system"
# A report counts as filed once submitted, and again once submitted after a return.
FILED_REPORT_STATUSES = ("submitted", "endorsed", "accepted")


# A column or an ORM attribute: either goes into a select.
Col = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose inbox: a role and the organization or expert its token names (`system` for the worker)."""

    role: str
    org_id: uuid.UUID | None = None
    expert_id: uuid.UUID | None = None


def _columns(
    source: str,
    subject_type: str,
    subject_id: Col,
    name: Col,
    parent_id: Col | None = None,
    **facts: Col,
) -> list[ColumnElement[Any]]:
    pairs: list[Any] = []
    for key, column in facts.items():
        pairs.extend((literal(key, String), column))
    return [
        literal(source, String).label("source"),
        literal(subject_type, String).label("subject_type"),
        cast(subject_id, UUID(as_uuid=True)).label("subject_id"),
        cast(name, String).label("name"),
        (parent_id if parent_id is not None else cast(null(), UUID(as_uuid=True))).label("parent_id"),
        cast(func.jsonb_build_object(*pairs), JSONB).label("facts"),
    ]


# --- reach ----------------------------------------------------------------------------------------------------------


def _supervised_by(lead: Col, org_id: uuid.UUID | None) -> ColumnElement[bool]:
    return lead.in_(select(OrganizationRecord.id).where(OrganizationRecord.supervisor_id == org_id))


def _without_supervisor(lead: Col) -> ColumnElement[bool]:
    """The province takes the supervisor's step for a lead with none (省直单位)."""
    return lead.in_(select(OrganizationRecord.id).where(OrganizationRecord.supervisor_id.is_(None)))


def _supervising_step(scope: Scope, lead: Col) -> ColumnElement[bool] | None:
    if scope.role == "supervisor":
        return _supervised_by(lead, scope.org_id)
    if scope.role == "province":
        return _without_supervisor(lead)
    return None


def _lead_or_system(scope: Scope, lead: Col) -> ColumnElement[bool] | None:
    if scope.role == "applicant":
        return lead == scope.org_id
    if scope.role == SYSTEM:
        return literal(True)
    return None


# --- the sources ----------------------------------------------------------------------------------------------------

_A = ApplicationRecord


def _applications(source: str, statuses: tuple[str, ...], condition: ColumnElement[bool] | None = None) -> Select[Any]:
    query = select(*_columns(source, "application", _A.id, _A.proposed_name)).where(_A.status.in_(statuses))
    return query if condition is None else query.where(condition)


def _applications_to_recommend(scope: Scope) -> Select[Any] | None:
    where = _supervising_step(scope, _A.lead_org_id)
    return None if where is None else _applications("applications_to_recommend", ("submitted",), where)


def _province_only(source: str, statuses: tuple[str, ...]) -> Callable[[Scope], Select[Any] | None]:
    def query(scope: Scope) -> Select[Any] | None:
        return _applications(source, statuses) if scope.role == "province" else None

    return query


def _applications_to_submit(scope: Scope) -> Select[Any] | None:
    where = _lead_or_system(scope, _A.lead_org_id)
    if where is None:
        return None
    return (
        select(
            *_columns(
                "applications_to_submit",
                "application",
                _A.id,
                _A.proposed_name,
                status=_A.status,
                resubmit_by=_A.resubmit_by,
                call_closes_on=CallRecord.closes_on,
            )
        )
        .outerjoin(CallRecord, CallRecord.id == _A.call_id)
        .where(_A.status.in_(("draft", "returned")), where)
    )


def _applications_to_revise(scope: Scope) -> Select[Any] | None:
    if scope.role != "applicant":
        return None
    return _applications("applications_to_revise", ("revising",), _A.lead_org_id == scope.org_id)


def _scores_to_give(scope: Scope) -> Select[Any] | None:
    """Panels with review open on which an accepted member has not scored the current round, due on the panel's
    scoring deadline (TIC_SCORE_DAYS after the review opened). The worker (system) reads every such member."""
    if scope.role not in ("expert", SYSTEM):
        return None
    _P = PanelMemberRecord
    mine = _P.expert_id == scope.expert_id if scope.role == "expert" else literal(True)
    scored = exists().where(
        ReviewScoreRecord.application_id == _A.id,
        ReviewScoreRecord.expert_id == _P.expert_id,
        ReviewScoreRecord.round == _A.review_round,
    )
    return (
        select(*_columns("scores_to_give", "application", _A.id, _A.proposed_name, scores_due_on=_A.scores_due_on))
        .join(_P, _P.application_id == _A.id)
        .where(_A.status == "under_review", _P.status == "accepted", mine, ~scored)
    )


def _invitations_to_answer(scope: Scope) -> Select[Any] | None:
    """Drawn panel members who have not answered their invitation yet, due on their reply deadline."""
    if scope.role not in ("expert", SYSTEM):
        return None
    _P = PanelMemberRecord
    mine = _P.expert_id == scope.expert_id if scope.role == "expert" else literal(True)
    return (
        select(*_columns("invitations_to_answer", "application", _A.id, _A.proposed_name, reply_by=_P.reply_by))
        .join(_P, _P.application_id == _A.id)
        .where(_A.status.in_(("recommended", "reviewed", "under_review")), _P.status == "invited", mine)
    )


def _formal_reviews_to_do(scope: Scope) -> Select[Any] | None:
    if scope.role != "province":
        return None
    return _applications("formal_reviews_to_do", ("recommended",), _A.formal_review_outcome.is_(None))


def _applications_to_complete(scope: Scope) -> Select[Any] | None:
    if scope.role != "applicant":
        return None
    return _applications("applications_to_complete", ("incomplete",), _A.lead_org_id == scope.org_id)


def _objections_to_resolve(scope: Scope) -> Select[Any] | None:
    """Open objections (异议), named after the notice's entry they object to; the parent is the notice."""
    if scope.role != "province":
        return None
    _O, _S = PublicityObjectionRecord, PublicitySubjectRecord
    return (
        select(*_columns("objections_to_resolve", "objection", _O.id, _S.name, _O.notice_id))
        .join(_S, and_(_S.notice_id == _O.notice_id, _S.subject_id == _O.subject_id))
        .where(_O.status == "open")
    )


_R = AnnualReportRecord
_C = CenterRecord
_CR = ChangeRequestRecord


def _reports(source: str, status: str, where: ColumnElement[bool] | None) -> Select[Any]:
    name = func.concat(_C.name, literal(" "), cast(_R.period_year, String))
    query = (
        select(*_columns(source, "annual_report", _R.id, name, _R.center_id))
        .join(_C, _C.id == _R.center_id)
        .where(_R.status == status)
    )
    return query if where is None else query.where(where)


def _reports_to_endorse(scope: Scope) -> Select[Any] | None:
    where = _supervising_step(scope, _C.lead_org_id)
    return None if where is None else _reports("reports_to_endorse", "submitted", where)


def _reports_to_accept(scope: Scope) -> Select[Any] | None:
    return _reports("reports_to_accept", "endorsed", None) if scope.role == "province" else None


def _changes(source: str, status: str, where: ColumnElement[bool] | None) -> Select[Any]:
    name = func.concat(_C.name, literal(" "), _CR.kind)
    query = (
        select(*_columns(source, "change_request", _CR.id, name, _CR.center_id))
        .join(_C, _C.id == _CR.center_id)
        .where(_CR.status == status)
    )
    return query if where is None else query.where(where)


def _changes_to_endorse(scope: Scope) -> Select[Any] | None:
    where = _supervising_step(scope, _C.lead_org_id)
    return None if where is None else _changes("changes_to_endorse", "filed", where)


def _changes_to_approve(scope: Scope) -> Select[Any] | None:
    return _changes("changes_to_approve", "endorsed", None) if scope.role == "province" else None


def _centers(source: str, where: ColumnElement[bool], **facts: Col) -> Select[Any]:
    return select(*_columns(source, "center", _C.id, _C.name, **facts)).where(where)


def _province_centers(source: str, where: ColumnElement[bool]) -> Callable[[Scope], Select[Any] | None]:
    def query(scope: Scope) -> Select[Any] | None:
        return _centers(source, where) if scope.role == "province" else None

    return query


def _acceptances_to_record(scope: Scope) -> Select[Any] | None:
    pending = _C.status == "acceptance_pending"
    if scope.role == "province":
        return _centers("acceptances_to_record", and_(pending, _C.acceptance_agency_org_id.is_(None)))
    if scope.role == "third_party":
        return _centers("acceptances_to_record", and_(pending, _C.acceptance_agency_org_id == scope.org_id))
    return None


def _rectification_reviews(scope: Scope) -> Select[Any] | None:
    rectifying = and_(_C.status == "rectifying", _C.rectifying_kind == "assessment")
    if scope.role == "third_party":
        # The agency of a cycle that assessed the center (the guard's `assessment_agency_org_ids`).
        entrusted = exists().where(
            AssessmentEntryRecord.center_id == _C.id,
            AssessmentEntryRecord.cycle_id == AssessmentCycleRecord.id,
            AssessmentCycleRecord.entrusted_to_org_id == scope.org_id,
        )
        rectifying = and_(rectifying, entrusted)
    elif scope.role not in ("province", SYSTEM):
        return None
    return _centers("rectification_reviews", rectifying, rectification_due_on=_C.rectification_due_on)


def _center_deadlines(scope: Scope) -> Select[Any] | None:
    where = _lead_or_system(scope, _C.lead_org_id)
    if where is None:
        return None
    filed = (
        select(func.coalesce(func.jsonb_agg(_R.period_year), cast(literal("[]"), JSONB)))
        .where(_R.center_id == _C.id, _R.status.in_(FILED_REPORT_STATUSES))
        .scalar_subquery()
    )
    # A report written but not (or no longer) filed: the item's action is to submit it, not to write another.
    unfiled = (
        select(func.coalesce(func.jsonb_object_agg(cast(_R.period_year, String), _R.id), cast(literal("{}"), JSONB)))
        .where(_R.center_id == _C.id, _R.status.not_in(FILED_REPORT_STATUSES))
        .scalar_subquery()
    )
    return _centers(
        "center_deadlines",
        and_(where, _C.status.in_(CENTER_LIVE_STATES)),
        status=_C.status,
        approved_on=_C.approved_on,
        construction_ends_on=_C.construction_ends_on,
        recognized_on=_C.recognized_on,
        rectifying_kind=_C.rectifying_kind,
        rectification_due_on=_C.rectification_due_on,
        last_assessed_on=_C.last_assessed_on,
        submitted_report_years=filed,
        unfiled_reports=unfiled,
    )


def _extensions_expiring(scope: Scope) -> Select[Any] | None:
    where = _lead_or_system(scope, _C.lead_org_id)
    if where is None:
        return None
    extended = and_(
        where, _C.status == "under_construction", _C.extension_months.is_not(None), _C.construction_ends_on.is_not(None)
    )
    return _centers("extensions_expiring", extended, construction_ends_on=_C.construction_ends_on)


def _results_to_record(scope: Scope) -> Select[Any] | None:
    cycle = AssessmentCycleRecord
    entrusted: ColumnElement[bool]
    if scope.role == "province":
        entrusted = cycle.entrusted_to_org_id.is_(None)
    elif scope.role == "third_party":
        entrusted = cycle.entrusted_to_org_id == scope.org_id
    else:
        return None
    entry = AssessmentEntryRecord
    return (
        select(*_columns("results_to_record", "center", _C.id, _C.name, entry.cycle_id))
        .select_from(entry)
        .join(cycle, cycle.id == entry.cycle_id)
        .join(_C, _C.id == entry.center_id)
        .where(cycle.status == "open", entry.recorded_at.is_(None), entrusted)
    )


def _cycles_to_finalize(scope: Scope) -> Select[Any] | None:
    if scope.role != "province":
        return None
    cycle = AssessmentCycleRecord
    name = func.concat(literal("考核周期 "), cast(cycle.year, String))
    return select(*_columns("cycles_to_finalize", "assessment_cycle", cycle.id, name)).where(cycle.status == "open")


QUERIES: dict[str, Callable[[Scope], Select[Any] | None]] = {
    "applications_to_recommend": _applications_to_recommend,
    # Only once the formal review is complete: before, the province's step is the formal review itself.
    "applications_to_open_review": lambda scope: (
        _applications("applications_to_open_review", ("recommended",), _A.formal_review_outcome == "complete")
        if scope.role == "province"
        else None
    ),
    "applications_to_conclude_review": _province_only("applications_to_conclude_review", ("under_review",)),
    "applications_to_decide": _province_only("applications_to_decide", ("reviewed",)),
    "applications_to_submit": _applications_to_submit,
    "applications_to_revise": _applications_to_revise,
    "scores_to_give": _scores_to_give,
    "invitations_to_answer": _invitations_to_answer,
    "formal_reviews_to_do": _formal_reviews_to_do,
    "applications_to_complete": _applications_to_complete,
    "objections_to_resolve": _objections_to_resolve,
    "reports_to_endorse": _reports_to_endorse,
    "reports_to_accept": _reports_to_accept,
    "changes_to_endorse": _changes_to_endorse,
    "changes_to_approve": _changes_to_approve,
    "task_books_to_sign": _province_centers("task_books_to_sign", _C.status == "approved"),
    "extensions_to_decide": _province_centers(
        "extensions_to_decide",
        and_(_C.status == "under_construction", _C.extension_requested_on.is_not(None), _C.extension_months.is_(None)),
    ),
    "exits_to_decide": _province_centers(
        "exits_to_decide", and_(_C.status.in_(CENTER_LIVE_STATES), _C.exit_requested_on.is_not(None))
    ),
    "acceptances_to_record": _acceptances_to_record,
    "centers_to_recognize": _province_centers("centers_to_recognize", _C.status == "accepted"),
    "rectification_reviews": _rectification_reviews,
    "center_deadlines": _center_deadlines,
    "extensions_expiring": _extensions_expiring,
    "results_to_record": _results_to_record,
    "cycles_to_finalize": _cycles_to_finalize,
}


def _facts(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        key: date.fromisoformat(value) if isinstance(value, str) and key.endswith(("_on", "_by")) else value
        for key, value in raw.items()
    }


async def rows_for(session: AsyncSession, scope: Scope, sources: Sequence[str]) -> list[Row]:
    """The rows of `sources` within `scope`, in one statement (none when no source has rows for the scope)."""
    parts = []
    for name in sources:
        query = QUERIES[name](scope)
        if query is not None:
            # Each part bounded and in a stable order, so the cap always keeps the same rows.
            inner = query.order_by(query.selected_columns.subject_id).limit(ROWS_PER_SOURCE).subquery()
            parts.append(select(*inner.c))
    if not parts:
        return []
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    result = await session.execute(statement)
    return [
        Row(
            source=row.source,
            subject=Subject(type=row.subject_type, id=str(row.subject_id), name=row.name),
            parent_id=None if row.parent_id is None else str(row.parent_id),
            facts=_facts(row.facts),
        )
        for row in result
    ]
