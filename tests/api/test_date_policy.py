"""One date policy at the edge (issue 12): a valid but absurd date is a 422 naming its field, never a 201 that breaks
later reads and never a 500; and a date stored before the policy existed breaks no listing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import get_clock
from tests.api.helpers import FixedClock, locs, make_world, problem, recommended
from tests.conftest import TokenFactory
from tests.factories import create_org

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 2)


@pytest.fixture
def today(app: FastAPI) -> Iterator[date]:
    """The service's clock stopped at noon in Beijing on TODAY, so every range below has fixed ends."""
    app.dependency_overrides[get_clock] = lambda: FixedClock(
        tz=SHANGHAI, at=datetime.combine(TODAY, time(12), SHANGHAI).astimezone(UTC)
    )
    yield TODAY
    app.dependency_overrides.pop(get_clock, None)


def import_body(lead_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "河南省某技术创新中心",
        "field": "equipment_manufacturing",
        "lead_org_id": lead_id,
        "status": "under_construction",
        "approved_on": "2022-06-01",
        "document_no": "豫科〔2022〕50号",
        "construction_starts_on": "2022-12-01",
        **overrides,
    }


# --- the hostile tester's reproductions ------------------------------------------------------------------------


async def test_obligations_as_of_the_year_9999_are_refused_naming_the_query_field(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    body = problem(
        await client.get("/api/v1/obligations", params={"as_of": "9999-12-31"}, headers=auth("observer")),
        422,
        "validation-failed",
    )
    assert locs(body) == [["query", "as_of"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"construction_ends_on": "9999-12-31"}, "construction_ends_on", id="长期 as 9999-12-31"),
        pytest.param(
            {"approved_on": "9998-06-01", "construction_starts_on": "9998-07-01"}, "approved_on", id="approved in 9998"
        ),
        pytest.param(
            {"approved_on": "9999-03-01", "construction_starts_on": "9999-03-01"}, "approved_on", id="approved in 9999"
        ),
        pytest.param(
            {"approved_on": "0001-01-01", "construction_starts_on": "0001-01-01"},
            "approved_on",
            id="approved in year 1",
        ),
        pytest.param({"construction_starts_on": "2090-01-01"}, "construction_starts_on", id="starts in 2090"),
        pytest.param({"construction_ends_on": "2032-12-02"}, "construction_ends_on", id="more than 10 years"),
        pytest.param({"construction_ends_on": "2022-12-01"}, "construction_ends_on", id="ends the day it starts"),
        pytest.param({"status": "recognized", "recognized_on": "9999-12-31"}, "recognized_on", id="recognized in 9999"),
        pytest.param({"status": "recognized", "recognized_on": "2022-05-31"}, "recognized_on", id="before approval"),
        pytest.param({"status": "recognized"}, "recognized_on", id="recognized without a date"),
    ],
)
async def test_an_import_with_an_absurd_date_is_a_422_on_that_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: TokenFactory, today: date, overrides: dict[str, Any], field: str
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    response = await client.post("/api/v1/centers/import", json=import_body(lead["id"], **overrides), headers=province)
    body = problem(response, 422, "validation-failed")
    assert ["body", field] in locs(body), body
    assert (await client.get("/api/v1/centers", headers=province)).json()["items"] == []
    everyone = await client.get("/api/v1/obligations", params={"as_of": TODAY.isoformat()}, headers=province)
    assert everyone.status_code == 200, everyone.text


async def test_a_center_stored_with_9999_and_year_1_dates_breaks_no_read(
    client: httpx.AsyncClient, auth: TokenFactory, session: AsyncSession, today: date
) -> None:
    """Rows written before the policy existed (or by hand) still list: the deadline arithmetic saturates."""
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    applicant = auth("applicant", org_id=lead["id"])
    created = await client.post("/api/v1/centers/import", json=import_body(lead["id"]), headers=province)
    assert created.status_code == 201, created.text
    center_id = created.json()["id"]
    await session.execute(
        text(
            "UPDATE centers SET approved_on = '0001-01-01', construction_starts_on = '0001-01-01',"
            " construction_ends_on = '9999-12-31' WHERE id = :id"
        ),
        {"id": center_id},
    )
    for path in (
        "/api/v1/centers",
        f"/api/v1/centers/{center_id}",
        f"/api/v1/centers/{center_id}/actions",
        f"/api/v1/obligations?as_of={TODAY.isoformat()}",
        f"/api/v1/obligations?as_of={(TODAY + timedelta(days=3650)).isoformat()}",
    ):
        for headers in (province, applicant, auth("observer")):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
    owed = (await client.get(f"/api/v1/obligations?as_of={TODAY.isoformat()}", headers=province)).json()["items"]
    # Reports from 2000 (the earliest the policy accepts) to last year, not 2,025 of them since year 1.
    assert [o["period_year"] for o in owed if o["kind"] == "annual_report"] == list(range(2000, TODAY.year))


