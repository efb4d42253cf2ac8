"""Hypothesis over the dates and years of every endpoint that takes one (issue 12): whatever the calendar allows —
0001-01-01 to 9999-12-31, years below 1 or past 9999 — the answer is never a 500, a refusal is a 422 problem naming a
field, and afterwards every read still answers.

Hypothesis is synchronous and the app's sessions live on the test's event loop, so the examples run in a worker
thread that hands each request to the loop (as `tests/integration/test_fuzz_contract.py` does); the requests share
the test's rolled-back transaction. `TIC_DATE_FUZZ_EXAMPLES` sets the examples per endpoint (default 12, derandomized).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import hypothesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import strategies as st

from app.api.deps import get_clock
from app.api.problems import PROBLEM_MEDIA_TYPE
from tests.api.helpers import FACTS, FixedClock, application_body, draft, make_world, recommended
from tests.api.test_centers import TASK_BOOK, approved_center
from tests.conftest import TokenFactory
from tests.factories import create_org, credit_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 2)
EXAMPLES = int(os.environ.get("TIC_DATE_FUZZ_EXAMPLES", "12"))

# The edges of every range (app/domain/dates.py) and of the calendar, tried first; then anything the calendar holds.
EDGES = [
    date(1, 1, 1),
    date(1949, 9, 30),
    date(1949, 10, 1),
    date(1999, 12, 31),
    date(2000, 1, 1),
    date(2021, 8, 10),
    date(2021, 8, 11),
    TODAY,
    date(2026, 12, 3),
    date(2031, 12, 31),
    date(2036, 12, 2),
    date(2036, 12, 3),
    date(2100, 12, 31),
    date(2101, 1, 1),
    date(9998, 12, 31),
    date(9999, 12, 31),
]
days = st.one_of(st.sampled_from(EDGES), st.dates()).map(date.isoformat)
years = st.one_of(
    st.sampled_from([0, 1, 1948, 1949, 1999, 2000, 2020, 2021, 2025, 2026, 2031, 2032, 2100, 2101, 9999, 10000]),
    st.integers(min_value=-10, max_value=10_010),
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, SHANGHAI])
).map(datetime.isoformat)


@dataclass(frozen=True)
class Endpoint:
    name: str
    strategy: st.SearchStrategy[Any]
    request: Callable[[Any], tuple[str, str, dict[str, Any] | None]]  # value → (method, url, json body)
    role: str = "province"


@contextmanager
def stopped_clock(app: FastAPI) -> Iterator[None]:
    """The service's clock at noon in Beijing on TODAY, so every range has fixed ends while the examples run."""
    app.dependency_overrides[get_clock] = lambda: FixedClock(
        tz=SHANGHAI, at=datetime.combine(TODAY, time(12), SHANGHAI).astimezone(UTC)
    )
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_clock, None)


def endpoints(ids: dict[str, str]) -> list[Endpoint]:
    center, app_id = f"/api/v1/centers/{ids['center']}", ids["application"]
    cycle = f"/api/v1/assessment-cycles/{ids['cycle']}"

    def import_center(d: tuple[str, str, str, str]) -> tuple[str, str, dict[str, Any]]:
        approved, starts, ends, recognized = d
        return (
            "POST",
            "/api/v1/centers/import",
            {
                "name": "河南省某技术创新中心",
                "field": "equipment_manufacturing",
                "lead_org_id": ids["lead"],
                "status": "recognized",
                "approved_on": approved,
                "document_no": "豫科〔2022〕50号",
                "construction_starts_on": starts,
                "construction_ends_on": ends,
                "recognized_on": recognized,
            },
        )

    def center_action(d: tuple[str, str]) -> tuple[str, str, dict[str, Any]]:
        action, decided_on = d
        body: dict[str, Any] = {"decided_on": decided_on, "reason": "原因"}
        body |= {
            "extend": {"months": 6},
            "record_acceptance": {"result": "failed"},
            "recognize": {"document_no": "豫科〔2026〕2号"},
            "record_rectification_review": {"result": "passed"},
            "revoke": {"reason_code": "fraud"},
        }.get(action, {})
        return "POST", f"{center}/{action}", body

    actions = st.sampled_from(
        ["extend", "record_acceptance", "recognize", "record_rectification_review", "revoke", "exit", "sign_task_book"]
    )
    return [
        Endpoint(
            "create organization",
            days,
            lambda d: (
                "POST",
                "/api/v1/organizations",
                {"name": "某公司", "credit_code": credit_code(), "kind": "enterprise", "registered_on": d},
            ),
        ),
        Endpoint(
            "update organization",
            days,
            lambda d: ("PATCH", f"/api/v1/organizations/{ids['org']}", {"registered_on": d}),
        ),
        Endpoint(
            "create call",
            st.tuples(years, days, days),
            lambda d: ("POST", "/api/v1/calls", {"year": d[0], "title": "申报", "opens_on": d[1], "closes_on": d[2]}),
        ),
        Endpoint("list calls", years, lambda y: ("GET", f"/api/v1/calls?year={y}", None)),
        Endpoint(
            "draft application",
            years,
            lambda y: (
                "POST",
                "/api/v1/applications",
                application_body(
                    ids["world"],
                    facts={**FACTS, "major_projects": [{"name": "国家项目", "level": "national", "year": y}]},
                ),
            ),
            role="applicant",
        ),
        Endpoint(
            "approve",
            days,
            lambda d: ("POST", f"/api/v1/applications/{app_id}/approve", {"decision_date": d, "document_no": "豫科"}),
        ),
        Endpoint(
            "return",
            days,
            lambda d: ("POST", f"/api/v1/applications/{app_id}/return", {"reason": "补充", "resubmit_by": d}),
        ),
        Endpoint(
            "site visit",
            days,
            lambda d: (
                "POST",
                f"/api/v1/applications/{ids['recommended']}/site-visits",
                {"visited_on": d, "members": ["张三"], "findings": "核查"},
            ),
        ),
        Endpoint(
            "task book",
            st.tuples(days, days),
            lambda d: (
                "PUT",
                f"/api/v1/centers/{ids['approved']}/task-book",
                {**TASK_BOOK, "starts_on": d[0], "ends_on": d[1]},
            ),
        ),
        Endpoint("import center", st.tuples(days, days, days, days), import_center),
        Endpoint("center action", st.tuples(actions, days), center_action),
        Endpoint(
            "annual report",
            years,
            lambda y: (
                "POST",
                f"{center}/annual-reports",
                {"period_year": y, "summary": "总结", "kpi_actuals": {}, "plan_next_year": "计划"},
            ),
            role="applicant",
        ),
        Endpoint(
            "assessment cycle",
            st.tuples(years, years),
            lambda y: (
                "POST",
                "/api/v1/assessment-cycles",
                {"year": y[0], "period_start_year": y[1], "period_end_year": y[1] + 2},
            ),
        ),
        Endpoint("finalize", days, lambda d: ("POST", f"{cycle}/finalize", {"decided_on": d})),
        Endpoint(
            "funding",
            years,
            lambda y: (
                "POST",
                f"{center}/funding",
                {"kind": "construction", "amount_wan": "1.00", "year": y, "decision_ref": "豫科"},
            ),
        ),
        Endpoint("funding summary", years, lambda y: ("GET", f"/api/v1/funding/summary?year={y}", None)),
        Endpoint("obligations", days, lambda d: ("GET", f"/api/v1/obligations?as_of={d}", None), role="observer"),
        Endpoint(
            "obligations of a lead", days, lambda d: ("GET", f"/api/v1/obligations?as_of={d}", None), role="applicant"
        ),
        Endpoint(
            "incremental sync",
            instants,
            lambda t: ("GET", str(httpx.URL("/api/v1/centers", params={"updated_since": t})), None),
        ),
    ]


