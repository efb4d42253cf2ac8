"""Working days on the official PRC calendar (国务院办公厅 holiday and 调休 arrangements), for public notices (公示)
that run a number of working days (issue 16, §3).

The calendar is data, not rules of ours: it comes from the maintained `chinesecalendar` package, which ships each
year's official arrangement once the State Council publishes it. A date in a year the package does not cover is a
clear error (`CalendarUnavailable`), never a guess from weekdays.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

MAX_NOTICE_WORKING_DAYS = 30  # far beyond any 公示 the notice asks for (5 working days): a bound, not a rule


class CalendarUnavailable(Exception):
    """The official calendar for `year` is not known (yet)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"the official working-day calendar for {year} is not available")
        self.year = year


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise CalendarUnavailable(day.year) from None


def notice_period(starts_on: date, working_days: int) -> tuple[date, date]:
    """The first and last working day of a notice that starts on `starts_on` (or the next working day, when that is a
    holiday or a weekend) and runs `working_days` working days, the first included."""
    if not 1 <= working_days <= MAX_NOTICE_WORKING_DAYS:
        raise ValueError(f"a notice runs 1 to {MAX_NOTICE_WORKING_DAYS} working days")
    day = starts_on
    while not is_working_day(day):
        day += timedelta(days=1)
    first, counted = day, 1
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return first, day
