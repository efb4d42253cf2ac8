"""One date policy (issue 12): the plausible range of each meaning, at its boundaries, and arithmetic that cannot
leave the calendar."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import dates
from app.domain.dates import DateRange, YearRange, construction_end_problem, years_later
from app.domain.deadlines import (
    CenterChange,
    CenterHistory,
    acceptance_window,
    add_months,
    add_years,
    annual_report_due_on,
    default_construction_end,
    obligations,
    report_years,
)

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("meaning", "earliest", "latest"),
    [
        pytest.param(dates.REGISTRATION, date(1949, 10, 1), TODAY, id="registration"),
        pytest.param(dates.DECISION, date(2021, 8, 11), TODAY, id="decision"),
        pytest.param(dates.SITE_VISIT, date(2021, 8, 11), TODAY, id="site visit"),
        pytest.param(dates.RECORDED_DECISION, date(2000, 1, 1), TODAY, id="recorded decision"),
        pytest.param(dates.CONSTRUCTION_START, date(2000, 1, 1), date(2036, 12, 2), id="construction start"),
        pytest.param(dates.CONSTRUCTION_END, date(2000, 1, 1), date(2046, 12, 2), id="construction end"),
        pytest.param(dates.CALL_WINDOW, date(2021, 8, 11), date(2031, 12, 31), id="call window"),
        pytest.param(dates.AS_OF, date(1949, 10, 1), date(2036, 12, 2), id="as_of"),
    ],
)
def test_a_date_is_plausible_exactly_from_its_earliest_to_its_latest_day(
    meaning: DateRange, earliest: date, latest: date
) -> None:
    assert meaning.latest(TODAY) == latest
    assert meaning.problem(earliest, TODAY) is None
    assert meaning.problem(latest, TODAY) is None
    assert meaning.problem(date.fromordinal(earliest.toordinal() - 1), TODAY) is not None
    assert meaning.problem(date.fromordinal(latest.toordinal() + 1), TODAY) is not None


@pytest.mark.parametrize(
    ("meaning", "first", "last"),
    [
        pytest.param(dates.PROGRAMME_YEAR, 2021, 2031, id="programme year"),
        pytest.param(dates.FUNDING_YEAR, 2000, 2031, id="funding year"),
        pytest.param(dates.PERIOD_YEAR, 2000, 2031, id="period year"),
        pytest.param(dates.REPORT_YEAR, 2000, 2025, id="report year"),
        pytest.param(dates.PROJECT_YEAR, 1949, 2026, id="project year"),
    ],
)
def test_a_year_is_plausible_exactly_from_its_first_to_its_last_year(meaning: YearRange, first: int, last: int) -> None:
    assert [meaning.problem(y, TODAY) is None for y in (first - 1, first, last, last + 1)] == [False, True, True, False]


def test_a_decision_dated_tomorrow_in_beijing_is_in_the_future() -> None:
    problem = dates.DECISION.problem(date(2026, 12, 3), TODAY)
    assert problem is not None
    assert "2026-12-02" in problem


def test_the_placeholders_of_paper_records_are_refused_whatever_the_day() -> None:
    for meaning in (dates.DECISION, dates.RECORDED_DECISION, dates.CONSTRUCTION_END, dates.AS_OF, dates.REGISTRATION):
        assert meaning.problem(date(9999, 12, 31), TODAY) is not None
        assert meaning.problem(date(9999, 12, 31)) is not None  # without a today, the fixed ceiling still applies
        assert meaning.problem(date(1, 1, 1)) is not None


def test_without_a_today_only_the_fixed_part_of_a_range_applies() -> None:
    assert dates.DECISION.problem(date(2099, 1, 1)) is None
    assert dates.DECISION.problem(date(2101, 1, 1)) is not None
    assert dates.PROGRAMME_YEAR.problem(2100) is None
    assert dates.PROGRAMME_YEAR.problem(2101) is not None


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "ok"),
    [
        pytest.param(date(2022, 12, 1), date(2025, 11, 30), True, id="three years"),
        pytest.param(date(2022, 12, 1), date(2032, 12, 1), True, id="exactly ten years"),
        pytest.param(date(2022, 12, 1), date(2032, 12, 2), False, id="a day more than ten years"),
        pytest.param(date(2024, 2, 29), date(2034, 2, 28), True, id="ten years from a leap day"),
        pytest.param(date(2022, 12, 1), date(2022, 12, 1), False, id="ends the day it starts"),
        pytest.param(date(2022, 12, 1), date(2022, 11, 30), False, id="ends before it starts"),
        pytest.param(date(2022, 12, 1), date(9999, 12, 31), False, id="长期 placeholder"),
    ],
)
def test_construction_ends_after_it_starts_and_within_ten_years(starts_on: date, ends_on: date, ok: bool) -> None:
    assert (construction_end_problem(starts_on, ends_on) is None) is ok


def test_years_later_never_leaves_the_calendar() -> None:
    assert years_later(date(9999, 6, 1), 1) == date.max
    assert years_later(date(1, 6, 1), -1) == date.min
    assert years_later(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert years_later(date(2024, 2, 29), 4) == date(2028, 2, 29)


any_day = st.dates(min_value=date.min, max_value=date.max)


@given(day=any_day, months=st.integers(min_value=-200_000, max_value=200_000))
def test_adding_months_to_any_date_saturates_instead_of_raising(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert date.min <= moved <= date.max
    assert add_years(day, months // 12) is not None


@given(day=any_day)
def test_every_deadline_of_any_recorded_date_is_a_date(day: date) -> None:
    assert acceptance_window(day)[0] <= acceptance_window(day)[1]
    assert default_construction_end(day) >= day or day.year > 9996
    assert annual_report_due_on(day.year) >= day or day.year == 9999


def test_report_years_start_no_earlier_than_2000_so_a_year_1_approval_owes_a_bounded_list() -> None:
    assert report_years(date(1, 1, 1), 2027) == range(2000, 2027)
    assert report_years(date(2022, 6, 1), 2027) == range(2022, 2027)


@given(
    approved_on=any_day,
    ends_on=any_day,
    as_of=st.dates(min_value=dates.AS_OF.earliest, max_value=date(2036, 12, 31)),
)
def test_obligations_of_any_recorded_dates_never_fail_and_stay_bounded(
    approved_on: date, ends_on: date, as_of: date
) -> None:
    history = CenterHistory(
        center_id="c",
        approved_on=approved_on,
        changes=(CenterChange("import", None, "under_construction", approved_on),),
        construction_ends_on=ends_on,
    )
    items = obligations(history, as_of)
    assert len(items) <= max(as_of.year - 2000, 0) + 1