def explore(
    loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient, headers: dict[str, dict[str, str]], ids: dict[str, Any]
) -> list[str]:
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )

    def probe(endpoint: Endpoint) -> Callable[[], None]:
        @settings
        @hypothesis.given(value=endpoint.strategy)
        def run(value: Any) -> None:
            method, url, body = endpoint.request(value)
            call = client.request(method, url, json=body, headers=headers[endpoint.role])
            response = asyncio.run_coroutine_threadsafe(call, loop).result(timeout=60)
            assert response.status_code < 500, f"{method} {url} {body} → {response.status_code} {response.text}"
            if response.status_code == 422:
                assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
                problem = response.json()
                assert problem["code"] == "validation-failed", problem
                assert problem["errors"], problem
                assert all(e["loc"][0] in ("body", "query") and len(e["loc"]) > 1 for e in problem["errors"]), problem

        return run

    failures = []
    for endpoint in endpoints(ids):
        try:
            probe(endpoint)()
        except (Exception, BaseExceptionGroup) as exc:  # one report per endpoint, then the next
            failures.append(f"{endpoint.name}: {exc}")
    return failures


async def test_no_date_or_year_the_calendar_holds_makes_any_endpoint_fail(
    client: httpx.AsyncClient, app: FastAPI, auth: TokenFactory
) -> None:
    _, approved = await approved_center(client, auth)  # reviewed on its own clock, before ours stops
    world = await make_world(client, auth)
    province = world.province
    application = await draft(client, world)
    under_recommendation = await recommended(client, world)
    imported = await client.post(
        "/api/v1/centers/import",
        json={
            "name": "河南省某技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": world.lead["id"],
            "status": "under_construction",
            "approved_on": "2022-06-01",
            "document_no": "豫科〔2022〕50号",
            "construction_starts_on": "2022-12-01",
            "task_book": TASK_BOOK,
        },
        headers=province,
    )
    assert imported.status_code == 201, imported.text
    cycle = await client.post(
        "/api/v1/assessment-cycles",
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025},
        headers=province,
    )
    assert cycle.status_code == 201, cycle.text
    other = await create_org(client, province)
    ids: dict[str, Any] = {
        "world": world,
        "lead": world.lead["id"],
        "org": other["id"],
        "application": application["id"],
        "recommended": under_recommendation["id"],
        "approved": approved["id"],
        "center": imported.json()["id"],
        "cycle": cycle.json()["id"],
    }
    headers = {"province": province, "applicant": world.applicant, "observer": auth("observer")}
    with stopped_clock(app):
        failures = await asyncio.to_thread(explore, asyncio.get_running_loop(), client, headers, ids)
        assert not failures, f"{len(failures)} failing endpoints:\n\n" + "\n\n".join(failures)
        # Whatever was accepted, every read still answers, for everyone.
        for path in (
            "/api/v1/centers",
            f"/api/v1/centers/{ids['center']}",
            f"/api/v1/centers/{ids['center']}/actions",
            f"/api/v1/obligations?as_of={TODAY.isoformat()}",
            "/api/v1/exports/centers",
        ):
            for role in ("province", "applicant", "observer"):
                response = await client.get(path, headers=headers[role])
                assert response.status_code == 200, (path, role, response.text)
