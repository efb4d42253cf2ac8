"""Deadlines as data (domain.md §6, §8; api.md obligations payload).

Every obligation is derived from recorded dates (approval, construction, recognition, last assessment) and the date
asked about, never from a job that must have run; so `obligations(..., as_of=d)` answers for any past or future d.
Calendar dates are judged in the programme's time zone (Asia/Shanghai), which the caller passes in.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

ANNUAL_REPORT = "annual_report"
ACCEPTANCE = "acceptance"
ASSESSMENT = "assessment"
RECTIFICATION = "rectification"

# Acceptance may be requested from 3 months before construction ends and is overdue 3 months after it
# [practice: Henan project rules].
ACCEPTANCE_WINDOW_MONTHS = 3
# One assessment per 3-year cycle [seed]; it shows up as an obligation one year before it falls due.
ASSESSMENT_INTERVAL_YEARS = 3
ASSESSMENT_NOTICE_YEARS = 1

_ENDED_STATES = frozenset({"revoked", "exited"})


def add_months(d: date, months: int) -> date:
    """`d` moved by `months` calendar months (may be negative), clamped to the end of a shorter month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    """`d` moved by `years` years; 29 February becomes 28 February in a common year."""
    return add_months(d, 12 * years)


def default_construction_end(starts_on: date, years: int = 3) -> date:
    """Last day of construction when the task book gives no end: construction lasts 3 years [seed: 一般为3年].

    The period is inclusive, so it ends the day before the anniversary (2022-12-01 → 2025-11-30).
    """
    return add_years(starts_on, years) - timedelta(days=1)


def annual_report_due_on(period_year: int) -> date:
    """An annual report on `period_year` is due by 31 January of the next year [seed]."""
    return date(period_year + 1, 1, 31)


def first_report_year(approved_on: date) -> int:
    """The first report covers the year of the approval decision; it is submitted the year after [seed]."""
    return approved_on.year


def local_date(instant: datetime, tz: tzinfo) -> date:
    """The calendar date of an aware instant in `tz` (domain.md §8: deadlines are judged in Beijing time)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        # A naive datetime has no instant; guessing its zone would move deadlines by eight hours.
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(tz).date()


def is_late(submitted_at: datetime, due_on: date, tz: tzinfo) -> bool:
    """A submission is late when its local date in `tz` is after `due_on` (23:30 Beijing on the due date is on time)."""
    return local_date(submitted_at, tz) > due_on


def acceptance_window(construction_ends_on: date) -> tuple[date, date]:
    """(first day acceptance may be requested, last day before it is overdue) [practice: Henan project rules]."""
    return (
        add_months(construction_ends_on, -ACCEPTANCE_WINDOW_MONTHS),
        add_months(construction_ends_on, ACCEPTANCE_WINDOW_MONTHS),
    )


@dataclass(frozen=True, slots=True)
class CenterTimeline:
    """The recorded dates of a center that its obligations derive from.

    `ended_on` is the date of revocation or exit; `rectifying_kind` is `acceptance` or `assessment`.
    """

    center_id: str
    status: str
    approved_on: date
    construction_starts_on: date | None
    construction_ends_on: date | None
    recognized_on: date | None
    rectifying_kind: str | None
    rectification_due_on: date | None
    last_assessed_on: date | None
    ended_on: date | None


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something a center owes: `kind` in annual_report, acceptance, assessment, rectification (api.md)."""

    center_id: str
    kind: str
    period_year: int | None
    due_on: date
    overdue: bool


def obligations(timeline: CenterTimeline, submitted_report_years: Collection[int], as_of: date) -> list[Obligation]:
    """What `timeline`'s center owes on `as_of`, and whether each is overdue (domain.md §6-8).

    - annual_report [seed]: one per year from the approval year whose period has ended (as_of ≥ 1 January of the next
      year), not yet submitted, during which the center was live (not revoked/exited, or ended after the period
      began). Due 31 January of the next year; overdue from 1 February.
    - acceptance [practice]: while under construction with a recorded end, from 3 months before the end; due (and
      overdue after) 3 months after the end.
    - rectification: while rectifying, due on the recorded rectification deadline.
    - assessment [seed: every 3 years]: while recognized, due 3 years after the last assessment (or recognition),
      listed from one year before.
    A revoked or exited center owes only the reports of periods it was live in.
    Items come in this order: reports by year, then acceptance, rectification, assessment.
    """
    items: list[Obligation] = []

    def owe(kind: str, period_year: int | None, due_on: date) -> None:
        items.append(Obligation(timeline.center_id, kind, period_year, due_on, overdue=as_of > due_on))

    ended = timeline.status in _ENDED_STATES
    # The period of year y has ended once as_of reaches 1 January of y + 1, i.e. y ≤ as_of.year - 1.
    for period_year in range(first_report_year(timeline.approved_on), as_of.year):
        if period_year in submitted_report_years:
            continue
        if ended and (timeline.ended_on is None or timeline.ended_on <= date(period_year, 1, 1)):
            # Without an end date we cannot tell which periods it was live in; an ended center owes nothing unproven.
            continue
        owe(ANNUAL_REPORT, period_year, annual_report_due_on(period_year))

    if timeline.status == "under_construction" and timeline.construction_ends_on is not None:
        opens_on, due_on = acceptance_window(timeline.construction_ends_on)
        if as_of >= opens_on:
            owe(ACCEPTANCE, None, due_on)

    # A rectifying center without a recorded deadline is a data problem the listing should not crash on; it is skipped.
    if timeline.status == "rectifying" and timeline.rectification_due_on is not None:
        owe(RECTIFICATION, None, timeline.rectification_due_on)

    if timeline.status == "recognized":
        since = timeline.last_assessed_on or timeline.recognized_on
        if since is not None:
            due_on = add_years(since, ASSESSMENT_INTERVAL_YEARS)
            if as_of >= add_years(due_on, -ASSESSMENT_NOTICE_YEARS):
                owe(ASSESSMENT, None, due_on)

    return items
