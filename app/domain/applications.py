"""Rules of an application's life (domain.md §4–5; 豫科〔2021〕116号 五(二)–(三)): submission, recommendation,
review rounds and approval — every guard written once, over `ApplicationFacts`.

`LIFECYCLE.check` refuses, `LIFECYCLE.views` explains and `LIFECYCLE.allowed` lists, all through `LIFECYCLE.blockers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.domain import dates
from app.domain.attachments import FORMAL_REVIEW_INCOMPLETE
from app.domain.calls import CallWindow, is_open_on
from app.domain.change_requests import eligibility_blockers, supervisor_decides
from app.domain.errors import ConflictOfInterest, RuleViolation
from app.domain.guards import Blocker, Lifecycle, blocker
from app.domain.lifecycles import APPLICATION, APPLICATION_FAST_TRACK
from app.domain.principal import Principal
from app.domain.publicity import NoticeFact, decision_date_problem, publicity_blockers
from app.domain.reference import PLAN_SECTIONS, codes
from app.domain.review import ExpertProfile, check_panel

EDITABLE_STATUSES = frozenset({"draft", "returned", "revising", "incomplete"})
# A failed review may be revised and reviewed once more before rejection (issue 11 §3.8): two rounds at most.
MAX_REVIEW_ROUNDS = 2
# A supervisor's return may give the applicant up to 30 days to resubmit, even after the call closes.
MAX_RESUBMIT_DAYS = 30
REASON_REQUIRED = frozenset({"return", "reject", "request_revision"})


def missing_plan_sections(plan: Mapping[str, Any]) -> list[str]:
    """The seven sections of the construction plan (建设方案) that are absent or blank [seed]."""
    return [section for section in codes(PLAN_SECTIONS) if not str(plan.get(section, "")).strip()]


@dataclass(frozen=True, slots=True)
class PanelFacts:
    members: tuple[ExpertProfile, ...]
    involved_org_ids: tuple[str, ...]
    min_size: int
    categories: tuple[str, ...]
    # The day recusal is judged on (a former employer counts for three years) and the invitations not yet answered.
    today: date | None = None
    pending: int = 0


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    """Everything an application guard may look at, gathered once by the service."""

    status: str
    today: date
    fast_track: bool = False
    call: CallWindow | None = None
    resubmit_by: date | None = None
    plan: Mapping[str, Any] | None = None
    # The failing checks of a live eligibility evaluation (only gathered when submit or resubmit is open).
    failing_checks: tuple[Mapping[str, Any], ...] = ()
    lead_has_supervisor: bool = True
    panel: PanelFacts | None = None
    scores_missing: int = 0
    review_passed: bool | None = None
    aggregate_score: str | None = None
    review_round: int = 1
    revised_since_review: bool = False
    # The approval notices (公示) listing the application, with its objections (only gathered when approve is open).
    publicity: tuple[NoticeFact, ...] = ()
    # The province's formal review (形式审查) of the current submission concluded `complete` (issue 16 §2).
    formal_review_complete: bool = False


def panel_blockers(panel: PanelFacts | None) -> list[Blocker]:
    """A panel that may review now: its accepted members present, and valid by size, categories and recusal
    (domain.md §5). While invitations are unanswered, a short panel also says so (`panel-invitations-pending`)."""
    pending = [] if panel is None or not panel.pending else [_pending(panel.pending)]
    if panel is None or not panel.members:
        return [blocker("panel-missing", "尚未组建评审专家组", "No review panel has been formed."), *pending]
    try:
        check_panel(
            panel.members,
            panel.involved_org_ids,
            min_size=panel.min_size,
            categories=panel.categories,
            today=panel.today,
        )
    except RuleViolation as exc:
        return [Blocker(exc.code, exc.message_zh, exc.message_en, exc.data), *pending]
    except ConflictOfInterest as exc:
        return [
            blocker(
                "conflict-of-interest",
                f"专家 {exc.expert_id} 须回避",
                f"Expert {exc.expert_id} must recuse ({exc.cause}).",
                expert_id=exc.expert_id,
                org_id=exc.org_id,
                cause=exc.cause,
            )
        ]
    return []


def _pending(count: int) -> Blocker:
    return blocker(
        "panel-invitations-pending",
        f"尚有 {count} 位受邀专家未答复",
        f"{count} invited expert(s) have not answered yet; only accepted members count.",
        pending=count,
    )


def _plan_and_eligibility(f: ApplicationFacts) -> list[Blocker]:
    out: list[Blocker] = []
    missing = missing_plan_sections(f.plan or {})
    if missing:
        out.append(
            blocker(
                "plan-incomplete",
                "建设方案七个部分均须填写",
                "All seven plan sections are required.",
                missing_sections=missing,
            )
        )
    out.extend(eligibility_blockers(f.failing_checks))
    return out


def _submit(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    out: list[Blocker] = []
    # Material completed after a formal review goes back to the province whatever the call's dates: the call's
    # deadline was met by the first submission.
    if not f.fast_track and f.status != "incomplete":
        open_now = f.call is not None and is_open_on(f.call, f.today)
        granted = f.status == "returned" and f.resubmit_by is not None and f.today <= f.resubmit_by
        if not (open_now or granted):
            out.append(
                blocker(
                    "call-not-open",
                    "申报通知未开放或已截止",
                    "The call is not open today.",
                    resubmit_by=f.resubmit_by.isoformat() if f.resubmit_by else None,
                )
            )
    return out + _plan_and_eligibility(f)


def _resubmit(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    # The revised application is judged again: facts may have changed while revising.
    return _plan_and_eligibility(f)


def _supervisor_step(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    return supervisor_decides(actor, f.lead_has_supervisor) if f.status == "submitted" else []


def _open_review(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    out: list[Blocker] = []
    # The first review waits for a complete formal review; re-opening on a revised plan needs none (issue 16 §2).
    if f.status == "recommended" and not f.formal_review_complete:
        out.append(FORMAL_REVIEW_INCOMPLETE)
    if f.status == "reviewed":
        if not f.revised_since_review:
            out.append(
                blocker(
                    "not-revised",
                    "须先请申报单位修改建设方案，方可重新评审",
                    "A review is re-opened only on a revised plan: request a revision first.",
                )
            )
        if f.review_round >= MAX_REVIEW_ROUNDS:
            out.append(
                blocker(
                    "review-rounds-exhausted",
                    "已重新评审一次，只能批准或不予支持",
                    "The application has been re-reviewed once; it can now only be approved or rejected.",
                    review_round=f.review_round,
                )
            )
    return out + panel_blockers(f.panel)


def _conclude_review(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    if f.scores_missing:
        return [
            blocker(
                "scores-missing",
                f"尚有 {f.scores_missing} 位专家未评分",
                f"{f.scores_missing} panel member(s) have not scored yet; replace one who cannot score (PUT panel).",
                missing_count=f.scores_missing,
            )
        ]
    return []


def _approve(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    out: list[Blocker] = []
    if not f.review_passed:
        out.append(
            blocker(
                "review-not-passed",
                "评审未通过，不能批准建设",
                "The review did not pass.",
                aggregate_score=f.aggregate_score,
            )
        )
    # 公示 of the 拟支持名单 (issue 16 §3): ended, every objection resolved, none upheld.
    return out + publicity_blockers("approval", f.publicity, f.today)


def _reject(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    return _supervisor_step(actor, f)


LIFECYCLE: Lifecycle[ApplicationFacts] = Lifecycle(
    name="application",
    machine_of=lambda facts: APPLICATION_FAST_TRACK if facts.fast_track else APPLICATION,
    guards={
        "submit": _submit,
        "resubmit": _resubmit,
        "recommend": _supervisor_step,
        "return": _supervisor_step,
        "reject": _reject,
        "open_review": _open_review,
        "conclude_review": _conclude_review,
        "approve": _approve,
    },
    # Applied by the formal review with outcome `incomplete` (app/services/formal_reviews.py), never offered alone.
    internal=frozenset({"return_incomplete"}),
)


def argument_problems(
    action: str, f: ApplicationFacts, body: Mapping[str, Any], *, review_concluded_on: date | None
) -> list[tuple[str, str]]:
    """(body field, message) for each problem of an action's body (422)."""
    out: list[tuple[str, str]] = []
    if action in REASON_REQUIRED and not body.get("reason"):
        out.append(("reason", f"a reason is required to {action.replace('_', ' ')}"))
    resubmit_by = body.get("resubmit_by")
    if resubmit_by is not None:
        if action != "return":
            out.append(("resubmit_by", "only a return sets a resubmission deadline"))
        elif not f.today <= resubmit_by <= f.today + timedelta(days=MAX_RESUBMIT_DAYS):
            out.append(("resubmit_by", f"the resubmission deadline is within {MAX_RESUBMIT_DAYS} days from today"))
    if action == "approve":
        decided = body.get("decision_date")
        if decided is None:
            out.append(("decision_date", "the approval decision date is required"))
        elif (problem := dates.DECISION.problem(decided, f.today)) is not None:
            out.append(("decision_date", problem))
        elif review_concluded_on is not None and decided < review_concluded_on:
            out.append(("decision_date", "the approval cannot be dated before the review concluded"))
        elif (problem := decision_date_problem(f.publicity, decided)) is not None:
            out.append(("decision_date", problem))
    return out


