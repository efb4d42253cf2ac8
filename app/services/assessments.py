"""Periodic assessment (考核): cycles, results, grades with their consequences and national candidates (domain.md §7).
Funding records are in `services.funding`."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AssessmentCycleRecord, AssessmentEntryRecord, CenterRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import assessments as repo
from app.db.repositories import organizations as orgs_repo
from app.domain import assessment as rules
from app.domain import assessment_cycles as cycle_rules
from app.domain.deadlines import add_months
from app.domain.documents import DEFAULT_PREFIX
from app.domain.errors import InvalidTransition
from app.domain.guards import ActionView
from app.domain.lifecycles import CENTER
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit, lifecycle
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound, ValidationFailed


def _entrusted_filter(principal: Principal) -> uuid.UUID | None:
    if principal.sees_everything_public:
        return None
    if principal.role == "third_party" and principal.org_id is not None:
        return principal.org_id
    raise NotFound("assessment cycle", "*")


async def load_cycle(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID, *, for_update: bool = False
) -> AssessmentCycleRecord:
    try:
        entrusted = _entrusted_filter(principal)
    except NotFound as exc:
        raise NotFound("assessment cycle", str(cycle_id)) from exc
    record = await repo.get_cycle(session, cycle_id, entrusted_to=entrusted, for_update=for_update)
    if record is None:
        raise NotFound("assessment cycle", str(cycle_id))
    return record


def _entry_facts(entry: AssessmentEntryRecord, center: CenterRecord) -> cycle_rules.EntryFacts:
    return cycle_rules.EntryFacts(
        center_id=center.id,
        code=center.code,
        center_status=center.status,
        has_result=entry.score is not None,
        absent=entry.absent,
    )


def _facts(
    cycle: AssessmentCycleRecord,
    pairs: Sequence[tuple[AssessmentEntryRecord, CenterRecord]],
    declared_absent: Collection[uuid.UUID] = (),
) -> cycle_rules.CycleFacts:
    return cycle_rules.cycle_facts(cycle.status, [_entry_facts(e, c) for e, c in pairs], declared_absent)


@dataclass(frozen=True)
class CycleView:
    """A cycle as one caller reads it: its centers and the actions its guard allows this caller now."""

    record: AssessmentCycleRecord
    center_ids: list[uuid.UUID]
    allowed_actions: list[str]


async def view_cycles(
    session: AsyncSession, principal: Principal, records: Sequence[AssessmentCycleRecord]
) -> list[CycleView]:
    """Cycles with their centers and `allowed_actions`, the facts of all of them gathered in one query."""
    by_cycle = await repo.entries_of(session, [r.id for r in records])
    return [
        CycleView(
            record,
            [center.id for _, center in by_cycle[record.id]],
            cycle_rules.LIFECYCLE.allowed(principal, _facts(record, by_cycle[record.id])),
        )
        for record in records
    ]


async def view_cycle(session: AsyncSession, principal: Principal, record: AssessmentCycleRecord) -> CycleView:
    return (await view_cycles(session, principal, [record]))[0]


async def cycle_actions(session: AsyncSession, principal: Principal, cycle_id: uuid.UUID) -> list[ActionView]:
    """Every action of the cycle's lifecycle: allowed for this caller now, or what blocks it — the very blockers a
    finalize without declared absences would be refused with."""
    record = await load_cycle(session, principal, cycle_id)
    return cycle_rules.LIFECYCLE.views(principal, _facts(record, await repo.entries(session, record.id)))


async def create_cycle(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any], current_rule_set: str
) -> AssessmentCycleRecord:
    """A cycle takes every center due in its period (`app.domain.assessment_cycles.due_in`): recognized at least one
    year before the period ends, or rectifying after an assessment — and not already in a cycle whose period
    overlaps this one's, nor in any open cycle."""
    values = dict(data)
    agency_id = values.get("entrusted_to_org_id")
    if agency_id is not None:
        agency = await orgs_repo.get(session, agency_id)
        if agency is None or agency.kind != "agency":
            raise InvalidReference(
                loc=("body", "entrusted_to_org_id"), msg="must name an organization of kind 'agency'"
            )
    period = cycle_rules.Period(int(values["period_start_year"]), int(values["period_end_year"]))
    candidates = await repo.candidate_centers(session)
    cycles_of = await repo.memberships(session, [c.id for c in candidates])
    due = [
        center
        for center in candidates
        if cycle_rules.due_in(
            period,
            cycle_rules.DueFacts(
                status=center.status,
                rectifying_kind=center.rectifying_kind,
                recognized_on=center.recognized_on,
                cycles=tuple(cycles_of[center.id]),
            ),
        )
    ]
    record = AssessmentCycleRecord(id=uuid.uuid4(), status="open", rule_set=current_rule_set, **values)
    await repo.add(session, record)
    await repo.add_entries(session, record.id, [c.id for c in due])
    await audit.record_event(
        session,
        principal,
        type="assessment_cycle.opened",
        subject_type="assessment_cycle",
        subject_id=record.id,
        data={"year": record.year, "centers": len(due), "period": [record.period_start_year, record.period_end_year]},
    )
    return record


