"""Working days on the official PRC calendar (国务院办公厅 holiday and 调休 arrangements), for public notices (公示)
that run a number of working days (issue 16, §3).

The calendar is data, not rules of ours: it comes from the maintained `chinesecalendar` package, which ships each
year's official arrangement once the State Council publishes it. The department may enter a year's arrangement itself
(`TIC_WORKDAY_CALENDAR_FILE`, read by `arrangements_from`) when the notice is out before the package's release, or to
correct it; a year given there is taken from there. A date in a year neither covers is a clear error
(`CalendarUnavailable`), never a guess from weekdays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import chinese_calendar

MAX_NOTICE_WORKING_DAYS = 30  # far beyond any 公示 the notice asks for (5 working days): a bound, not a rule


class CalendarUnavailable(Exception):
    """The official calendar for `year` is not known (yet)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"the official working-day calendar for {year} is not available")
        self.year = year


@dataclass(frozen=True, slots=True)
class Arrangement:
    """One year's official arrangement (国务院办公厅关于某年部分节假日安排的通知): the days off that would otherwise be
    working days or weekend days of a holiday, and the weekend days worked in exchange (调休上班)."""

    year: int
    holidays: frozenset[date]
    make_up_workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.make_up_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@dataclass(frozen=True, slots=True)
class WorkdayCalendar:
    """The official calendar: the years entered by the department first, then the `chinesecalendar` package."""

    arrangements: Mapping[int, Arrangement] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        entered = self.arrangements.get(day.year)
        if entered is not None:
            return entered.is_working_day(day)
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarUnavailable(day.year) from None


OFFICIAL = WorkdayCalendar()


def _dates(year: int, value: Any, where: str) -> frozenset[date]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: a list of ISO dates")
    out: set[date] = set()
    for index, item in enumerate(value):
        try:
            day = date.fromisoformat(item) if isinstance(item, str) and len(item) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise ValueError(f"{where}[{index}]: {item!r} is not an ISO date (YYYY-MM-DD)")
        if day.year != year:
            raise ValueError(f"{where}[{index}]: {item} is not in {year}")
        if day in out:
            raise ValueError(f"{where}[{index}]: {item} is listed twice")
        out.add(day)
    return frozenset(out)


def arrangements_from(data: Any) -> dict[int, Arrangement]:
    """Years' arrangements from their JSON form, refused with the first problem found:
    `{"2027": {"holidays": ["2027-01-01", …], "make_up_workdays": ["2027-02-06", …]}}`. A make-up working day is a
    Saturday or Sunday (a weekday is a working day anyway) and is not also a holiday."""
    if not isinstance(data, Mapping):
        raise ValueError("the calendar is a JSON object keyed by year")
    out: dict[int, Arrangement] = {}
    for key, entry in data.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4 and 2000 <= int(key) <= 2100):
            raise ValueError(f"{key!r}: a year from 2000 to 2100")
        year = int(key)
        if not isinstance(entry, Mapping) or set(entry) != {"holidays", "make_up_workdays"}:
            raise ValueError(f"{key}: an object with exactly 'holidays' and 'make_up_workdays'")
        holidays = _dates(year, entry["holidays"], f"{key}.holidays")
        make_up = _dates(year, entry["make_up_workdays"], f"{key}.make_up_workdays")
        for day in sorted(make_up):
            if day.weekday() < 5:
                raise ValueError(f"{key}.make_up_workdays: {day} is a weekday, a working day anyway")
            if day in holidays:
                raise ValueError(f"{key}: {day} is both a holiday and a make-up working day")
        out[year] = Arrangement(year, holidays, make_up)
    return out


def is_working_day(day: date, calendar: WorkdayCalendar = OFFICIAL) -> bool:
    return calendar.is_working_day(day)


def notice_period(starts_on: date, working_days: int, calendar: WorkdayCalendar = OFFICIAL) -> tuple[date, date]:
    """The first and last working day of a notice that starts on `starts_on` (or the next working day, when that is a
    holiday or a weekend) and runs `working_days` working days, the first included."""
    if not 1 <= working_days <= MAX_NOTICE_WORKING_DAYS:
        raise ValueError(f"a notice runs 1 to {MAX_NOTICE_WORKING_DAYS} working days")
    day = starts_on
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    first, counted = day, 1
    while counted < working_days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return first, day