def update_blockers(actor: Principal, f: ApplicationFacts) -> list[Blocker]:
    """Who edits an application (PATCH) and when: its lead (the province for a fast-track one) while it is a draft,
    returned or being revised."""
    editor = "province" if f.fast_track else "applicant"
    out: list[Blocker] = []
    if actor.role != editor:
        out.append(blocker("wrong-role", f"只有 {editor} 可以修改", f"Only the {editor} edits this application."))
    if f.status not in EDITABLE_STATUSES:
        out.append(
            blocker(
                "wrong-state",
                f"当前状态（{f.status}）不能修改",
                f"Not editable in state '{f.status}'.",
                status=f.status,
            )
        )
    return out


def panel_change_problems(
    current: Sequence[str], new: Sequence[str], scored: Sequence[str], *, status: str, reason: str | None
) -> list[tuple[str, str]]:
    """During review the province may replace members who have not scored, with a reason (issue 11 §3.8); a member
    who has scored stays. Before review the panel is free to change."""
    if status != "under_review":
        return []
    out: list[tuple[str, str]] = []
    if not reason:
        out.append(("reason", "a reason is required to change the panel during review"))
    removed = [e for e in current if e not in new and e in scored]
    if removed:
        out.append(("expert_ids", f"members who have scored cannot be replaced: {', '.join(removed)}"))
    return out


# Before review the panel is formed freely; during review members who have not scored may be replaced; after a
# review (or while revising) a new panel may be formed for the next round.
PANEL_EDITABLE = frozenset({"submitted", "recommended", "incomplete", "under_review", "reviewed", "revising"})
