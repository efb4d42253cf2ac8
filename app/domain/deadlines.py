"""Deadlines as data (domain.md §6, §8; api.md obligations payload).

Every obligation is derived from the dated history of a center (when each status began, when each report was first
submitted, when it was assessed) and the date asked about, never from a job that must have run and never from
today's statuses; so `obligations(history, as_of=d)` answers what was (or will be) true on any past or future d.
Calendar dates are judged in the programme's time zone (Asia/Shanghai), which the caller passes in.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from app.domain.assessment import RECTIFICATION_MONTHS_ACCEPTANCE, RECTIFICATION_MONTHS_ASSESSMENT
from app.domain.dates import HISTORY_FROM

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
# The decision that put a center into `rectifying` tells what it rectifies (domain.md §6-7).
_RECTIFYING_KIND = {"record_acceptance": ACCEPTANCE, "record_assessment": ASSESSMENT}
_RECTIFICATION_MONTHS = {ACCEPTANCE: RECTIFICATION_MONTHS_ACCEPTANCE, ASSESSMENT: RECTIFICATION_MONTHS_ASSESSMENT}
# `record_acceptance` recognized directly before the `recognize` step (accepted → recognized) was introduced.
_RECOGNIZING_ACTIONS = frozenset({"recognize", "record_acceptance"})


# The deadline arithmetic below never raises: a result past the calendar saturates at `date.max` (or `date.min`),
# which reads as "not due in any year anyone asks about". Accepted dates stay far from both (app.domain.dates), so
# saturation only ever meets a date recorded before the date policy existed, and such a row must not break every
# listing that includes it (issue 12: one 9999-12-31 made GET /obligations and GET /centers answer 500).


def add_months(d: date, months: int) -> date:
    """`d` moved by `months` calendar months (may be negative), clamped to the end of a shorter month; saturates at
    the ends of the calendar instead of raising."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    month = month0 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    """`d` moved by `years` years; 29 February becomes 28 February in a common year."""
    return add_months(d, 12 * years)


def default_construction_end(starts_on: date, years: int = 3) -> date:
    """Last day of construction when the task book gives no end: construction lasts 3 years [seed: 一般为3年].

    The period is inclusive, so it ends the day before the anniversary (2022-12-01 → 2025-11-30). The anniversary of
    29 February in a common year is 1 March, so a construction starting 2024-02-29 ends on 2027-02-28 (clamping the
    anniversary to 28 February first would end it a day early).
    """
    year = starts_on.year + years
    if year > date.max.year:
        return date.max
    try:
        anniversary = starts_on.replace(year=year)
    except ValueError:  # 29 February, and the anniversary year is common
        anniversary = date(year, 3, 1)
    return anniversary - timedelta(days=1)


def annual_report_due_on(period_year: int) -> date:
    """An annual report on `period_year` is due by 31 January of the next year [seed] (`date.max` past the calendar)."""
    return date(period_year + 1, 1, 31) if period_year < date.max.year else date.max


def first_report_year(approved_on: date) -> int:
    """The first report covers the year of the approval decision; it is submitted the year after [seed]."""
    return approved_on.year


def report_years(approved_on: date, until_year: int) -> range:
    """The years whose report a center approved on `approved_on` may owe, up to `until_year` exclusive: from the
    approval year [seed], but never before `HISTORY_FROM` — no accepted approval is older, and the floor keeps the
    work per center bounded even for a row recorded before the date policy (an approval in year 1)."""
    return range(max(first_report_year(approved_on), HISTORY_FROM.year), until_year)


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


def rectification_due_on(kind: str, started_on: date) -> date | None:
    """End of a rectification that began on `started_on`: 3 months after a failed acceptance [practice: national
    major-project rules], 12 months after an unqualified assessment [practice]; None for an unknown kind."""
    months = _RECTIFICATION_MONTHS.get(kind)
    return None if months is None else add_months(started_on, months)


# --- what was recorded, and when -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CenterChange:
    """One recorded transition of a center: a change of status, or an extension of its construction.

    `effective_on` is the decision date when one was recorded, else the local date on which it was recorded.
    `extended_from` is the construction end an `extend` replaced; `recognized_on` is the recognition date recorded
    by the import of a center recognized on paper.
    """

    action: str
    from_status: str | None
    status: str
    effective_on: date
    extended_from: date | None = None
    recognized_on: date | None = None

    @property
    def changes_status(self) -> bool:
        return self.from_status != self.status


@dataclass(frozen=True, slots=True)
class ReportFiling:
    """An annual report as filed: the local date of its first submission and, while it is back with the center
    after a return, the local date of that return."""

    period_year: int
    first_submitted_on: date
    returned_on: date | None = None

    def submitted_by(self, as_of: date) -> bool:
        """Filed on `as_of`: submitted on or before it, and not returned to the center by then."""
        return self.first_submitted_on <= as_of and (self.returned_on is None or self.returned_on > as_of)


@dataclass(frozen=True, slots=True)
class CenterHistory:
    """The dated record of a center that its obligations on any date derive from.

    `changes` are in the order they were recorded; `construction_ends_on` is the end recorded now (after any
    extension); `assessed_on` are the decision dates of its finalized assessments.
    """

    center_id: str
    approved_on: date
    changes: tuple[CenterChange, ...]
    construction_ends_on: date | None = None
    assessed_on: tuple[date, ...] = ()
    reports: tuple[ReportFiling, ...] = ()


@dataclass(frozen=True, slots=True)
class CenterOnDate:
    """What was in force for a center on one date: its status and the dates its obligations derive from.

    `ended_on` is the date of revocation or exit; `rectifying_kind` is `acceptance` or `assessment`.
    """

    center_id: str
    status: str
    approved_on: date
    construction_ends_on: date | None = None
    recognized_on: date | None = None
    rectifying_kind: str | None = None
    rectification_due_on: date | None = None
    last_assessed_on: date | None = None
    ended_on: date | None = None
    submitted_report_years: frozenset[int] = frozenset()


def center_on(history: CenterHistory, as_of: date) -> CenterOnDate | None:
    """The center as it stood on `as_of`, from its dated history alone; None before it was approved.

    - status: that of the last status change recorded whose effective date is on or before `as_of`. Recording order
      decides between changes, not effective dates: a decision dated back (a verdict recorded a week late) outranks
      what was recorded before it, and a change dated after `as_of` has not happened yet.
    - construction end: the one recorded now, taken back through every extension not yet in force on `as_of`.
    - recognition: the latest recognition dated on or before `as_of` (by `recognize`, by a passed acceptance before
      the recognition step existed, or by the import of a recognized center).
    - rectification: kind and deadline from the decision that started it.
    - reports: a report counts as filed only from its first submission, and not while it is back after a return.
    """
    in_force = [c for c in history.changes if c.changes_status and c.effective_on <= as_of]
    if as_of < history.approved_on or not in_force:
        return None
    current = in_force[-1]
    ends_on = history.construction_ends_on
    for change in reversed(history.changes):
        if change.action == "extend" and change.effective_on > as_of and change.extended_from is not None:
            ends_on = change.extended_from
    recognitions = [d for c in in_force if (d := _recognition_date(c)) is not None and d <= as_of]
    rectifying_kind = _RECTIFYING_KIND.get(current.action) if current.status == "rectifying" else None
    return CenterOnDate(
        center_id=history.center_id,
        status=current.status,
        approved_on=history.approved_on,
        construction_ends_on=ends_on,
        recognized_on=max(recognitions, default=None),
        rectifying_kind=rectifying_kind,
        rectification_due_on=None
        if rectifying_kind is None
        else rectification_due_on(rectifying_kind, current.effective_on),
        last_assessed_on=max((d for d in history.assessed_on if d <= as_of), default=None),
        ended_on=current.effective_on if current.status in _ENDED_STATES else None,
        submitted_report_years=frozenset(r.period_year for r in history.reports if r.submitted_by(as_of)),
    )


def _recognition_date(change: CenterChange) -> date | None:
    if change.recognized_on is not None:
        return change.recognized_on
    if change.status == "recognized" and change.action in _RECOGNIZING_ACTIONS:
        return change.effective_on
    return None


# --- what is owed --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Obligation:
    """Something a center owes: `kind` in annual_report, acceptance, assessment, rectification (api.md)."""

    center_id: str
    kind: str
    period_year: int | None
    due_on: date
    overdue: bool


# The order `owed` lists a center's items in; with the period year it places every item of one center.
KIND_ORDER = (ANNUAL_REPORT, ACCEPTANCE, RECTIFICATION, ASSESSMENT)


def order_in_center(item: Obligation) -> tuple[int, int]:
    """Where `item` stands among its center's obligations: (kind in `KIND_ORDER`, period year or 0)."""
    return KIND_ORDER.index(item.kind), item.period_year or 0


