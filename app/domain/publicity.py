"""Public notice (公示) of the lists the province intends to support or recognize, and objections (异议) to them
(issue 16 §3). Pure rules over dates and counts; the working-day calendar is `app.domain.workdays`.

A notice of kind `approval` (拟支持名单) lists applications the province intends to approve, one of kind
`recognition` (拟认定名单) centers it intends to recognize. `approve` and `recognize` are blocked until a notice of
the matching kind covering the subject has ended and every objection against that subject is resolved; an upheld
objection keeps blocking (the province may still reject). `publicity_blockers` is the one guard both the refusal and
`GET …/actions` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.domain.errors import DomainError, RuleViolation
from app.domain.guards import Blocker, blocker
from app.domain.workdays import (
    MAX_NOTICE_WORKING_DAYS,
    OFFICIAL,
    CalendarUnavailable,
    WorkdayCalendar,
    is_working_day,
    notice_period,
)

KINDS = ("approval", "recognition")
# The state a subject must be in to be listed, and the action a notice of the kind clears.
SUBJECT_STATUS = {"approval": "reviewed", "recognition": "accepted"}
ACTION = {"approval": "approve", "recognition": "recognize"}
SUBJECT_TYPE = {"approval": "application", "recognition": "center"}
NOTICE_STATUSES = ("scheduled", "running", "ended")
OBJECTION_STATUSES = ("open", "upheld", "dismissed")
OUTCOMES = ("upheld", "dismissed")

DEFAULT_WORKING_DAYS = 5  # 公示期不少于 5 个工作日, the usual provincial practice
MAX_SUBJECTS = 200
# [practice] A notice is entered when it is published: up to 30 days late (a notice already posted on the
# department's website is recorded afterwards), and scheduled at most 60 days ahead. Anything further is a typo.
START_PAST_DAYS = 30
START_FUTURE_DAYS = 60


class CalendarNotCovered(DomainError):
    """The official calendar of `year` is unknown, so a date of the request (`loc`) cannot be judged."""

    def __init__(self, year: int, loc: tuple[str | int, ...]) -> None:
        super().__init__(f"the official working-day calendar for {year} is not available")
        self.year = year
        self.loc = loc


def notice_status(starts_on: date, ends_on: date, today: date) -> str:
    """`scheduled` before its first day, `running` through its last working day, `ended` from the day after."""
    if today < starts_on:
        return "scheduled"
    if today <= ends_on:
        return "running"
    return "ended"


def start_problem(starts_on: date, today: date, calendar: WorkdayCalendar = OFFICIAL) -> str | None:
    """What is wrong with a notice's first day, or None: within [today − 30, today + 60] days and a working day.
    Raises `CalendarNotCovered` for a year the official calendar does not cover."""
    if starts_on < today - timedelta(days=START_PAST_DAYS):
        return f"a notice starts at most {START_PAST_DAYS} days before today"
    if starts_on > today + timedelta(days=START_FUTURE_DAYS):
        return f"a notice starts at most {START_FUTURE_DAYS} days after today"
    try:
        working = is_working_day(starts_on, calendar)
    except CalendarUnavailable as exc:
        raise CalendarNotCovered(exc.year, ("body", "starts_on")) from None
    if not working:
        return "a notice starts on a working day (not a weekend or an official holiday)"
    return None


def ends_on(starts_on: date, working_days: int, calendar: WorkdayCalendar = OFFICIAL) -> date:
    """The last working day of a notice starting on the working day `starts_on`."""
    if not 1 <= working_days <= MAX_NOTICE_WORKING_DAYS:
        raise ValueError(f"a notice runs 1 to {MAX_NOTICE_WORKING_DAYS} working days")
    try:
        return notice_period(starts_on, working_days, calendar)[1]
    except CalendarUnavailable as exc:
        raise CalendarNotCovered(exc.year, ("body", "starts_on")) from None


@dataclass(frozen=True, slots=True)
class NoticeFact:
    """One notice of the matching kind that lists the subject, with the subject's objections in it."""

    notice_id: str
    ends_on: date
    open_objections: int = 0
    upheld_objections: int = 0


def latest(notices: Sequence[NoticeFact]) -> NoticeFact | None:
    """The notice that ends last (ties: the greatest id, so the answer does not depend on the order given)."""
    return max(notices, key=lambda n: (n.ends_on, n.notice_id), default=None)


def publicity_blockers(kind: str, notices: Sequence[NoticeFact], today: date) -> list[Blocker]:
    """Why the subject may not be approved (kind `approval`) or recognized (`recognition`) yet; empty when it may."""
    last = latest(notices)
    if last is None:
        label = "拟支持名单" if kind == "approval" else "拟认定名单"
        return [
            blocker(
                "publicity-missing",
                f"尚未列入{label}进行公示",
                f"No {kind} notice (公示) lists this subject yet.",
                kind=kind,
            )
        ]
    out: list[Blocker] = []
    if today <= last.ends_on:
        out.append(
            blocker(
                "publicity-running",
                f"公示期至 {last.ends_on.isoformat()} 结束，期满后方可决定",
                f"The public notice runs until {last.ends_on.isoformat()}; decide after it ends.",
                notice_id=last.notice_id,
                ends_on=last.ends_on.isoformat(),
            )
        )
    unresolved = sum(n.open_objections for n in notices)
    if unresolved:
        out.append(
            blocker(
                "objection-unresolved",
                f"尚有 {unresolved} 件异议未处理",
                f"{unresolved} objection(s) against this subject are not resolved yet.",
                notice_id=last.notice_id,
                ends_on=last.ends_on.isoformat(),
                unresolved_count=unresolved,
            )
        )
    upheld = sum(n.upheld_objections for n in notices)
    if upheld:
        out.append(
            blocker(
                "objection-upheld",
                "异议成立，不能批准或认定，可作出不予支持决定",
                "An objection was upheld: the subject cannot be approved or recognized (it may be rejected).",
                notice_id=last.notice_id,
                ends_on=last.ends_on.isoformat(),
                upheld_count=upheld,
            )
        )
    return out


def decision_date_problem(notices: Sequence[NoticeFact], decided_on: date) -> str | None:
    """A decision is dated after the notice that cleared it ended (the day after its last working day, or later)."""
    last = latest(notices)
    if last is not None and decided_on <= last.ends_on:
        return f"the decision is dated after the public notice ended on {last.ends_on.isoformat()}"
    return None


def received_on_problem(received_on: date, today: date) -> str | None:
    """A received date after today is bad input (422), whatever the notice."""
    if received_on > today:
        return "an objection cannot have been received after today"
    return None


def check_received_in_notice(received_on: date, starts_on: date, notice_ends_on: date) -> None:
    """An objection counts only if it was received during the notice, its first to its last working day: else a
    `RuleViolation` (409 `objection-outside-notice`)."""
    if not starts_on <= received_on <= notice_ends_on:
        raise RuleViolation(
            "objection-outside-notice",
            f"异议须在公示期内（{starts_on.isoformat()} 至 {notice_ends_on.isoformat()}）提出",
            f"An objection is received during the notice ({starts_on.isoformat()} to {notice_ends_on.isoformat()}).",
            {"starts_on": starts_on.isoformat(), "ends_on": notice_ends_on.isoformat()},
        )


def resolve_problem(status: str) -> None:
    """An objection is resolved once."""
    if status != "open":
        raise RuleViolation(
            "objection-already-resolved",
            "该异议已处理",
            "This objection has already been resolved.",
            {"objection_status": status},
        )
