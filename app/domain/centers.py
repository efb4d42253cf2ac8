"""Rules of a center's life after approval (domain.md §6; 豫科〔2021〕116号 五(二)–(四)): task book, extension,
acceptance, recognition, legal entity, exit and changes — every guard written once, over `CenterFacts`.

`LIFECYCLE.check` refuses, `LIFECYCLE.views` explains and `LIFECYCLE.allowed` lists, all through `LIFECYCLE.blockers`.
Conditions on what a request carries (a date, a number of months) are `argument_problems`: 422 with the field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.domain import dates
from app.domain.deadlines import ACCEPTANCE, acceptance_window, annual_report_due_on, rectification_due_on, report_years
from app.domain.guards import Blocker, Lifecycle, blocker
from app.domain.lifecycles import CENTER
from app.domain.principal import Principal
from app.domain.publicity import NoticeFact, decision_date_problem, publicity_blockers

MAX_EXTENSION_MONTHS = 12  # [practice] once, by up to 12 months
LEGAL_ENTITY_STATUSES = ("none", "relatively_independent", "independent")
LEGAL_ENTITY_KINDS = ("enterprise", "public_institution")
CHANGE_KINDS = ("name", "lead_org", "research_direction", "director", "participants", "task_book")
# Name, lead, research direction and the task book need the province's approval (批复); director and participants
# are filings (备案).
APPROVAL_CHANGE_KINDS = frozenset({"name", "lead_org", "research_direction", "task_book"})
# From the acceptance request until a verdict sends the center back to rectify, its legal entity is what acceptance
# judges (domain.md §6 "frozen from the request on"); it changes again only while rectifying.
LEGAL_ENTITY_FROZEN_STATES = frozenset({"acceptance_pending", "accepted", "recognized"})
# Who may edit a center's own fields (PATCH), and while it is live.
EDITOR_ROLES = frozenset({"province", "applicant"})


@dataclass(frozen=True, slots=True)
class CenterFacts:
    """Everything a center guard may look at, gathered once by the service (for one center or a page)."""

    status: str
    today: date
    approved_on: date
    has_task_book: bool = False
    construction_ends_on: date | None = None
    extension_months: int | None = None
    extension_requested_on: date | None = None
    acceptance_requested_on: date | None = None
    accepted_report_years: frozenset[int] = frozenset()
    legal_entity: Mapping[str, Any] = field(default_factory=dict)
    rectifying_kind: str | None = None
    exit_requested_on: date | None = None
    # A third party acts only where entrusted: the acceptance agency, or the agency of a cycle that assessed it.
    acceptance_agency_org_id: str | None = None
    assessment_agency_org_ids: frozenset[str] = frozenset()
    # The recognition notices (公示) listing the center, with its objections (issue 16 §3).
    publicity: tuple[NoticeFact, ...] = ()


def due_report_years(approved_on: date, today: date) -> list[int]:
    """Years whose annual report is already due on `today`: from the approval year on, due 31 January after. [seed]"""
    return [year for year in report_years(approved_on, today.year) if annual_report_due_on(year) <= today]


def legal_entity_blockers(legal_entity: Mapping[str, Any]) -> list[Blocker]:
    """Acceptance requires an independent legal entity with its own credit code [seed] 五（四）."""
    if legal_entity.get("status") == "independent" and legal_entity.get("credit_code"):
        return []
    return [
        blocker(
            "legal-entity-not-independent",
            "验收须已建成独立法人实体",
            "Acceptance requires an independent legal entity with its own credit code.",
            legal_entity_status=legal_entity.get("status"),
        )
    ]


def acceptance_blockers(
    *,
    today: date,
    construction_ends_on: date,
    approved_on: date,
    accepted_report_years: Collection[int],
    legal_entity: Mapping[str, Any],
    after_failed_acceptance: bool,
) -> list[Blocker]:
    """Why acceptance may not be requested yet; empty when it may. [seed] 五（四）; window [practice].

    The lead may ask from 3 months before construction ends (to prepare); after a failed acceptance the window is the
    rectification period, so "too early" no longer applies."""
    blockers: list[Blocker] = []
    opens_on, _ = acceptance_window(construction_ends_on)
    if today < opens_on and not after_failed_acceptance:
        blockers.append(
            blocker(
                "acceptance-too-early",
                f"验收申请须在 {opens_on.isoformat()} 之后提出",
                f"Acceptance may be requested from {opens_on.isoformat()} (3 months before construction ends).",
                opens_on=opens_on.isoformat(),
            )
        )
    missing = [y for y in due_report_years(approved_on, today) if y not in accepted_report_years]
    if missing:
        years = ", ".join(str(y) for y in missing)
        blockers.append(
            blocker(
                "annual-reports-missing",
                f"{years} 年度工作总结尚未通过省科技厅审核",
                f"Annual reports not yet accepted: {years}.",
                missing_years=missing,
            )
        )
    blockers.extend(legal_entity_blockers(legal_entity))
    return blockers


# --- guards, one per action -----------------------------------------------------------------------------------------

TASK_BOOK_MISSING = blocker("task-book-missing", "尚未填写建设目标任务书", "No task book has been drafted.")
ALREADY_EXTENDED = blocker("already-extended", "建设期只能延期一次", "Construction may be extended only once.")
EXTENSION_NOT_REQUESTED = blocker(
    "extension-not-requested", "牵头单位尚未提出延期申请", "The lead has not asked for an extension."
)


def _sign_task_book(actor: Principal, f: CenterFacts) -> list[Blocker]:
    return [] if f.has_task_book else [TASK_BOOK_MISSING]


def _request_extension(actor: Principal, f: CenterFacts) -> list[Blocker]:
    """The lead asks before construction ends, once [practice]."""
    out: list[Blocker] = []
    if f.extension_months is not None:
        out.append(ALREADY_EXTENDED)
    if f.extension_requested_on is not None:
        out.append(blocker("extension-already-requested", "已提出延期申请，待省科技厅决定", "An extension is pending."))
    if f.construction_ends_on is None or f.today > f.construction_ends_on:
        out.append(
            blocker(
                "construction-ended",
                "建设期已结束，不能申请延期",
                "Construction has ended; an extension can no longer be requested.",
            )
        )
    return out


def _decide_extension(actor: Principal, f: CenterFacts) -> list[Blocker]:
    """The province decides a pending request on any later date, even after the original end [practice]."""
    out: list[Blocker] = []
    if f.extension_months is not None:
        out.append(ALREADY_EXTENDED)
    if f.extension_requested_on is None:
        out.append(EXTENSION_NOT_REQUESTED)
    return out


def _not_entrusted(actor: Principal, entrusted: Collection[str | None]) -> list[Blocker]:
    """A third party acts only for what is entrusted to it (domain.md §6-7)."""
    if actor.role == "third_party" and str(actor.org_id) not in entrusted:
        return [blocker("not-entrusted", "本机构未受委托", "This agency has not been entrusted with this center.")]
    return []


def _request_acceptance(actor: Principal, f: CenterFacts) -> list[Blocker]:
    if f.status == "rectifying" and f.rectifying_kind != "acceptance":
        return [
            blocker(
                "rectifying-after-assessment",
                "考核整改期间不能申请验收",
                "A center rectifying after an assessment does not request acceptance.",
            )
        ]
    if f.construction_ends_on is None:
        return [blocker("construction-not-started", "尚未开始建设", "Construction has not started.")]
    out: list[Blocker] = []
    if f.extension_requested_on is not None and f.extension_months is None:
        out.append(
            blocker(
                "extension-pending",
                "延期申请尚未决定",
                "An extension request is pending; the province decides it first.",
            )
        )
    out.extend(
        acceptance_blockers(
            today=f.today,
            construction_ends_on=f.construction_ends_on,
            approved_on=f.approved_on,
            accepted_report_years=f.accepted_report_years,
            legal_entity=f.legal_entity,
            after_failed_acceptance=f.status == "rectifying",
        )
    )
    return out


def _record_acceptance(actor: Principal, f: CenterFacts) -> list[Blocker]:
    out = _not_entrusted(actor, {f.acceptance_agency_org_id})
    if f.construction_ends_on is not None and f.today < f.construction_ends_on:
        # 五（四）"建设期满后…验收": a verdict can only be dated on or after the end, and not in the future.
        out.append(
            blocker(
                "construction-not-ended",
                f"建设期至 {f.construction_ends_on.isoformat()} 结束，期满后方可验收",
                f"Acceptance follows the construction period, which ends on {f.construction_ends_on.isoformat()}.",
                construction_ends_on=f.construction_ends_on.isoformat(),
            )
        )
    return out


def _record_rectification_review(actor: Principal, f: CenterFacts) -> list[Blocker]:
    out = _not_entrusted(actor, f.assessment_agency_org_ids)
    if f.rectifying_kind != "assessment":
        out.append(
            blocker(
                "not-rectifying-after-assessment",
                "仅适用于考核整改",
                "Only a center rectifying after an assessment has a rectification review; after a failed "
                "acceptance it requests acceptance again.",
            )
        )
    return out


def _recognize(actor: Principal, f: CenterFacts) -> list[Blocker]:
    """正式认定 follows the 公示 of the 拟认定名单: ended, every objection resolved, none upheld (issue 16 §3)."""
    return publicity_blockers("recognition", f.publicity, f.today)


def _request_exit(actor: Principal, f: CenterFacts) -> list[Blocker]:
    if f.exit_requested_on is not None:
        return [blocker("exit-already-requested", "已提出退出申请", "An exit has already been requested.")]
    return []


def _exit_pending(actor: Principal, f: CenterFacts) -> list[Blocker]:
    """Exit is two steps [practice]: the lead asks, then the province approves or declines, or the lead withdraws."""
    if f.exit_requested_on is None:
        return [blocker("exit-not-requested", "牵头单位尚未提出退出申请", "The lead has not asked to exit.")]
    return []


LIFECYCLE: Lifecycle[CenterFacts] = Lifecycle(
    name="center",
    machine_of=lambda facts: CENTER,
    guards={
        "sign_task_book": _sign_task_book,
        "request_extension": _request_extension,
        "extend": _decide_extension,
        "decline_extension": _decide_extension,
        "request_acceptance": _request_acceptance,
        "record_acceptance": _record_acceptance,
        "recognize": _recognize,
        "record_rectification_review": _record_rectification_review,
        "request_exit": _request_exit,
        "exit": _exit_pending,
        "decline_exit": _exit_pending,
        "withdraw_exit": _exit_pending,
    },
    # Applied by finalizing an assessment cycle, not through a route of its own.
    internal=frozenset({"record_assessment"}),
)


# --- what a request carries ----------------------------------------------------------------------------------------

Problem = tuple[str, str]  # (body field, message)


def argument_problems(action: str, f: CenterFacts, body: Mapping[str, Any]) -> list[Problem]:
    """Field problems of an action's body judged against the facts (422): required fields and dates that make sense.

    Called only once the action's blockers are clear, so it may assume the guards' facts (a pending request, a
    construction end)."""
    out: list[Problem] = []

    def need(name: str, msg: str) -> bool:
        value = body.get(name)
        if value is None or value == "":
            out.append((name, msg))
            return False
        return True

    decided_on = body.get("decided_on")
    if action in ("request_extension", "extend"):
        if need("months", "months (1–12) is required"):
            months = int(body["months"])
            if not 1 <= months <= MAX_EXTENSION_MONTHS:
                out.append(("months", f"an extension is 1 to {MAX_EXTENSION_MONTHS} months"))
        need("reason", "a reason is required")
    if action in ("decline_extension", "request_exit", "decline_exit", "revoke"):
        need("reason", "a reason is required")
    if action in ("extend", "record_acceptance", "recognize", "record_rectification_review", "revoke", "exit"):
        need("decided_on", "the decision date is required")
    if action in ("record_acceptance", "record_rectification_review"):
        need("result", "result is passed or failed")
    if action == "revoke":
        need("reason_code", "a revocation reason code is required")
        if body.get("recover_funds") and body.get("reason_code") != "fraud":
            out.append(("recover_funds", "recovery of funds is ordered only for fraud"))
    if isinstance(decided_on, date):
        out.extend(_decision_date_problems(action, f, decided_on))
    return out


def _decision_date_problems(action: str, f: CenterFacts, decided_on: date) -> list[Problem]:
    """A decision is dated in the range of every decision (`dates.DECISION`: not before the notice, not in the
    future on the Asia/Shanghai calendar), and not before what it decides."""
    if (problem := dates.DECISION.problem(decided_on, f.today)) is not None:
        return [("decided_on", problem)]
    if decided_on < f.approved_on:
        return [("decided_on", "a decision cannot be dated before the center's approval")]
    if action == "extend" and f.extension_requested_on is not None and decided_on < f.extension_requested_on:
        return [("decided_on", "the extension is decided on or after the day it was requested")]
    if action == "recognize" and (problem := decision_date_problem(f.publicity, decided_on)) is not None:
        return [("decided_on", problem)]
    if action == "record_acceptance":
        if f.construction_ends_on is not None and decided_on < f.construction_ends_on:
            return [("decided_on", "the acceptance verdict is dated on or after the end of construction")]
        if f.acceptance_requested_on is not None and decided_on < f.acceptance_requested_on:
            return [("decided_on", "the acceptance verdict is dated on or after the request")]
    return []


# --- outcomes -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcceptanceOutcome:
    status: str
    rectifying_kind: str | None = None
    rectification_due_on: date | None = None
    revocation_reason: str | None = None


def acceptance_outcome(*, passed: bool, failures_before: int, decided_on: date) -> AcceptanceOutcome:
    """Passed → accepted (the province then recognizes it); a first failure → rectifying for 3 months; a second
    failure → revoked. [seed] 五（四）, [practice] national major-project rules."""
    if passed:
        return AcceptanceOutcome("accepted")
    if failures_before == 0:
        return AcceptanceOutcome("rectifying", ACCEPTANCE, rectification_due_on(ACCEPTANCE, decided_on))
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


# --- editing the center itself (PATCH) ----------------------------------------------------------------------------


def update_blockers(actor: Principal, f: CenterFacts, fields: Collection[str]) -> list[Blocker]:
    """Who may edit which of a center's own fields now: the province and the lead, while the center is live; the
    legal entity is frozen from the acceptance request on; only the province entrusts the acceptance agency."""
    if actor.role not in EDITOR_ROLES:
        return [
            blocker(
                "wrong-role", "只有省科技厅和牵头单位可以修改中心信息", "Only the province and the lead edit a center."
            )
        ]
    if f.status in CENTER.terminal:
        return [
            blocker("wrong-state", "中心已撤销或退出", "The center has been revoked or has exited.", status=f.status)
        ]
    out: list[Blocker] = []
    if "legal_entity" in fields and f.status in LEGAL_ENTITY_FROZEN_STATES:
        out.append(
            blocker(
                "legal-entity-frozen",
                "已申请验收，法人实体信息不能修改",
                "The legal entity is frozen from the acceptance request on.",
                status=f.status,
            )
        )
    if "acceptance_agency_org_id" in fields and actor.role != "province":
        out.append(blocker("wrong-role", "只有省科技厅可以委托验收机构", "Only the province entrusts the acceptance."))
    return out


def director_change_blockers(current: Mapping[str, Any], new: Mapping[str, Any]) -> list[Blocker]:
    """The director (中心主任) changes only through a `director` change request (备案), never by editing."""
    if "director" in new and new.get("director") != current.get("director"):
        return [
            blocker(
                "director-by-change-request",
                "中心主任变更须提交变更备案",
                "The director changes only through a 'director' change request.",
            )
        ]
    return []


def task_book_problems(
    book: Mapping[str, Any], *, approved_on: date, today: date | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """A task book's own consistency: distinct target codes; construction starts on or after approval (and within
    `dates.CONSTRUCTION_START` on `today`) and ends after it starts, within 10 years."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    codes = [t["code"] for t in book.get("targets", [])]
    for index, code in enumerate(codes):
        if codes.index(code) != index:
            problems.append((("targets", index, "code"), "duplicate target code"))
    starts_on = date.fromisoformat(book["starts_on"])
    if starts_on < approved_on:
        problems.append((("starts_on",), "construction cannot start before the approval decision"))
    elif (problem := dates.CONSTRUCTION_START.problem(starts_on, today)) is not None:
        problems.append((("starts_on",), problem))
    ends_on = book.get("ends_on")
    if ends_on is not None and (problem := dates.construction_end_problem(starts_on, date.fromisoformat(ends_on))):
        problems.append((("ends_on",), problem))
    return problems
