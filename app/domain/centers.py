"""Rules of a center's life after approval (domain.md §6): task book, extension, acceptance, legal entity, changes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.deadlines import acceptance_window, add_months, annual_report_due_on, first_report_year
from app.domain.guards import Blocker

MAX_EXTENSION_MONTHS = 12  # [practice] once, by up to 12 months
ACCEPTANCE_RECTIFICATION_MONTHS = 3  # [practice] one more acceptance within 3 months after a failure
LEGAL_ENTITY_STATUSES = ("none", "relatively_independent", "independent")
LEGAL_ENTITY_KINDS = ("enterprise", "public_institution")
CHANGE_KINDS = ("name", "lead_org", "research_direction", "director", "participants")
# Name, lead and research direction need the province's approval (批复); director and participants are filings (备案).
APPROVAL_CHANGE_KINDS = frozenset({"name", "lead_org", "research_direction"})


def due_report_years(approved_on: date, today: date) -> list[int]:
    """Years whose annual report is already due on `today`: from the approval year on, due 31 January after. [seed]"""
    years = []
    year = first_report_year(approved_on)
    while annual_report_due_on(year) <= today:
        years.append(year)
        year += 1
    return years


def acceptance_blockers(
    *,
    today: date,
    construction_ends_on: date,
    approved_on: date,
    accepted_report_years: Collection[int],
    legal_entity: Mapping[str, Any],
    after_failed_acceptance: bool = False,
) -> list[Blocker]:
    """Why acceptance may not be requested yet; empty when it may. [seed] 五（四）; window [practice].

    After a failed acceptance the window is the rectification period, so "too early" no longer applies."""
    blockers: list[Blocker] = []
    opens_on, _ = acceptance_window(construction_ends_on)
    if today < opens_on and not after_failed_acceptance:
        blockers.append(
            Blocker(
                "acceptance-too-early",
                f"验收申请须在 {opens_on.isoformat()} 之后提出",
                f"Acceptance may be requested from {opens_on.isoformat()} (3 months before construction ends).",
                {"opens_on": opens_on.isoformat()},
            )
        )
    missing = [y for y in due_report_years(approved_on, today) if y not in accepted_report_years]
    if missing:
        years = ", ".join(str(y) for y in missing)
        blockers.append(
            Blocker(
                "annual-reports-missing",
                f"{years} 年度工作总结尚未通过省科技厅审核",
                f"Annual reports not yet accepted: {years}.",
                {"missing_years": missing},
            )
        )
    if legal_entity.get("status") != "independent" or not legal_entity.get("credit_code"):
        blockers.append(
            Blocker(
                "legal-entity-not-independent",
                "验收须已建成独立法人实体",
                "Acceptance requires an independent legal entity with its own credit code.",
                {"legal_entity_status": legal_entity.get("status")},
            )
        )
    return blockers


def extension_blockers(
    *, today: date, construction_ends_on: date | None, already_extended: bool, months: int
) -> list[Blocker]:
    """Extension (延期) [practice]: before construction ends, once, by 1 to 12 months."""
    blockers: list[Blocker] = []
    if already_extended:
        blockers.append(Blocker("already-extended", "建设期只能延期一次", "Construction may be extended only once."))
    if construction_ends_on is None or today > construction_ends_on:
        blockers.append(
            Blocker(
                "construction-ended", "建设期已结束，不能延期", "Construction has ended; it can no longer be extended."
            )
        )
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        blockers.append(
            Blocker(
                "extension-too-long", "延期须为 1 至 12 个月", "An extension is 1 to 12 months.", {"months": months}
            )
        )
    return blockers


@dataclass(frozen=True, slots=True)
class AcceptanceOutcome:
    status: str
    rectifying_kind: str | None = None
    rectification_due_on: date | None = None
    revocation_reason: str | None = None


def acceptance_outcome(*, passed: bool, failures_before: int, decided_on: date) -> AcceptanceOutcome:
    """Passed → recognized; a first failure → rectifying for 3 months; a second failure → revoked. [practice]"""
    if passed:
        return AcceptanceOutcome("recognized")
    if failures_before == 0:
        return AcceptanceOutcome("rectifying", "acceptance", add_months(decided_on, ACCEPTANCE_RECTIFICATION_MONTHS))
    return AcceptanceOutcome("revoked", revocation_reason="failed_acceptance")


def legal_entity_problems(legal_entity: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each problem: an independent entity needs a kind and its own credit code."""
    problems: list[tuple[str, str]] = []
    status = legal_entity.get("status")
    if status == "independent":
        if legal_entity.get("kind") not in LEGAL_ENTITY_KINDS:
            problems.append(("kind", "an independent legal entity is an enterprise or a public_institution"))
        if not legal_entity.get("credit_code"):
            problems.append(("credit_code", "an independent legal entity has its own credit code"))
    return problems


TASK_BOOK_MISSING = Blocker("task-book-missing", "尚未填写建设目标任务书", "No task book has been drafted.")


def exit_blockers(action: str, *, exit_requested: bool) -> list[Blocker]:
    """Exit is two steps [practice]: the lead asks once (request_exit), then the province approves (exit)."""
    if action == "request_exit" and exit_requested:
        return [Blocker("exit-already-requested", "已提出退出申请", "An exit has already been requested.")]
    if action == "exit" and not exit_requested:
        return [Blocker("exit-not-requested", "牵头单位尚未提出退出申请", "The lead has not asked to exit.")]
    return []