def obligations(history: CenterHistory, as_of: date) -> list[Obligation]:
    """What the center owed on `as_of`, judged on what was true on that date (domain.md §8): a report filed in March
    does not erase February's overdue item for a day in February. A center approved after `as_of` owes nothing."""
    center = center_on(history, as_of)
    return [] if center is None else owed(center, as_of)


def owed(center: CenterOnDate, as_of: date) -> list[Obligation]:
    """What `center`, as it stood on `as_of`, owes on that date, and whether each is overdue (domain.md §6-8).

    - annual_report [seed]: one per year from the approval year whose period has ended (as_of ≥ 1 January of the next
      year), not yet submitted, during which the center was live (not revoked/exited, or ended after the period
      began). Due 31 January of the next year; overdue from 1 February.
    - acceptance [practice]: while under construction with a recorded end, from 3 months before the end; due (and
      overdue after) 3 months after the end.
    - rectification: while rectifying, due on the recorded rectification deadline.
    - assessment [seed: every 3 years]: while recognized, due 3 years after the last assessment (or recognition),
      listed from one year before.
    A revoked or exited center owes only the reports of periods it was live in; an `accepted` center, waiting for
    the province's recognition, owes neither acceptance nor assessment.
    Items come in this order: reports by year, then acceptance, rectification, assessment.
    """
    items: list[Obligation] = []

    def owe(kind: str, period_year: int | None, due_on: date) -> None:
        items.append(Obligation(center.center_id, kind, period_year, due_on, overdue=as_of > due_on))

    ended = center.status in _ENDED_STATES
    # The period of year y has ended once as_of reaches 1 January of y + 1, i.e. y ≤ as_of.year - 1.
    for period_year in report_years(center.approved_on, as_of.year):
        if period_year in center.submitted_report_years:
            continue
        if ended and (center.ended_on is None or center.ended_on <= date(period_year, 1, 1)):
            # Without an end date we cannot tell which periods it was live in; an ended center owes nothing unproven.
            continue
        owe(ANNUAL_REPORT, period_year, annual_report_due_on(period_year))

    if center.status == "under_construction" and center.construction_ends_on is not None:
        opens_on, due_on = acceptance_window(center.construction_ends_on)
        if as_of >= opens_on:
            owe(ACCEPTANCE, None, due_on)

    # A rectifying center without a known deadline is a data problem the listing should not crash on; it is skipped.
    if center.status == "rectifying" and center.rectification_due_on is not None:
        owe(RECTIFICATION, None, center.rectification_due_on)

    if center.status == "recognized":
        since = max((d for d in (center.last_assessed_on, center.recognized_on) if d is not None), default=None)
        if since is not None:
            due_on = add_years(since, ASSESSMENT_INTERVAL_YEARS)
            if as_of >= add_years(due_on, -ASSESSMENT_NOTICE_YEARS):
                owe(ASSESSMENT, None, due_on)

    return items
