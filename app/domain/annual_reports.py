"""Annual reports (年度工作总结和计划, domain.md §6 [seed]): written by the lead, endorsed by the supervising
department (审核) — by the province for a lead without one — and accepted by the province."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.change_requests import supervisor_decides
from app.domain.deadlines import first_report_year
from app.domain.guards import Blocker, Lifecycle, blocker
from app.domain.lifecycles import ANNUAL_REPORT
from app.domain.principal import Principal

EDITABLE_STATUSES = frozenset({"draft", "returned"})


@dataclass(frozen=True, slots=True)
class ReportFacts:
    status: str
    lead_has_supervisor: bool


def _supervisor_step(actor: Principal, f: ReportFacts) -> list[Blocker]:
    return supervisor_decides(actor, f.lead_has_supervisor) if f.status == "submitted" else []


LIFECYCLE: Lifecycle[ReportFacts] = Lifecycle(
    name="annual_report",
    machine_of=lambda facts: ANNUAL_REPORT,
    guards={"endorse": _supervisor_step, "return": _supervisor_step},
)


def update_blockers(actor: Principal, status: str) -> list[Blocker]:
    """Only the lead edits its report, and only while it is a draft or returned to it."""
    out: list[Blocker] = []
    if actor.role != "applicant":
        out.append(blocker("wrong-role", "只有牵头单位可以修改年度总结", "Only the lead edits its report."))
    if status not in EDITABLE_STATUSES:
        zh, en = f"当前状态（{status}）不能修改", f"A report is not edited in state '{status}'."
        out.append(blocker("wrong-state", zh, en, status=status))
    return out


def period_year_problem(period_year: int, *, approved_on: date, today: date) -> str | None:
    """A report covers a finished year (≤ this year − 1) from the approval year on [seed]; None when it may."""
    first = first_report_year(approved_on)
    last = today.year - 1
    if not first <= period_year <= last:
        if last < first:
            return f"no year can be reported yet: the first report covers {first} and is written after it ends"
        return f"period_year must be a finished year between {first} (the approval year) and {last}"
    return None
