"""Deadlines derived from recorded dates (domain.md §6, §8; api.md obligations)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.domain.deadlines import (
    CenterChange,
    CenterHistory,
    CenterOnDate,
    Obligation,
    ReportFiling,
    acceptance_window,
    add_months,
    add_years,
    annual_report_due_on,
    center_on,
    default_construction_end,
    first_report_year,
    is_late,
    local_date,
    obligations,
    order_in_center,
    owed,
    rectification_due_on,
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
        pytest.param(date(2024, 2, 29), 3, date(2027, 2, 28), id="from a leap day the anniversary is 1 march"),
        pytest.param(date(2024, 2, 28), 3, date(2027, 2, 27), id="from the day before a leap day"),
        pytest.param(date(2024, 3, 1), 3, date(2027, 2, 28), id="from the day after a leap day"),
        pytest.param(date(2023, 3, 1), 3, date(2026, 2, 28), id="from 1 march ending in a common year"),
        pytest.param(date(2025, 3, 1), 3, date(2028, 2, 29), id="from 1 march ending in a leap year"),
        pytest.param(date(2024, 2, 29), 4, date(2028, 2, 28), id="from a leap day to a leap year"),
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


def timeline(**changes: Any) -> CenterOnDate:
    return replace(CenterOnDate(center_id="c1", status="approved", approved_on=date(2026, 1, 15)), **changes)


def report(year: int, overdue: bool, center_id: str = "c1") -> Obligation:
    return Obligation(center_id, "annual_report", year, date(year + 1, 1, 31), overdue)


BUILDING = timeline(
    status="under_construction",
    approved_on=date(2022, 6, 1),
    construction_ends_on=date(2025, 11, 30),
)
RECOGNIZED = timeline(
    status="recognized",
    approved_on=date(2021, 8, 11),
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
        pytest.param(
            replace(BUILDING, status="accepted"),
            {2022, 2023, 2024, 2025},
            date(2026, 6, 1),
            [],
            id="an accepted center waiting for recognition owes no acceptance",
        ),
        pytest.param(
            replace(RECOGNIZED, status="accepted"),
            {2021, 2022, 2023, 2024, 2025, 2026, 2027},
            date(2028, 1, 5),
            [],
            id="an accepted center owes no assessment",
        ),
    ],
)
def test_a_center_as_it_stood_on_a_date_owes_what_its_recorded_dates_say(
    center: CenterOnDate, submitted: set[int], as_of: date, expected: list[Obligation]
) -> None:
    assert owed(replace(center, submitted_report_years=frozenset(submitted)), as_of) == expected


# --- obligations on a date, from the dated history (issue 11 §3.5) ---------------------------------------------------


def d(text: str) -> date:
    return date.fromisoformat(text)


def change(action: str, from_status: str | None, status: str, on: str, **extra: Any) -> CenterChange:
    return CenterChange(action=action, from_status=from_status, status=status, effective_on=d(on), **extra)


def history(*changes: CenterChange, **fields: Any) -> CenterHistory:
    base = CenterHistory(center_id="c1", approved_on=d(changes[0].effective_on.isoformat()), changes=changes)
    return replace(base, **fields)


def filed(year: int, on: str, returned_on: str | None = None) -> ReportFiling:
    return ReportFiling(year, d(on), None if returned_on is None else d(returned_on))


def acceptance(due_on: str, overdue: bool) -> Obligation:
    return Obligation("c1", "acceptance", None, d(due_on), overdue)


def assessment(due_on: str, overdue: bool) -> Obligation:
    return Obligation("c1", "assessment", None, d(due_on), overdue)


def rectification(due_on: str, overdue: bool) -> Obligation:
    return Obligation("c1", "rectification", None, d(due_on), overdue)


APPROVED_2026 = history(change("approve", None, "approved", "2026-01-15"))
# Imported while under construction (2022-12-01 to 2025-11-30), every report filed on time up to 2025.
BUILT = history(
    change("import", None, "under_construction", "2022-06-01"),
    construction_ends_on=d("2025-11-30"),
    reports=tuple(filed(year, f"{year + 1}-01-20") for year in (2022, 2023, 2024, 2025)),
)
REVOKED_1_JUNE = replace(
    BUILT, changes=(*BUILT.changes, change("revoke", "under_construction", "revoked", "2027-06-01"))
)
EXTENDED = replace(
    BUILT,
    construction_ends_on=d("2026-05-30"),
    changes=(
        *BUILT.changes,
        change("extend", "under_construction", "under_construction", "2025-10-15", extended_from=d("2025-11-30")),
    ),
)
# Approved 2021, built 2021-10-01 to 2024-09-30, acceptance asked for on 2024-12-01, passed on 2025-01-10 and
# recognized on 2025-02-10; every report filed on time.
RECOGNIZED_HISTORY = history(
    change("approve", None, "approved", "2021-08-11"),
    change("sign_task_book", "approved", "under_construction", "2021-10-01"),
    change("request_acceptance", "under_construction", "acceptance_pending", "2024-12-01"),
    change("record_acceptance", "acceptance_pending", "accepted", "2025-01-10"),
    change("recognize", "accepted", "recognized", "2025-02-10"),
    construction_ends_on=d("2024-09-30"),
    reports=tuple(filed(year, f"{year + 1}-01-05") for year in range(2021, 2035)),
)
# Failed its first acceptance on 2026-01-20, asked again on 2026-03-01 and passed on 2026-04-01.
RECTIFIED = replace(
    BUILT,
    changes=(
        *BUILT.changes,
        change("request_acceptance", "under_construction", "acceptance_pending", "2025-11-01"),
        change("record_acceptance", "acceptance_pending", "rectifying", "2026-01-20"),
        change("request_acceptance", "rectifying", "acceptance_pending", "2026-03-01"),
        change("record_acceptance", "acceptance_pending", "accepted", "2026-04-01"),
    ),
)
# Recognized 2025-02-10, assessed on 2027-12-01 (qualified) and on 2030-11-20 (unqualified: rectify until
# 2031-11-20), rectification passed on 2031-06-15.
ASSESSED = replace(
    RECOGNIZED_HISTORY,
    changes=(
        *RECOGNIZED_HISTORY.changes,
        change("record_assessment", "recognized", "rectifying", "2030-11-20"),
        change("record_rectification_review", "rectifying", "recognized", "2031-06-15"),
    ),
    assessed_on=(d("2027-12-01"), d("2030-11-20")),
)
# Recognized straight from construction (the acceptance verdict recognized before the `recognize` step existed).
RECOGNIZED_FROM_CONSTRUCTION = replace(
    BUILT, changes=(*BUILT.changes, change("record_acceptance", "under_construction", "recognized", "2026-03-10"))
)
IMPORTED_RECOGNIZED = history(
    change("import", None, "recognized", "2019-06-01", recognized_on=d("2023-01-10")),
    reports=tuple(filed(year, f"{year + 1}-01-05") for year in range(2019, 2030)),
)
ALL_BUILT_REPORTS = [report(year, True) for year in (2022, 2023, 2024, 2025)]


@pytest.mark.parametrize(
    ("center", "as_of", "expected"),
    [
        # A report filed on 10 March 2027 for 2026.
        *(
            pytest.param(replace(APPROVED_2026, reports=(filed(2026, "2027-03-10"),)), d(as_of), owed_then, id=name)
            for as_of, owed_then, name in [
                ("2027-01-31", [report(2026, False)], "a report filed in march is due, not overdue, on 31 january"),
                ("2027-02-01", [report(2026, True)], "a report filed in march is overdue on 1 february"),
                ("2027-02-15", [report(2026, True)], "a report filed in march was overdue in february"),
                ("2027-03-09", [report(2026, True)], "a report is overdue until the day before it is filed"),
                ("2027-03-10", [], "a report is not owed from the day it is filed"),
                ("2027-12-31", [], "a filed report stays filed"),
            ]
        ),
        pytest.param(
            replace(APPROVED_2026, reports=(filed(2026, "2027-01-31"),)),
            d("2027-01-30"),
            [report(2026, False)],
            id="a report filed on 31 january is due the day before",
        ),
        pytest.param(
            replace(APPROVED_2026, reports=(filed(2026, "2027-01-31"),)),
            d("2027-01-31"),
            [],
            id="a report filed on 31 january is not owed that day",
        ),
        pytest.param(
            replace(APPROVED_2026, reports=(filed(2026, "2027-02-01"),)),
            d("2027-01-31"),
            [report(2026, False)],
            id="a report filed on 1 february was not yet overdue on 31 january",
        ),
        pytest.param(
            replace(APPROVED_2026, reports=(filed(2026, "2027-01-20", returned_on="2027-02-05"),)),
            d("2027-02-04"),
            [],
            id="a report later returned was filed until its return",
        ),
        pytest.param(
            replace(APPROVED_2026, reports=(filed(2026, "2027-01-20", returned_on="2027-02-05"),)),
            d("2027-02-05"),
            [report(2026, True)],
            id="a returned report is owed again from its return",
        ),
        # Existence.
        pytest.param(APPROVED_2026, d("2026-01-14"), [], id="a center owes nothing the day before its approval"),
        pytest.param(APPROVED_2026, d("2025-06-01"), [], id="a center owes nothing before it existed"),
        pytest.param(BUILT, d("2022-05-31"), [], id="an imported center owes nothing before its approval"),
        # A center revoked on 2027-06-01.
        pytest.param(
            REVOKED_1_JUNE,
            d("2026-11-29"),
            [acceptance("2026-02-28", True)],
            id="before its revocation a center owed its acceptance as it did then",
        ),
        pytest.param(
            replace(REVOKED_1_JUNE, reports=()),
            d("2027-05-31"),
            [*ALL_BUILT_REPORTS, report(2026, True), acceptance("2026-02-28", True)],
            id="the day before its revocation a center owed its reports and acceptance",
        ),
        pytest.param(
            replace(REVOKED_1_JUNE, reports=()),
            d("2027-06-01"),
            [*ALL_BUILT_REPORTS, report(2026, True)],
            id="from its revocation a center owes only reports of periods it was live in",
        ),
        pytest.param(
            replace(REVOKED_1_JUNE, reports=()),
            d("2028-02-01"),
            [*ALL_BUILT_REPORTS, report(2026, True), report(2027, True)],
            id="a center revoked in june owes the report of that year",
        ),
        pytest.param(
            replace(REVOKED_1_JUNE, reports=()),
            d("2025-09-01"),
            [report(2022, True), report(2023, True), report(2024, True), acceptance("2026-02-28", False)],
            id="years before its revocation a center owed what it owed then",
        ),
        # Construction end in force.
        pytest.param(
            EXTENDED, d("2025-10-14"), [acceptance("2026-02-28", False)], id="before an extension the old end holds"
        ),
        pytest.param(EXTENDED, d("2025-10-15"), [], id="from the day it is decided an extension moves the end"),
        pytest.param(
            EXTENDED,
            d("2026-03-01"),
            [acceptance("2026-08-30", False)],
            id="after an extension acceptance follows the new end",
        ),
        # Status in force around acceptance and recognition.
        pytest.param(
            RECOGNIZED_HISTORY,
            d("2024-06-29"),
            [],
            id="before its window a center under construction owes no acceptance",
        ),
        pytest.param(
            RECOGNIZED_HISTORY,
            d("2024-11-30"),
            [acceptance("2024-12-30", False)],
            id="before it asked for acceptance a center owed it",
        ),
        pytest.param(RECOGNIZED_HISTORY, d("2024-12-01"), [], id="a requested acceptance is owed no more"),
        pytest.param(
            RECOGNIZED_HISTORY, d("2025-01-10"), [], id="an accepted center waiting for recognition owes nothing"
        ),
        pytest.param(
            RECOGNIZED_HISTORY,
            d("2026-02-09"),
            [],
            id="a recognized center owes no acceptance and no assessment yet",
        ),
        pytest.param(
            RECOGNIZED_HISTORY,
            d("2027-02-10"),
            [assessment("2028-02-10", False)],
            id="an assessment is listed a year before three years from recognition",
        ),
        pytest.param(
            replace(RECOGNIZED_HISTORY, changes=RECOGNIZED_HISTORY.changes[:-1]),
            d("2028-06-01"),
            [],
            id="a center never recognized after acceptance owes no assessment",
        ),
        pytest.param(
            RECOGNIZED_FROM_CONSTRUCTION,
            d("2026-03-09"),
            [acceptance("2026-02-28", True)],
            id="until the day before its recognition a center owed its acceptance",
        ),
        pytest.param(
            RECOGNIZED_FROM_CONSTRUCTION,
            d("2026-03-10"),
            [],
            id="from the day of its recognition a center owes no acceptance",
        ),
        pytest.param(
            RECOGNIZED_FROM_CONSTRUCTION,
            d("2028-03-10"),
            [report(2026, True), report(2027, True), assessment("2029-03-10", False)],
            id="a center recognized by its acceptance verdict is assessed from that date",
        ),
        # Rectification in force.
        pytest.param(
            RECTIFIED,
            d("2026-02-01"),
            [rectification("2026-04-20", False)],
            id="after a failed acceptance the center owed its rectification",
        ),
        pytest.param(RECTIFIED, d("2026-03-01"), [], id="a second request ends the rectification item"),
        pytest.param(RECTIFIED, d("2026-06-01"), [], id="an accepted center owes no rectification"),
        pytest.param(
            replace(RECTIFIED, changes=RECTIFIED.changes[:-2]),
            d("2026-04-21"),
            [rectification("2026-04-20", True)],
            id="a rectification is overdue the day after three months",
        ),
        # Assessments in force.
        pytest.param(
            ASSESSED,
            d("2027-11-30"),
            [assessment("2028-02-10", False)],
            id="before its first assessment the recognition date counts",
        ),
        pytest.param(ASSESSED, d("2027-12-01"), [], id="an assessment restarts the three years from its date"),
        pytest.param(
            ASSESSED,
            d("2029-12-01"),
            [assessment("2030-12-01", False)],
            id="the next assessment is listed a year before it falls due",
        ),
        pytest.param(
            ASSESSED,
            d("2032-11-20"),
            [assessment("2033-11-20", False)],
            id="after a passed rectification the last assessment counts",
        ),
        pytest.param(
            ASSESSED,
            d("2031-06-14"),
            [rectification("2031-11-20", False)],
            id="an unqualified assessment is followed by twelve months of rectification",
        ),
        # An import of a recognized center.
        pytest.param(
            IMPORTED_RECOGNIZED,
            d("2022-12-31"),
            [],
            id="an imported center owes no assessment before its recorded recognition",
        ),
        pytest.param(
            IMPORTED_RECOGNIZED,
            d("2025-01-10"),
            [assessment("2026-01-10", False)],
            id="an imported center is assessed three years after its recorded recognition",
        ),
    ],
)
def test_obligations_on_a_date_are_what_was_true_on_that_date(
    center: CenterHistory, as_of: date, expected: list[Obligation]
) -> None:
    assert obligations(center, as_of) == expected


@pytest.mark.parametrize(
    ("changes", "as_of", "status"),
    [
        pytest.param(
            (
                change("import", None, "under_construction", "2022-06-01"),
                change("request_acceptance", "under_construction", "acceptance_pending", "2026-03-05"),
                change("record_acceptance", "acceptance_pending", "rectifying", "2026-03-04"),
            ),
            d("2026-03-06"),
            "rectifying",
            id="a verdict dated back outranks the request recorded before it",
        ),
        pytest.param(
            (
                change("import", None, "under_construction", "2022-06-01"),
                change("request_acceptance", "under_construction", "acceptance_pending", "2026-03-05"),
                change("record_acceptance", "acceptance_pending", "rectifying", "2026-03-04"),
            ),
            d("2026-03-03"),
            "under_construction",
            id="before every change the first status holds",
        ),
        pytest.param(
            (
                change("approve", None, "approved", "2022-06-01"),
                change("sign_task_book", "approved", "under_construction", "2022-12-01"),
            ),
            d("2022-11-30"),
            "approved",
            id="a task book signed ahead takes effect on its start date",
        ),
        pytest.param(
            (
                change("import", None, "under_construction", "2022-06-01"),
                change("revoke", "under_construction", "revoked", "2027-06-01"),
            ),
            d("2027-05-31"),
            "under_construction",
            id="a revocation is not in force the day before its decision date",
        ),
        pytest.param(
            (
                change("import", None, "under_construction", "2022-06-01"),
                change("update", "under_construction", "under_construction", "2027-05-01"),
                change("revoke", "under_construction", "revoked", "2027-06-01"),
            ),
            d("2027-06-01"),
            "revoked",
            id="a revocation is in force on its decision date",
        ),
    ],
)
def test_the_status_in_force_is_the_last_recorded_change_effective_by_then(
    changes: tuple[CenterChange, ...], as_of: date, status: str
) -> None:
    center = center_on(history(*changes), as_of)
    assert center is not None
    assert center.status == status


def test_a_center_as_it_stood_carries_the_dates_in_force_then() -> None:
    assert center_on(replace(ASSESSED, reports=ASSESSED.reports[:6]), d("2031-01-05")) == CenterOnDate(
        center_id="c1",
        status="rectifying",
        approved_on=d("2021-08-11"),
        construction_ends_on=d("2024-09-30"),
        recognized_on=d("2025-02-10"),
        rectifying_kind="assessment",
        rectification_due_on=d("2031-11-20"),
        last_assessed_on=d("2030-11-20"),
        ended_on=None,
        submitted_report_years=frozenset(range(2021, 2027)),
    )


def test_a_center_did_not_stand_before_its_approval() -> None:
    assert center_on(APPROVED_2026, d("2026-01-14")) is None


@pytest.mark.parametrize(
    ("kind", "started_on", "due_on"),
    [
        pytest.param("acceptance", d("2026-01-20"), d("2026-04-20"), id="three months after a failed acceptance"),
        pytest.param("acceptance", d("2025-11-30"), d("2026-02-28"), id="clamped to the end of february"),
        pytest.param("assessment", d("2030-11-20"), d("2031-11-20"), id="twelve months after an assessment"),
        pytest.param("unknown", d("2030-11-20"), None, id="no deadline for an unknown kind"),
    ],
)
def test_a_rectification_ends_by_its_kind(kind: str, started_on: date, due_on: date | None) -> None:
    assert rectification_due_on(kind, started_on) == due_on


def test_a_centers_obligations_are_placed_by_kind_then_period() -> None:
    def item(kind: str, year: int | None) -> Obligation:
        return Obligation("c", kind, year, date(2027, 1, 31), overdue=False)

    listed = [
        item("assessment", None),
        item("rectification", None),
        item("annual_report", 2026),
        item("acceptance", None),
        item("annual_report", 2025),
    ]
    ordered = sorted(listed, key=order_in_center)
    assert [(i.kind, i.period_year) for i in ordered] == [
        ("annual_report", 2025),
        ("annual_report", 2026),
        ("acceptance", None),
        ("rectification", None),
        ("assessment", None),
    ]
    assert order_in_center(item("acceptance", None)) == (1, 0)
    assert order_in_center(item("annual_report", 2025)) == (0, 2025)