async def test_a_decision_before_the_notice_or_after_today_is_refused_at_the_edge(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    center = (
        await client.post(
            "/api/v1/centers/import",
            json=import_body(lead["id"], approved_on="2019-06-01", construction_starts_on="2019-07-01"),
            headers=province,
        )
    ).json()
    for decided_on in ("0001-01-01", "2021-08-10", "2026-12-03", "9999-12-31"):
        response = await client.post(
            f"/api/v1/centers/{center['id']}/revoke",
            json={"reason_code": "fraud", "reason": "弄虚作假", "decided_on": decided_on},
            headers=province,
        )
        assert locs(problem(response, 422, "validation-failed")) == [["body", "decided_on"]], decided_on
    still = (await client.get(f"/api/v1/centers/{center['id']}", headers=province)).json()
    assert still["status"] == "under_construction"
    revoked = await client.post(
        f"/api/v1/centers/{center['id']}/revoke",
        json={"reason_code": "fraud", "reason": "弄虚作假", "decided_on": "2021-08-11"},
        headers=province,
    )
    assert revoked.status_code == 200, revoked.text


async def test_an_extension_decided_in_year_1_is_refused(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    center = (
        await client.post(
            "/api/v1/centers/import",
            json=import_body(
                lead["id"],
                approved_on="2021-06-01",
                construction_starts_on="2024-01-01",
                construction_ends_on="2027-06-30",
            ),
            headers=province,
        )
    ).json()
    applicant = auth("applicant", org_id=lead["id"])
    asked = await client.post(
        f"/api/v1/centers/{center['id']}/request_extension",
        json={"months": 6, "reason": "设备到货延迟"},
        headers=applicant,
    )
    assert asked.status_code == 200, asked.text
    response = await client.post(
        f"/api/v1/centers/{center['id']}/extend",
        json={"months": 6, "reason": "同意", "decided_on": "0001-01-01"},
        headers=province,
    )
    assert locs(problem(response, 422, "validation-failed")) == [["body", "decided_on"]]


@pytest.mark.parametrize(
    ("registered_on", "status"),
    [
        ("9999-12-31", 422),
        ("2026-12-03", 422),  # tomorrow in Beijing
        ("1949-09-30", 422),
        ("1949-10-01", 201),
        ("2026-12-02", 201),
    ],
)
async def test_an_organization_is_registered_between_1949_10_01_and_today(
    client: httpx.AsyncClient, auth: TokenFactory, today: date, registered_on: str, status: int
) -> None:
    from tests.factories import credit_code

    province = auth("province")
    body = {"name": "某公司", "credit_code": credit_code(), "kind": "enterprise", "registered_on": registered_on}
    response = await client.post("/api/v1/organizations", json=body, headers=province)
    assert response.status_code == status, response.text
    if status == 422:
        assert locs(response.json()) == [["body", "registered_on"]]
    org = await create_org(client, province)
    patched = await client.patch(
        f"/api/v1/organizations/{org['id']}", json={"registered_on": registered_on}, headers=province
    )
    assert patched.status_code == (200 if status == 201 else 422), patched.text


# --- every other date and year by its meaning ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"year": 2020}, "year"),
        ({"year": 2032}, "year"),
        ({"opens_on": "0001-01-01"}, "opens_on"),
        ({"opens_on": "2021-08-10"}, "opens_on"),
        ({"closes_on": "2032-01-01"}, "closes_on"),
        ({"closes_on": "9999-12-31"}, "closes_on"),
    ],
)
async def test_a_call_lies_between_the_notice_and_five_years_ahead(
    client: httpx.AsyncClient, auth: TokenFactory, today: date, overrides: dict[str, Any], field: str
) -> None:
    body = {"year": 2026, "title": "申报通知", "opens_on": "2026-03-01", "closes_on": "2026-04-30", **overrides}
    response = await client.post("/api/v1/calls", json=body, headers=auth("province"))
    assert ["body", field] in locs(problem(response, 422, "validation-failed"))
    at_the_ends = {**body, "year": 2031, "opens_on": "2021-08-11", "closes_on": "2031-12-31"}
    assert (await client.post("/api/v1/calls", json=at_the_ends, headers=auth("province"))).status_code == 201
    listed = await client.get("/api/v1/calls", params={"year": 9999}, headers=auth("province"))
    assert locs(problem(listed, 422, "validation-failed")) == [["query", "year"]]


