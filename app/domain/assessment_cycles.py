"""The assessment cycle (考核周期) as a lifecycle: which centers a cycle takes, and when it may be finalized
(domain.md §7).

A cycle is `open` while results are recorded and `finalized` once the province has graded it (`ASSESSMENT_CYCLE`).
Its one guard looks past the state: every live center needs a result or a declared absence. Centers that were revoked
or exited during the cycle need neither — finalizing skips them.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass
from datetime import date

from app.domain.guards import Blocker, Lifecycle
from app.domain.lifecycles import ASSESSMENT_CYCLE, CENTER
from app.domain.principal import Principal

# A center in one of these states has left the programme; a cycle neither grades it nor counts it as absent.
CLOSED_CENTER_STATES = CENTER.terminal


@dataclass(frozen=True, slots=True)
class Period:
    """The calendar years a cycle assesses, both ends included (period_start_year..period_end_year)."""

    start_year: int
    end_year: int

    def overlaps(self, other: Period) -> bool:
        return self.start_year <= other.end_year and other.start_year <= self.end_year


@dataclass(frozen=True, slots=True)
class Membership:
    """A cycle a center already belongs to: its period, and whether it is still open."""

    period: Period
    open: bool


@dataclass(frozen=True, slots=True)
class DueFacts:
    """What decides whether a center is due in a new cycle, gathered for all candidates at once."""

    status: str
    rectifying_kind: str | None
    recognized_on: date | None
    cycles: tuple[Membership, ...] = ()


def due_in(period: Period, center: DueFacts) -> bool:
    """Is the center due in a new cycle assessing `period`? (domain.md §7)

    - Assessed once per 3-year cycle [seed]: not when any cycle it belongs to, open or finalized, assesses a year of
      `period` (an assessment of 2024–2026 rules out 2025–2027, not 2027–2029); and never in two open cycles at once,
      so one cycle's consequences are applied before the next cycle grades the center.
    - A recognized center, from the first cycle after it has run at least one year since recognition [practice]:
      recognized on or before 31 December of the year before the period ends.
    - A center rectifying after an assessment, to be graded again (domain.md §6: recovery or revocation).
    """
    if any(cycle.open or cycle.period.overlaps(period) for cycle in center.cycles):
        return False
    if center.status == "rectifying":
        return center.rectifying_kind == "assessment"
    if center.status == "recognized":
        return center.recognized_on is not None and center.recognized_on <= date(period.end_year - 1, 12, 31)
    return False


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """One center of a cycle as far as finalizing cares."""

    center_id: Hashable
    code: str
    center_status: str
    has_result: bool
    absent: bool = False

    @property
    def closed(self) -> bool:
        return self.center_status in CLOSED_CENTER_STATES


@dataclass(frozen=True, slots=True)
class CycleFacts:
    """Everything the cycle's guard looks at, gathered by the service.

    `declared_absent` are the centers the finalizing request itself declares absent: a finalize without any is what
    `GET …/actions` explains, and a refusal always lists the blockers of exactly the facts it was judged on.
    """

    status: str
    entries: tuple[EntryFacts, ...] = ()
    declared_absent: frozenset[Hashable] = frozenset()

    @property
    def missing_result_codes(self) -> tuple[str, ...]:
        """Codes of the live centers with neither a result nor an absence, in entry order."""
        return tuple(
            entry.code
            for entry in self.entries
            if not entry.closed
            and not entry.has_result
            and not entry.absent
            and entry.center_id not in self.declared_absent
        )


def cycle_facts(status: str, entries: Collection[EntryFacts], declared_absent: Collection[Hashable] = ()) -> CycleFacts:
    return CycleFacts(status=status, entries=tuple(entries), declared_absent=frozenset(declared_absent))


def results_missing(codes: tuple[str, ...]) -> Blocker:
    return Blocker(
        "results-missing",
        f"尚有 {len(codes)} 个中心没有考核结果，须录入结果或列为无故缺席（absent_center_ids）",
        f"{len(codes)} center(s) have no result yet: record their results or list them in absent_center_ids.",
        {"missing_count": len(codes), "missing_codes": list(codes)},
    )


def _finalize(actor: Principal, facts: CycleFacts) -> list[Blocker]:
    """Finalize only when every live center has a result or is declared absent (domain.md §7)."""
    missing = facts.missing_result_codes
    return [results_missing(missing)] if missing else []


LIFECYCLE: Lifecycle[CycleFacts] = Lifecycle(
    name="assessment_cycle",
    machine_of=lambda facts: ASSESSMENT_CYCLE,
    guards={"finalize": _finalize},
)


def absence_error(entry: EntryFacts | None) -> str | None:
    """Why a center may not be declared absent from a cycle, or None when it may: it must be one of the cycle's
    centers, and live — "absent" applies only to a center still in the programme (domain.md §7)."""
    if entry is None:
        return "not a center of this cycle"
    if entry.closed:
        return f"the center has left the programme ({entry.center_status}); it is skipped, not absent"
    return None
