"""Assessment proposals (issue 17 §2): a cycle's three accepted annual reports, scored by the cycle's assessment
scheme, with the figures behind every indicator; and a result recorded from the proposal, adjustments kept."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AnnualReportRecord, AssessmentCycleRecord, AssessmentEntryRecord, CenterRecord
from app.db.repositories import figures as repo
from app.domain import assessment_scheme as schemes
from app.domain.errors import InvalidTransition, RuleViolation
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import assessments
from app.services.clock import Clock
from app.services.errors import NotFound, ValidationFailed

EVALUATORS = ("province", "third_party")


@dataclass(frozen=True)
class Missing:
    """Why the proposal cannot be computed: a year without an accepted report with figures, or no task-book
    targets. `reason` is `no-report`, `not-accepted`, `no-figures` or `no-task-book-targets`."""

    reason: str
    period_year: int | None = None
    report_id: uuid.UUID | None = None
    status: str | None = None


@dataclass(frozen=True)
class ProposalView:
    cycle: AssessmentCycleRecord
    center_id: uuid.UUID
    scheme: schemes.Scheme
    missing: list[Missing]
    proposal: schemes.Proposal | None

    @property
    def complete(self) -> bool:
        return self.proposal is not None


def _targets(center: CenterRecord) -> dict[str, Decimal]:
    return {t["code"]: Decimal(str(t["target_value"])) for t in (center.task_book or {}).get("targets", [])}


def _gather(
    cycle: AssessmentCycleRecord, center: CenterRecord, records: Sequence[AnnualReportRecord]
) -> tuple[list[schemes.ReportFigures], list[Missing]]:
    by_year = {r.period_year: r for r in records}
    found: list[schemes.ReportFigures] = []
    missing: list[Missing] = []
    for year in range(cycle.period_start_year, cycle.period_end_year + 1):
        record = by_year.get(year)
        if record is None:
            missing.append(Missing("no-report", year))
        elif record.status != "accepted":
            missing.append(Missing("not-accepted", year, record.id, record.status))
        elif record.figures is None:
            missing.append(Missing("no-figures", year, record.id, record.status))
        else:
            actuals = {code: Decimal(str(value)) for code, value in (record.kpi_actuals or {}).items()}
            found.append(schemes.ReportFigures(str(record.id), year, record.figures, actuals))
    if not _targets(center):
        missing.append(Missing("no-task-book-targets"))
    return found, missing


async def _load(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID, center_id: uuid.UUID
) -> tuple[AssessmentCycleRecord, AssessmentEntryRecord, CenterRecord]:
    cycle = await assessments.load_cycle(session, principal, cycle_id)
    if principal.role not in EVALUATORS:
        raise NotFound("assessment cycle", str(cycle_id))
    pair = await repo.entry_with_center(session, cycle.id, center_id)
    if pair is None:
        raise NotFound("center", str(center_id))
    return cycle, pair[0], pair[1]


async def propose(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID, center_id: uuid.UUID
) -> ProposalView:
    """The proposal for one center of the cycle (the province, or the agency the cycle is entrusted to). Incomplete
    (no scores, `missing` says why) unless each of the period's three years has an accepted report with figures and
    the task book has targets."""
    cycle, _, center = await _load(session, principal, cycle_id, center_id)
    scheme = schemes.scheme_for(cycle.rule_set)
    records = await repo.reports_between(session, center.id, cycle.period_start_year, cycle.period_end_year)
    found, missing = _gather(cycle, center, records)
    if missing:
        return ProposalView(cycle, center.id, scheme, missing, None)
    bands = get_rule_set(cycle.rule_set).grade_bands
    return ProposalView(cycle, center.id, scheme, [], schemes.propose(scheme, found, _targets(center), bands))


def missing_data(missing: Sequence[Missing]) -> list[dict[str, Any]]:
    return [
        {
            "reason": m.reason,
            "period_year": m.period_year,
            "report_id": None if m.report_id is None else str(m.report_id),
            "status": m.status,
        }
        for m in missing
    ]


async def put_from_proposal(
    session: AsyncSession,
    principal: Principal,
    cycle_id: uuid.UUID,
    center_id: uuid.UUID,
    score: Decimal,
    adjustments: Mapping[str, tuple[Decimal, str]],
    rd_investment_reported: bool,
    clock: Clock,
) -> AssessmentEntryRecord:
    """Record the result from the proposal: each indicator is the computed score unless adjusted (with a reason);
    the entry keeps the computed scores, the adjusted ones and the reasons. `score` must equal the weighted sum of
    the indicators so recorded, as for a result typed in. Refused with `proposal-incomplete` (409) while the
    proposal cannot be computed."""
    view = await propose(session, principal, cycle_id, center_id)
    if view.cycle.status != "open":
        raise InvalidTransition(current=view.cycle.status, action="record_result", allowed=[])
    if view.proposal is None:
        raise RuleViolation(
            "proposal-incomplete",
            "考核建议分无法计算：缺少已受理且填报数据的年度报告或任务书目标",
            "The proposal cannot be computed: an accepted annual report with figures, or the task book's targets, "
            "is missing.",
            {"missing": missing_data(view.missing)},
        )
    if problems := schemes.adjustment_errors(adjustments, view.scheme.weights):
        raise ValidationFailed(problems)
    computed = view.proposal.indicator_values
    indicators = {code: adjustments[code][0] if code in adjustments else value for code, value in computed.items()}
    recorded = {
        "scheme": view.scheme.name,
        "computed": {code: f"{value:.2f}" for code, value in computed.items()},
        "computed_score": f"{view.proposal.score:.2f}",
        "adjustments": {
            code: {"computed": f"{computed[code]:.2f}", "adjusted": f"{value:.2f}", "reason": reason}
            for code, (value, reason) in sorted(adjustments.items())
        },
    }
    return await assessments.put_result(
        session, principal, cycle_id, center_id, score, indicators, rd_investment_reported, clock, proposal=recorded
    )