async def test_a_site_visit_is_dated_between_the_notice_and_today(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    world = await make_world(client, auth)
    application = await recommended(client, world)
    path = f"/api/v1/applications/{application['id']}/site-visits"
    for visited_on, status in (("9999-12-31", 422), ("2026-12-03", 422), ("2021-08-10", 422), ("2026-12-02", 201)):
        response = await client.post(
            path, json={"visited_on": visited_on, "members": ["张三"], "findings": "现场核查"}, headers=world.province
        )
        assert response.status_code == status, response.text
        if status == 422:
            assert locs(response.json()) == [["body", "visited_on"]]


async def test_an_application_site_visits_are_capped_at_twenty(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    world = await make_world(client, auth)
    application = await recommended(client, world)
    path = f"/api/v1/applications/{application['id']}/site-visits"
    body = {"visited_on": "2026-12-01", "members": ["张三"], "findings": "现场核查"}
    for _ in range(20):
        assert (await client.post(path, json=body, headers=world.province)).status_code == 201
    refused = problem(await client.post(path, json=body, headers=world.province), 409, "rule-violation")
    assert (refused["rule"], refused["max_site_visits"]) == ("site-visits-limit", 20)


async def test_a_task_book_starts_within_ten_years_and_lasts_at_most_ten(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    from tests.api.test_centers import TASK_BOOK, approved_center

    w, center = await approved_center(client, auth)
    path = f"/api/v1/centers/{center['id']}/task-book"
    horizon = date.today().replace(year=date.today().year + 11).isoformat()
    for book, field in (
        ({**TASK_BOOK, "starts_on": horizon, "ends_on": None}, "starts_on"),
        ({**TASK_BOOK, "starts_on": "2026-09-01", "ends_on": "9999-12-31"}, "ends_on"),
        ({**TASK_BOOK, "starts_on": "2026-09-01", "ends_on": "2036-09-02"}, "ends_on"),
    ):
        response = await client.put(path, json=book, headers=w["province"])
        assert ["body", field] in locs(problem(response, 422, "validation-failed")), book


async def test_finalizing_a_cycle_on_an_absurd_day_is_a_422_not_a_500(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    cycle = await client.post(
        "/api/v1/assessment-cycles",
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025},
        headers=province,
    )
    assert cycle.status_code == 201, cycle.text
    for decided_on in ("9999-12-31", "2026-12-03", "0001-01-01"):
        response = await client.post(
            f"/api/v1/assessment-cycles/{cycle.json()['id']}/finalize",
            json={"decided_on": decided_on},
            headers=province,
        )
        assert locs(problem(response, 422, "validation-failed")) == [["body", "decided_on"]]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/assessment-cycles", {"year": 2032, "period_start_year": 2029, "period_end_year": 2031}, "year"),
        ("/api/v1/assessment-cycles", {"year": 2020, "period_start_year": 2017, "period_end_year": 2019}, "year"),
        ("/api/v1/assessment-cycles", {"year": 2026, "period_start_year": 1999, "period_end_year": 2001}, None),
        # Before the period ends, or not three years long: the last field of the three is named.
        (
            "/api/v1/assessment-cycles",
            {"year": 2024, "period_start_year": 2023, "period_end_year": 2025},
            "period_end_year",
        ),
        (
            "/api/v1/assessment-cycles",
            {"year": 2026, "period_start_year": 2022, "period_end_year": 2025},
            "period_end_year",
        ),
    ],
)
async def test_a_cycle_year_is_a_programme_year_and_its_period_starts_no_earlier_than_2000(
    client: httpx.AsyncClient, auth: TokenFactory, today: date, path: str, body: dict[str, Any], field: str | None
) -> None:
    response = await client.post(path, json=body, headers=auth("province"))
    found = locs(problem(response, 422, "validation-failed"))
    assert (["body", field] in found) if field else (["body", "period_start_year"] in found)


async def test_funding_years_and_report_years_have_plausible_ranges(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    center = (await client.post("/api/v1/centers/import", json=import_body(lead["id"]), headers=province)).json()
    funding = {"kind": "construction", "amount_wan": "100.00", "decision_ref": "豫科〔2026〕1号"}
    for year, status in ((2032, 422), (1999, 422), (2031, 201)):
        response = await client.post(
            f"/api/v1/centers/{center['id']}/funding", json={**funding, "year": year}, headers=province
        )
        assert response.status_code == status, response.text
    summary = await client.get("/api/v1/funding/summary", params={"year": 10000}, headers=province)
    assert locs(problem(summary, 422, "validation-failed")) == [["query", "year"]]
    applicant = auth("applicant", org_id=lead["id"])
    report = {"summary": "总结", "kpi_actuals": {}, "plan_next_year": "计划"}
    for year in (2026, 9999):
        response = await client.post(
            f"/api/v1/centers/{center['id']}/annual-reports", json={**report, "period_year": year}, headers=applicant
        )
        assert locs(problem(response, 422, "validation-failed")) == [["body", "period_year"]]


async def test_an_application_approved_before_the_notice_is_refused(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await make_world(client, auth)
    application = await recommended(client, world)
    response = await client.post(
        f"/api/v1/applications/{application['id']}/approve",
        json={"decision_date": "2021-08-10", "document_no": "豫科〔2021〕1号"},
        headers=world.province,
    )
    assert locs(problem(response, 422, "validation-failed")) == [["body", "decision_date"]]