async def list_cycles(
    session: AsyncSession, principal: Principal, page: PageRequest
) -> PageResult[AssessmentCycleRecord]:
    try:
        entrusted = _entrusted_filter(principal)
    except NotFound:
        return PageResult(items=[], next_key=None)
    return await repo.list_cycles(session, page, entrusted_to=entrusted)


async def cycle_results(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID, *, after_code: str | None, limit: int
) -> tuple[list[AssessmentEntryRecord], str | None]:
    """A page of the cycle's results in center code order, and the code the next page starts after (None on the
    last page)."""
    record = await load_cycle(session, principal, cycle_id)
    pairs = await repo.entries_page(session, record.id, after_code=after_code, limit=limit + 1)
    next_after = pairs[limit - 1][1].code if len(pairs) > limit else None
    return [entry for entry, _ in pairs[:limit]], next_after


async def put_result(
    session: AsyncSession,
    principal: Principal,
    cycle_id: uuid.UUID,
    center_id: uuid.UUID,
    score: Decimal,
    indicators: Mapping[str, Decimal] | None,
    rd_investment_reported: bool,
    clock: Clock,
    *,
    proposal: Mapping[str, Any] | None = None,
) -> AssessmentEntryRecord:
    """The province, or the agency the cycle is entrusted to, records a center's result while the cycle is open.
    `proposal` is what a result recorded from the scheme's proposal keeps (computed scores, adjustments, reasons);
    a result typed in by hand clears it."""
    cycle = await load_cycle(session, principal, cycle_id, for_update=True)
    if principal.role not in ("province", "third_party"):
        raise NotFound("assessment cycle", str(cycle_id))
    if cycle.status != "open":
        raise InvalidTransition(current=cycle.status, action="record_result", allowed=[])
    entry = await repo.entry(session, cycle.id, center_id, for_update=True)
    if entry is None:
        raise NotFound("center", str(center_id))
    weights = get_rule_set(cycle.rule_set).assessment_weights
    if indicators is not None:
        problems = rules.indicator_errors(indicators, weights)
        if problems:
            raise ValidationFailed([(p.loc, p.msg, p.type) for p in problems])
        expected = rules.weighted_score(indicators, weights)
        if expected != score:
            raise ValidationFailed(
                [
                    (
                        ("body", "score"),
                        f"score must equal the weighted sum of the indicators ({expected:.2f})",
                        "score_mismatch",
                    )
                ]
            )
    entry.score = score
    entry.indicators = {k: f"{Decimal(v):.2f}" for k, v in indicators.items()} if indicators is not None else None
    # Only the explicit flag means "no R&D investment" (domain.md §7): an rd_investment indicator of 0 is a score.
    entry.rd_investment_reported = rd_investment_reported
    entry.proposal = dict(proposal) if proposal is not None else None
    entry.recorded_by = principal.sub
    entry.recorded_at = clock.now()
    await session.flush()
    data: dict[str, Any] = {"cycle_id": str(cycle.id), "score": f"{score:.2f}"}
    if proposal is not None:  # which indicators the evaluator changed; the reasons stay on the result
        data |= {"scheme": proposal["scheme"], "adjusted": sorted(proposal["adjustments"])}
    await audit.record_event(
        session,
        principal,
        type="assessment.result_recorded",
        subject_type="center",
        subject_id=center_id,
        data=data,
    )
    return entry


