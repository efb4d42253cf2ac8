"""One date policy (issue 12): every date and year a request carries has a plausible range, by what it means.

Dates come from people and from old paper records, where 9999-12-31 stands for 长期 ("long-term") and 0001-01-01 for
"unknown". Neither is a date a deadline can be computed from: 9999-12-31 plus three months is out of the calendar.
So each date field says what it means (a registration, a decision, a planned construction end, ...) and its meaning
fixes its range: a fixed earliest date with a reason, and a latest date counted from today on the programme's calendar
(Asia/Shanghai), which the caller passes in — the domain reads no clock. Without a today only the fixed part applies,
and `LATEST` stands for the latest date: no range reaches past it, so the deadline arithmetic of
`app.domain.deadlines` (at most a few decades past any accepted date) can never leave the calendar.

Ranges are inclusive. The API applies the range of each field's meaning to every request (422 with the field's loc),
the rules that compare dates with each other (a verdict after the construction end) stay with their lifecycles and
reuse the helpers here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

# No organization of the People's Republic registered before its founding.
PRC_FOUNDED = date(1949, 10, 1)
# 豫科〔2021〕116号, the notice that starts the programme: no decision of this service is dated before it.
NOTICE_ISSUED = date(2021, 8, 11)
# Centers imported from paper (recognized or under construction before the service went live) may carry decisions
# back to this date, and annual reports and funding may be recorded from its year on.
HISTORY_FROM = date(2000, 1, 1)
# How far ahead a plan (a construction start) or a question (obligations as of a date) may reach.
HORIZON_YEARS = 10
# How far ahead a programme year (a call, an assessment cycle, a funding decision) may be planned.
PLANNING_YEARS = 5
# Construction lasts 3 years by default [seed]; a task book may plan up to 10.
MAX_CONSTRUCTION_YEARS = 10
# A decision is not dated after today on the Asia/Shanghai calendar (0 days of tolerance).
FUTURE_TOLERANCE_DAYS = 0
# The latest date any range reaches, whatever today is.
LATEST = date(2100, 12, 31)


def years_later(day: date, years: int) -> date:
    """`day` moved by `years` (29 February → 28 February), held inside the calendar: never raises."""
    year = day.year + years
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return (
        day.replace(year=year, day=28)
        if (day.month, day.day) == (2, 29) and not _leap(year)
        else day.replace(year=year)
    )


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# How far a range reaches from today: (latest date from today, English phrase for messages and documentation).
_REACH: dict[str, tuple[Callable[[date], date], str]] = {
    "today": (lambda today: today + timedelta(days=FUTURE_TOLERANCE_DAYS), "today (not in the future)"),
    "horizon": (lambda today: years_later(today, HORIZON_YEARS), f"{HORIZON_YEARS} years after today"),
    "construction": (
        lambda today: years_later(today, HORIZON_YEARS + MAX_CONSTRUCTION_YEARS),
        f"{HORIZON_YEARS + MAX_CONSTRUCTION_YEARS} years after today",
    ),
    "planning": (
        lambda today: date(today.year + PLANNING_YEARS, 12, 31),
        f"31 December, {PLANNING_YEARS} years after this year",
    ),
}


@dataclass(frozen=True, slots=True)
class DateRange:
    """The plausible range of a date by its meaning: from `earliest` (because `since`) to `reach` from today."""

    meaning: str
    earliest: date
    since: str
    reach: str

    def latest(self, today: date | None) -> date:
        """The latest plausible date on `today`; `LATEST` without one."""
        if today is None:
            return LATEST
        return min(_REACH[self.reach][0](today), LATEST)

    def problem(self, value: date, today: date | None = None) -> str | None:
        """Why `value` is not a plausible date of this meaning on `today`; None when it is."""
        if value < self.earliest:
            return f"{self.meaning} cannot be before {self.earliest.isoformat()} ({self.since})"
        latest = self.latest(today)
        if value > latest:
            until = _REACH[self.reach][1] if today is not None else "the latest date this service plans with"
            return f"{self.meaning} cannot be after {latest.isoformat()} ({until}, Asia/Shanghai calendar)"
        return None

    def describe(self) -> str:
        """The range in one sentence, for the OpenAPI description."""
        until = _REACH[self.reach][1]
        return (
            f"{self.meaning[0].upper()}{self.meaning[1:]}: from {self.earliest.isoformat()} ({self.since}) to "
            f"{until} on the Asia/Shanghai calendar, and never after {LATEST.isoformat()}."
        )


# How far a year range reaches from today's year: (latest year from today's year, English phrase).
_YEAR_REACH: dict[str, tuple[Callable[[int], int], str]] = {
    "last_year": (lambda year: year - 1, "last year (a finished year)"),
    "this_year": (lambda year: year, "this year"),
    "planning": (lambda year: year + PLANNING_YEARS, f"{PLANNING_YEARS} years after this year"),
}


@dataclass(frozen=True, slots=True)
class YearRange:
    """The plausible range of a year by its meaning: from `first` (because `since`) to `reach` from this year."""

    meaning: str
    first: int
    since: str
    reach: str

    def last(self, today: date | None) -> int:
        if today is None:
            return LATEST.year
        return min(_YEAR_REACH[self.reach][0](today.year), LATEST.year)

    def problem(self, value: int, today: date | None = None) -> str | None:
        if value < self.first:
            return f"{self.meaning} cannot be before {self.first} ({self.since})"
        last = self.last(today)
        if value > last:
            until = _YEAR_REACH[self.reach][1] if today is not None else "the latest year this service plans with"
            return f"{self.meaning} cannot be after {last} ({until}, Asia/Shanghai calendar)"
        return None

    def describe(self) -> str:
        until = _YEAR_REACH[self.reach][1]
        return f"{self.meaning[0].upper()}{self.meaning[1:]}: from {self.first} ({self.since}) to {until}."


# --- the meanings -------------------------------------------------------------------------------------------------

_SINCE_NOTICE = "the notice 豫科〔2021〕116号 started the programme"
_SINCE_HISTORY = "the earliest paper record the service imports"

REGISTRATION = DateRange("a registration date", PRC_FOUNDED, "the founding of the People's Republic of China", "today")
DECISION = DateRange("a decision date", NOTICE_ISSUED, _SINCE_NOTICE, "today")
# Site visits (实地考察) are part of the review this service runs, so they are dated like its decisions.
SITE_VISIT = DateRange("a site visit date", NOTICE_ISSUED, _SINCE_NOTICE, "today")
# Decisions taken on paper before the service went live, brought in by an import.
RECORDED_DECISION = DateRange("a recorded decision date", HISTORY_FROM, _SINCE_HISTORY, "today")
CONSTRUCTION_START = DateRange("a construction start", HISTORY_FROM, _SINCE_HISTORY, "horizon")
# The end is also within MAX_CONSTRUCTION_YEARS of the start (`construction_end_problem`).
CONSTRUCTION_END = DateRange("a construction end", HISTORY_FROM, _SINCE_HISTORY, "construction")
CALL_WINDOW = DateRange("a call date", NOTICE_ISSUED, _SINCE_NOTICE, "planning")
AS_OF = DateRange("as_of", PRC_FOUNDED, "the founding of the People's Republic of China", "horizon")
# The day an expert left a former employer (issue 17 §1): a past date, like a registration.
EMPLOYMENT_END = DateRange(
    "the end of a former employment", PRC_FOUNDED, "the founding of the People's Republic of China", "today"
)

PROGRAMME_YEAR = YearRange("a programme year", NOTICE_ISSUED.year, _SINCE_NOTICE, "planning")
FUNDING_YEAR = YearRange("a funding year", HISTORY_FROM.year, _SINCE_HISTORY, "planning")
PERIOD_YEAR = YearRange("an assessment period year", HISTORY_FROM.year, _SINCE_HISTORY, "planning")
REPORT_YEAR = YearRange("a report year", HISTORY_FROM.year, _SINCE_HISTORY, "last_year")
PROJECT_YEAR = YearRange(
    "a project year", PRC_FOUNDED.year, "the founding of the People's Republic of China", "this_year"
)


def construction_end_problem(starts_on: date, ends_on: date) -> str | None:
    """Construction ends after it starts, and within `MAX_CONSTRUCTION_YEARS` of the start. [practice]"""
    if ends_on <= starts_on:
        return "the construction end must be after its start"
    if ends_on > years_later(starts_on, MAX_CONSTRUCTION_YEARS):
        return f"construction lasts at most {MAX_CONSTRUCTION_YEARS} years"
    return None
