"""公示 periods on the official working-day calendar (issue 16, §3): holidays skipped, make-up days counted."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.domain.workdays import (
    Arrangement,
    CalendarUnavailable,
    WorkdayCalendar,
    arrangements_from,
    is_working_day,
    notice_period,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # a Saturday worked in lieu (调休)
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 12, 2), True),
    ],
)
def test_the_official_calendar_decides(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_a_notice_over_national_day_skips_the_holiday_and_counts_the_make_up_saturday() -> None:
    # Tue 29 Sep, Wed 30 Sep, (1-7 Oct off), Thu 8 Oct, Fri 9 Oct, Sat 10 Oct (worked in lieu): five working days.
    assert notice_period(date(2026, 9, 29), 5) == (date(2026, 9, 29), date(2026, 10, 10))
    # One day earlier, it ends before the make-up Saturday; one day less, too.
    assert notice_period(date(2026, 9, 28), 5) == (date(2026, 9, 28), date(2026, 10, 9))
    assert notice_period(date(2026, 9, 29), 4) == (date(2026, 9, 29), date(2026, 10, 9))


def test_a_notice_starting_on_a_holiday_starts_on_the_next_working_day() -> None:
    assert notice_period(date(2026, 10, 3), 1) == (date(2026, 10, 8), date(2026, 10, 8))
    assert notice_period(date(2026, 12, 5), 5) == (date(2026, 12, 7), date(2026, 12, 11))  # a weekend start


def test_a_year_the_calendar_does_not_cover_is_a_clear_error() -> None:
    with pytest.raises(CalendarUnavailable, match="calendar for 2031 is not available") as refused:
        notice_period(date(2031, 1, 6), 5)
    assert refused.value.year == 2031
    with pytest.raises(CalendarUnavailable):  # a notice that runs into an unknown year
        notice_period(date(2026, 12, 28), 10)


@pytest.mark.parametrize("days", [0, -1, 31])
def test_a_length_out_of_bounds_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 30 working days"):
        notice_period(date(2026, 9, 29), days)


# --- arrangements the department enters itself (TIC_WORKDAY_CALENDAR_FILE) ----------------------------------------

ENTERED = {"2027": {"holidays": ["2027-01-01", "2027-01-04"], "make_up_workdays": ["2027-01-02"]}}


def test_an_entered_year_counts_its_holidays_and_make_up_days_and_plain_weekdays() -> None:
    calendar = WorkdayCalendar(arrangements_from(ENTERED))
    assert not calendar.is_working_day(date(2027, 1, 1))  # a Friday off
    assert calendar.is_working_day(date(2027, 1, 2))  # a Saturday worked
    assert not calendar.is_working_day(date(2027, 1, 3))  # a plain Sunday
    assert not calendar.is_working_day(date(2027, 1, 4))  # a Monday off
    assert calendar.is_working_day(date(2027, 1, 5))  # a plain Tuesday
    assert not calendar.is_working_day(date(2027, 1, 9))  # a plain Saturday
    # Years not entered still come from the package, and one neither covers is still refused.
    assert calendar.is_working_day(date(2026, 12, 31))
    assert not calendar.is_working_day(date(2026, 10, 1))
    with pytest.raises(CalendarUnavailable) as refused:
        calendar.is_working_day(date(2028, 1, 3))
    assert refused.value.year == 2028


def test_a_notice_runs_over_the_new_year_on_the_entered_arrangement() -> None:
    calendar = WorkdayCalendar(arrangements_from(ENTERED))
    # Mon 28 Dec to Thu 31 Dec (4 days), Fri 1 Jan off, Sat 2 Jan worked (5th day).
    assert notice_period(date(2026, 12, 28), 5, calendar) == (date(2026, 12, 28), date(2027, 1, 2))
    assert notice_period(date(2026, 12, 28), 6, calendar) == (date(2026, 12, 28), date(2027, 1, 5))
    with pytest.raises(CalendarUnavailable):
        notice_period(date(2026, 12, 28), 5)  # the package alone does not know 2027


def test_an_entered_year_overrides_the_package() -> None:
    calendar = WorkdayCalendar(arrangements_from({"2026": {"holidays": ["2026-12-31"], "make_up_workdays": []}}))
    assert not calendar.is_working_day(date(2026, 12, 31))
    assert calendar.is_working_day(date(2026, 10, 1))  # 国庆 is not in the entered year: a plain Thursday now


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a JSON object keyed by year"),
        ({"27": {"holidays": [], "make_up_workdays": []}}, "'27': a year from 2000 to 2100"),
        ({"2101": {"holidays": [], "make_up_workdays": []}}, "a year from 2000 to 2100"),
        ({"1999": {"holidays": [], "make_up_workdays": []}}, "a year from 2000 to 2100"),
        ({"2027": {"holidays": []}}, "exactly 'holidays' and 'make_up_workdays'"),
        ({"2027": {"holidays": [], "make_up_workdays": [], "x": []}}, "exactly 'holidays' and 'make_up_workdays'"),
        ({"2027": {"holidays": "2027-01-01", "make_up_workdays": []}}, "2027.holidays: a list of ISO dates"),
        ({"2027": {"holidays": ["2027-1-1"], "make_up_workdays": []}}, "2027.holidays[0]: '2027-1-1' is not an ISO"),
        ({"2027": {"holidays": ["2027-02-30"], "make_up_workdays": []}}, "is not an ISO date"),
        ({"2027": {"holidays": [20270101], "make_up_workdays": []}}, "is not an ISO date"),
        ({"2027": {"holidays": ["2026-12-31"], "make_up_workdays": []}}, "2027.holidays[0]: 2026-12-31 is not in 2027"),
        (
            {"2027": {"holidays": ["2027-01-01", "2027-01-01"], "make_up_workdays": []}},
            "[1]: 2027-01-01 is listed twice",
        ),
        ({"2027": {"holidays": [], "make_up_workdays": ["2027-01-04"]}}, "2027-01-04 is a weekday"),
        ({"2027": {"holidays": ["2027-01-02"], "make_up_workdays": ["2027-01-02"]}}, "both a holiday and a make-up"),
    ],
)
def test_a_wrong_arrangement_is_refused_naming_the_problem(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        arrangements_from(data)


def test_the_boundary_years_and_a_sunday_make_up_day_are_accepted() -> None:
    entered = arrangements_from(
        {
            "2000": {"holidays": [], "make_up_workdays": []},
            "2100": {"holidays": [], "make_up_workdays": []},
            "2027": {"holidays": [], "make_up_workdays": ["2027-01-03"]},  # a Sunday
        }
    )
    assert sorted(entered) == [2000, 2027, 2100]
    assert entered[2027] == Arrangement(2027, frozenset(), frozenset({date(2027, 1, 3)}))