@dataclass(frozen=True)
class FinalizedEntry:
    center_id: uuid.UUID
    code: str
    score: Decimal | None
    grade: str | None
    consequence: str
    status: str


async def finalize(
    session: AsyncSession,
    principal: Principal,
    cycle_id: uuid.UUID,
    *,
    absent_center_ids: Sequence[uuid.UUID],
    decided_on: date | None,
    clock: Clock,
    expected_version: int | None,
    document_prefix: str = DEFAULT_PREFIX,
) -> tuple[AssessmentCycleRecord, list[FinalizedEntry]]:
    """Grade every live center by the rule set, cap `excellent` if the cycle says so, and apply each consequence in
    the same transaction: unqualified → rectifying (12 months); unqualified again while rectifying → revoked
    (failed_rectification); qualified or better while rectifying → recognized; absent without cause → revoked
    (absent_from_assessment). Centers revoked or exited during the cycle are skipped (domain.md §7).

    Refused through the cycle's lifecycle (`ActionBlocked`), with the blockers `GET …/actions` lists."""
    cycle = await load_cycle(session, principal, cycle_id, for_update=True)
    # The center rows are locked too, so a center revoked or exiting concurrently is either closed here or waits.
    pairs = await repo.entries(session, cycle.id, lock_centers=True)
    by_center = {center.id: _entry_facts(entry, center) for entry, center in pairs}
    for index, center_id in enumerate(absent_center_ids):
        problem = cycle_rules.absence_error(by_center.get(center_id))
        if problem is not None:
            raise InvalidReference(loc=("body", "absent_center_ids", index), msg=problem)
    absent = set(absent_center_ids)
    cycle_rules.LIFECYCLE.check("finalize", principal, _facts(cycle, pairs, absent))
    lifecycle.check_version(expected_version, cycle.version)
    day = decided_on or clock.today()
    closed = {center.id for _, center in pairs if by_center[center.id].closed}
    graded = [(entry, center) for entry, center in pairs if center.id not in absent and center.id not in closed]
    rule_set = get_rule_set(cycle.rule_set)
    inputs = [
        rules.AssessmentInput(
            center_id=str(center.id),
            code=center.code,
            score=entry.score or Decimal(0),
            rd_investment=Decimal(entry.indicators["rd_investment"]) if entry.indicators else None,
            has_rd_investment=entry.rd_investment_reported,
        )
        for entry, center in graded
    ]
    grades = rules.assign_grades(
        inputs, bands=rule_set.grade_bands, max_excellent_ratio=cycle.max_excellent_ratio, cycle_size=len(graded)
    )
    out: list[FinalizedEntry] = []
    for entry, center in pairs:
        if center.id in closed:
            # Left the programme during the cycle: no grade, no absence, no transition.
            entry.consequence = rules.Consequence.SKIPPED_CLOSED
            out.append(FinalizedEntry(center.id, center.code, entry.score, None, entry.consequence, center.status))
            continue
        if center.id in absent:
            entry.absent, entry.consequence = True, rules.Consequence.REVOKE_ABSENT
            await _revoke(session, principal, center, "absent_from_assessment", day, cycle)
            out.append(FinalizedEntry(center.id, center.code, None, None, entry.consequence, center.status))
            continue
        grade = grades[str(center.id)]
        effect = rules.consequence(grade, center.status, center.rectifying_kind)
        entry.grade, entry.consequence = grade, effect
        center.grade, center.graded_in_cycle_id, center.last_assessed_on = grade, cycle.id, day
        center.grade_history = [
            *center.grade_history,
            {
                "cycle_id": str(cycle.id),
                "year": cycle.year,
                "grade": grade,
                "score": f"{entry.score:.2f}",
                "decided_on": day.isoformat(),
            },
        ]
        if effect == rules.Consequence.RECTIFY:
            center.rectifying_kind = "assessment"
            center.rectification_due_on = add_months(day, rules.RECTIFICATION_MONTHS_ASSESSMENT)
            await _record(session, principal, center, "rectifying", day, cycle, grade, effect, document_prefix)
        elif effect == rules.Consequence.RECOVER:
            center.rectifying_kind = center.rectification_due_on = None
            await _record(session, principal, center, "recognized", day, cycle, grade, effect)
        elif effect == rules.Consequence.REVOKE_FAILED_RECTIFICATION:
            await _revoke(session, principal, center, "failed_rectification", day, cycle, grade=grade)
        else:
            await session.flush()
            await audit.record_event(
                session,
                principal,
                type="center.graded",
                subject_type="center",
                subject_id=center.id,
                effective_on=day,
                data={"cycle_id": str(cycle.id), "grade": grade, "consequence": effect},
            )
        out.append(FinalizedEntry(center.id, center.code, entry.score, grade, effect, center.status))
    cycle.status, cycle.decided_on, cycle.finalized_at = "finalized", day, clock.now()
    await session.flush()
    await audit.record_event(
        session,
        principal,
        type="assessment_cycle.finalized",
        subject_type="assessment_cycle",
        subject_id=cycle.id,
        effective_on=day,
        data={"graded": len(graded), "absent": len(absent), "skipped_closed": len(closed)},
    )
    return cycle, out


