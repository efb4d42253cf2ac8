"""Dates at the edge (issue 12): each date or year a request carries says what it means, and the plausible range of
that meaning (`app.domain.dates`) is checked while the request is validated, so an implausible value answers 422
`validation-failed` naming its field — in the body or in the query string — before any use case runs.

A range reaches from today on the programme's calendar, and today comes from the clock dependency (which tests pin).
So the v1 router depends on `bind_request_day`, which hands the clock's today to the validators of this request:
FastAPI solves a route's dependencies before it validates the query string and the body. Outside a request, or
before the day is bound, only the fixed part of each range applies (`app.domain.dates.LATEST` as the latest date).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from app.api.deps import ClockDep, IsoDate
from app.domain import dates

# Set once per request, before validation, by the router-level dependency below; read only by the validators here.
_request_day: ContextVar[date | None] = ContextVar("tic_request_day", default=None)


async def bind_request_day(clock: ClockDep) -> None:
    """Make today (Asia/Shanghai, from the request's clock) the day this request's dates are judged on."""
    _request_day.set(clock.today())


def request_day() -> date | None:
    return _request_day.get()


def _date_check(meaning: dates.DateRange) -> Callable[[date], date]:
    def check(value: date) -> date:
        problem = meaning.problem(value, _request_day.get())
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


def _year_check(meaning: dates.YearRange) -> Callable[[int], int]:
    def check(value: int) -> int:
        problem = meaning.problem(value, _request_day.get())
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


def dated(meaning: dates.DateRange) -> Any:
    """A `YYYY-MM-DD` date in the range of `meaning`; the OpenAPI description states the range."""
    return Annotated[
        IsoDate,
        AfterValidator(_date_check(meaning)),
        Field(description=meaning.describe()),
    ]


def year_of(meaning: dates.YearRange) -> Any:
    """A year in the range of `meaning`; the schema carries the fixed bounds, the description the whole range."""
    return Annotated[
        int,
        Field(ge=meaning.first, le=dates.LATEST.year, description=meaning.describe()),
        AfterValidator(_year_check(meaning)),
    ]


RegistrationDate = dated(dates.REGISTRATION)
DecisionDate = dated(dates.DECISION)
SiteVisitDate = dated(dates.SITE_VISIT)
RecordedDecisionDate = dated(dates.RECORDED_DECISION)
ConstructionStart = dated(dates.CONSTRUCTION_START)
ConstructionEnd = dated(dates.CONSTRUCTION_END)
CallDate = dated(dates.CALL_WINDOW)
AsOfDate = dated(dates.AS_OF)
EmploymentEndDate = dated(dates.EMPLOYMENT_END)

ProgrammeYear = year_of(dates.PROGRAMME_YEAR)
FundingYear = year_of(dates.FUNDING_YEAR)
PeriodYear = year_of(dates.PERIOD_YEAR)
ReportYear = year_of(dates.REPORT_YEAR)
ProjectYear = year_of(dates.PROJECT_YEAR)
