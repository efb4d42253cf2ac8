"""Deadlines derived from recorded dates (domain.md §6, §8; api.md obligations)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.domain.deadlines import (
    CenterTimeline,
    Obligation,
    acceptance_window,
    add_months,
    add_years,
    annual_report_due_on,
    default_construction_end,
    first_report_year,
    is_late,
    local_date,
    obligations,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        pytest.param(date(2025, 1, 15), 1, date(2025, 2, 15), id="plain month"),
        pytest.param(date(2025, 1, 31), 1, date(2025, 2, 28), id="clamped to the end of february"),
        pytest.param(date(2024, 1, 31), 1, date(2024, 2, 29), id="clamped to a leap february"),
        pytest.param(date(2025, 11, 30), 3, date(2026, 2, 28), id="across the year end"),
        pytest.param(date(2025, 11, 30), -3, date(2025, 8, 30), id="backwards"),
        pytest.param(date(2025, 3, 31), -1, date(2025, 2, 28), id="backwards and clamped"),
        pytest.param(date(2025, 1, 10), -1, date(2024, 12, 10), id="backwards across the year start"),
        pytest.param(date(2025, 6, 1), 0, date(2025, 6, 1), id="zero months"),
        pytest.param(date(2025, 6, 1), 30, date(2027, 12, 1), id="more than a year"),
        pytest.param(date(2025, 6, 1), -18, date(2023, 12, 1), id="more than a year backwards"),
    ],
)
def test_adding_months_keeps_the_day_or_clamps_it_to_the_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        pytest.param(date(2022, 12, 1), 3, date(2025, 12, 1), id="plain"),
        pytest.param(date(2024, 2, 29), 1, date(2025, 2, 28), id="29 february becomes 28 february"),
        pytest.param(date(2024, 2, 29), 4, date(2028, 2, 29), id="29 february stays in a leap year"),
        pytest.param(date(2027, 3, 1), -1, date(2026, 3, 1), id="backwards"),
    ],
)
def test_adding_years_moves_the_date_by_whole_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


@pytest.mark.parametrize(
    ("starts_on", "years", "expected"),
    [
        pytest.param(date(2022, 12, 1), 3, date(2025, 11, 30), id="three years end the day before the anniversary"),
        pytest.param(date(2022, 1, 1), 3, date(2024, 12, 31), id="from new year"),
        pytest.param(date(2024, 2, 29), 3, date(2027, 2, 27), id="from a leap day"),
        pytest.param(date(2023, 3, 1), 2, date(2025, 2, 28), id="a two-year task book"),
    ],
)
def test_construction_lasts_three_years_by_default(starts_on: date, years: int, expected: date) -> None:
    assert default_construction_end(starts_on, years) == expected


def test_the_default_construction_period_is_three_years() -> None:
    assert default_construction_end(date(2022, 12, 1)) == date(2025, 11, 30)


@pytest.mark.parametrize(("period_year", "expected"), [(2021, date(2022, 1, 31)), (2026, date(2027, 1, 31))])
def test_an_annual_report_is_due_on_31_january_of_the_next_year(period_year: int, expected: date) -> None:
    assert annual_report_due_on(period_year) == expected


@pytest.mark.parametrize(
    ("approved_on", "expected"), [(date(2021, 8, 11), 2021), (date(2026, 1, 15), 2026), (date(2025, 12, 31), 2025)]
)
def test_the_first_report_covers_the_year_of_approval(approved_on: date, expected: int) -> None:
    assert first_report_year(approved_on) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param(datetime(2027, 1, 31, 15, 30, tzinfo=UTC), date(2027, 1, 31), id="23:30 beijing"),
        pytest.param(datetime(2027, 1, 31, 16, 0, tzinfo=UTC), date(2027, 2, 1), id="midnight beijing"),
        pytest.param(datetime(2027, 1, 31, 15, 59, 59, tzinfo=UTC), date(2027, 1, 31), id="a second before midnight"),
        pytest.param(datetime(2027, 2, 1, 0, 30, tzinfo=SHANGHAI), date(2027, 2, 1), id="already in beijing time"),
        pytest.param(
            datetime(2027, 1, 31, 9, 0, tzinfo=timezone(timedelta(hours=-8))), date(2027, 2, 1), id="from UTC-8"
        ),
    ],
)
def test_the_local_date_is_the_calendar_date_in_beijing(instant: datetime, expected: date) -> None:
    assert local_date(instant, SHANGHAI) == expected


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2027, 1, 31, 15, 30), SHANGHAI)


@pytest.mark.parametrize(
    ("submitted_at", "late"),
    [
        pytest.param(datetime(2027, 1, 31, 15, 30, tzinfo=UTC), False, id="23:30 beijing on the due date"),
        pytest.param(datetime(2027, 1, 31, 16, 30, tzinfo=UTC), True, id="00:30 beijing the day after"),
        pytest.param(datetime(2027, 1, 10, 2, 0, tzinfo=UTC), False, id="well before"),
        pytest.param(datetime(2027, 1, 30, 23, 0, tzinfo=UTC), False, id="utc day before, beijing due date"),
        pytest.param(datetime(2027, 3, 1, 2, 0, tzinfo=UTC), True, id="a month later"),
    ],
)
def test_a_report_is_late_only_when_submitted_after_the_due_date_in_beijing(submitted_at: datetime, late: bool) -> None:
    assert is_late(submitted_at, date(2027, 1, 31), SHANGHAI) is late


@pytest.mark.parametrize(
    ("ends_on", "window"),
    [
        pytest.param(date(2025, 11, 30), (date(2025, 8, 30), date(2026, 2, 28)), id="ending 30 november"),
        pytest.param(date(2024, 12, 31), (date(2024, 9, 30), date(2025, 3, 31)), id="ending new year's eve"),
        pytest.param(date(2026, 5, 31), (date(2026, 2, 28), date(2026, 8, 31)), id="clamped at the start"),
    ],
)
def test_acceptance_opens_three_months_before_and_falls_due_three_months_after_the_end(
    ends_on: date, window: tuple[date, date]
) -> None:
    assert acceptance_window(ends_on) == window


def timeline(**changes: Any) -> CenterTimeline:
    base = CenterTimeline(
        center_id="c1",
        status="approved",
        approved_on=date(2026, 1, 15),
        construction_starts_on=None,
        construction_ends_on=None,
        recognized_on=None,
        rectifying_kind=None,
        rectification_due_on=None,
        last_assessed_on=None,
        ended_on=None,
    )
    return replace(base, **changes)


def report(year: int, overdue: bool, center_id: str = "c1") -> Obligation:
    return Obligation(center_id, "annual_report", year, date(year + 1, 1, 31), overdue)


BUILDING = timeline(
    status="under_construction",
    approved_on=date(2022, 6, 1),
    construction_starts_on=date(2022, 12, 1),
    construction_ends_on=date(2025, 11, 30),
)
RECOGNIZED = timeline(
    status="recognized",
    approved_on=date(2021, 8, 11),
    construction_starts_on=date(2021, 10, 1),
    construction_ends_on=date(2024, 9, 30),
    recognized_on=date(2024, 12, 20),
)


@pytest.mark.parametrize(
    ("center", "submitted", "as_of", "expected"),
    [
        pytest.param(timeline(), set(), date(2026, 12, 31), [], id="nothing is owed before the first period ends"),
        pytest.param(
            timeline(), set(), date(2027, 1, 1), [report(2026, False)], id="the first report is owed from new year"
        ),
        pytest.param(
            timeline(), set(), date(2027, 1, 31), [report(2026, False)], id="on 31 january it is due, not overdue"
        ),
        pytest.param(timeline(), set(), date(2027, 2, 1), [report(2026, True)], id="on 1 february it is overdue"),
        pytest.param(timeline(), {2026}, date(2027, 2, 1), [], id="a submitted report is not owed"),
        pytest.param(
            timeline(),
            set(),
            date(2028, 3, 1),
            [report(2026, True), report(2027, True)],
            id="every missing year is owed",
        ),
        pytest.param(
            BUILDING,
            set(),
            date(2026, 11, 29),
            [
                report(2022, True),
                report(2023, True),
                report(2024, True),
                report(2025, True),
                Obligation("c1", "acceptance", None, date(2026, 2, 28), True),
            ],
            id="a center under construction owes its reports and an overdue acceptance",
        ),
        pytest.param(
            BUILDING,
            {2022, 2024},
            date(2026, 11, 29),
            [
                report(2023, True),
                report(2025, True),
                Obligation("c1", "acceptance", None, date(2026, 2, 28), True),
            ],
            id="submitted years are not owed",
        ),
        pytest.param(
            BUILDING,
            {2022, 2023, 2024},
            date(2025, 8, 29),
            [],
            id="acceptance is not owed before its window opens",
        ),
        pytest.param(
            BUILDING,
            {2022, 2023, 2024},
            date(2025, 8, 30),
            [Obligation("c1", "acceptance", None, date(2026, 2, 28), False)],
            id="acceptance is owed from three months before the end",
        ),
        pytest.param(
            BUILDING,
            {2022, 2023, 2024, 2025},
            date(2026, 2, 28),
            [Obligation("c1", "acceptance", None, date(2026, 2, 28), False)],
            id="acceptance is not overdue on the last day of its window",
        ),
        pytest.param(
            replace(BUILDING, construction_ends_on=None),
            {2022, 2023, 2024, 2025},
            date(2026, 6, 1),
            [],
            id="no acceptance without a recorded construction end",
        ),
        pytest.param(
            replace(BUILDING, status="acceptance_pending"),
            {2022, 2023, 2024, 2025},
            date(2026, 6, 1),
            [],
            id="a requested acceptance is no longer owed by the center",
        ),
        pytest.param(
            replace(
                RECOGNIZED, status="rectifying", rectifying_kind="assessment", rectification_due_on=date(2028, 3, 1)
            ),
            {2021, 2022, 2023, 2024, 2025, 2026},
            date(2027, 6, 1),
            [Obligation("c1", "rectification", None, date(2028, 3, 1), False)],
            id="a rectifying center owes its rectification by the recorded date",
        ),
        pytest.param(
            replace(
                RECOGNIZED, status="rectifying", rectifying_kind="acceptance", rectification_due_on=date(2025, 3, 1)
            ),
            {2021, 2022, 2023, 2024},
            date(2025, 3, 2),
            [Obligation("c1", "rectification", None, date(2025, 3, 1), True)],
            id="a rectification is overdue the day after its deadline",
        ),
        pytest.param(
            RECOGNIZED,
            {2021, 2022, 2023, 2024, 2025},
            date(2026, 12, 19),
            [],
            id="an assessment is not listed earlier than a year before it falls due",
        ),
        pytest.param(
            RECOGNIZED,
            {2021, 2022, 2023, 2024, 2025},
            date(2026, 12, 20),
            [Obligation("c1", "assessment", None, date(2027, 12, 20), False)],
            id="an assessment is listed a year before it falls due",
        ),
        pytest.param(
            RECOGNIZED,
            {2021, 2022, 2023, 2024, 2025, 2026, 2027},
            date(2028, 1, 5),
            [Obligation("c1", "assessment", None, date(2027, 12, 20), True)],
            id="an assessment is overdue three years after recognition",
        ),
        pytest.param(
            replace(RECOGNIZED, last_assessed_on=date(2027, 11, 1)),
            {2021, 2022, 2023, 2024, 2025, 2026, 2027},
            date(2028, 1, 5),
            [],
            id="the last assessment restarts the three years",
        ),
        pytest.param(
            replace(RECOGNIZED, last_assessed_on=date(2027, 11, 1)),
            {2021, 2022, 2023, 2024, 2025, 2026, 2027, 2028, 2029},
            date(2030, 11, 2),
            [Obligation("c1", "assessment", None, date(2030, 11, 1), True)],
            id="the next assessment falls due three years after the last",
        ),
        pytest.param(
            replace(BUILDING, status="revoked", ended_on=date(2024, 6, 1)),
            {2022},
            date(2026, 11, 29),
            [report(2023, True), report(2024, True)],
            id="a revoked center owes only reports of periods it was live in",
        ),
        pytest.param(
            replace(BUILDING, status="exited", ended_on=date(2024, 1, 1)),
            {2022},
            date(2026, 11, 29),
            [report(2023, True)],
            id="an exit on new year's day owes nothing for the year it begins",
        ),
        pytest.param(
            replace(BUILDING, status="revoked", ended_on=None),
            set(),
            date(2026, 11, 29),
            [],
            id="an ended center without an end date owes nothing",
        ),
        pytest.param(
            replace(RECOGNIZED, status="revoked", ended_on=date(2025, 5, 1)),
            {2021, 2022, 2023, 2024},
            date(2030, 1, 1),
            [report(2025, True)],
            id="a revoked center owes no assessment",
        ),
    ],
)
def test_obligations_are_derived_from_recorded_dates_for_any_day(
    center: CenterTimeline, submitted: set[int], as_of: date, expected: list[Obligation]
) -> None:
    assert obligations(center, submitted, as_of) == expected
