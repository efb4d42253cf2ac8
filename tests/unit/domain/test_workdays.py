"""公示 periods on the official working-day calendar (issue 16, §3): holidays skipped, make-up days counted."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.workdays import CalendarUnavailable, is_working_day, notice_period


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