async def _record(
    session: AsyncSession,
    principal: Principal,
    center: CenterRecord,
    target: str,
    day: date,
    cycle: AssessmentCycleRecord,
    grade: str,
    effect: str,
    document_prefix: str = DEFAULT_PREFIX,
) -> None:
    """Move a graded center through the table's `record_assessment` row to `target`, with history and an event."""
    to_status = CENTER.decide(center.status, "record_assessment", principal.role, target)
    await lifecycle.apply(
        session,
        principal,
        center,
        subject_type="center",
        action="record_assessment",
        to_status=to_status,
        decision_date=day,
        data={"cycle_id": str(cycle.id), "grade": grade, "consequence": effect},
        document_prefix=document_prefix,
    )


async def _revoke(
    session: AsyncSession,
    principal: Principal,
    center: CenterRecord,
    reason_code: str,
    day: date,
    cycle: AssessmentCycleRecord,
    grade: str | None = None,
) -> None:
    to_status = CENTER.decide(center.status, "record_assessment", principal.role, "revoked")
    center.revoked_on, center.revocation_reason_code = day, reason_code
    center.rectifying_kind = center.rectification_due_on = None
    await lifecycle.apply(
        session,
        principal,
        center,
        subject_type="center",
        action="record_assessment",
        to_status=to_status,
        decision_date=day,
        data={"cycle_id": str(cycle.id), "grade": grade, "reason_code": reason_code},
    )


async def national_candidates(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID, *, after_rank: int = 0, limit: int
) -> tuple[list[tuple[int, AssessmentEntryRecord, CenterRecord]], int | None]:
    """Excellent centers of a finalized cycle, ranked by score, then R&D investment, then code: (rank, entry,
    center) after rank `after_rank`, at most `limit`, and the rank the next page starts after (None on the last)."""
    ranked = await _ranked_candidates(session, principal, cycle_id)
    chosen = [(rank, entry, center) for rank, (entry, center) in enumerate(ranked, start=1) if rank > after_rank]
    return chosen[:limit], chosen[limit - 1][0] if len(chosen) > limit else None


async def _ranked_candidates(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID
) -> list[tuple[AssessmentEntryRecord, CenterRecord]]:
    # The ranking needs the whole set: the excellent centers of one cycle, at most the cycle's own size.
    cycle = await load_cycle(session, principal, cycle_id)
    if cycle.status != "finalized":
        return []
    excellent = [(e, c) for e, c in await repo.entries(session, cycle.id) if e.grade == rules.EXCELLENT]

    def rank(pair: tuple[AssessmentEntryRecord, CenterRecord]) -> tuple[Decimal, Decimal, str]:
        entry, center = pair
        rd = Decimal(entry.indicators["rd_investment"]) if entry.indicators else Decimal(-1)
        return (-(entry.score or Decimal(0)), -rd, center.code)

    return sorted(excellent, key=rank)
