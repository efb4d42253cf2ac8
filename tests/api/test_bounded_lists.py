"""Bounded work everywhere (issue 12): every list is a page of at most 200 items with a cursor to the rest, or is
bounded by nature; the worst request to each list stays small and quick, and `/healthz` stays quick meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

from app.api.deps import get_clock
from tests.api.helpers import FixedClock, draft, expert, locs, make_world, other_lead, problem, reviewed
from tests.conftest import TokenFactory
from tests.factories import create_org

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 2)
HORIZON = date(2036, 12, 2)  # ten years after TODAY: the latest `as_of`
# Lists that are not pages, and why they are bounded whatever the data.
BOUNDED_BY_NATURE = {
    "/api/v1/reference/state-machines": "the lifecycle tables compiled into the code",
    "/api/v1/reference/assessment-schemes": "the assessment schemes compiled into the code",
    "/api/v1/reference/attachment-kinds": "a code table compiled into the code",
    "/api/v1/applications/{application_id}/actions": "the actions of one lifecycle",
    "/api/v1/centers/{center_id}/actions": "the actions of one lifecycle",
    "/api/v1/centers/{center_id}/annual-reports/{report_id}/actions": "the actions of one lifecycle",
    "/api/v1/centers/{center_id}/change-requests/{request_id}/actions": "the actions of one lifecycle",
    "/api/v1/assessment-cycles/{cycle_id}/actions": "the actions of one lifecycle",
}


@pytest.fixture
def today(app: FastAPI) -> Iterator[date]:
    app.dependency_overrides[get_clock] = lambda: FixedClock(
        tz=SHANGHAI, at=datetime.combine(TODAY, clock_time(12), SHANGHAI).astimezone(UTC)
    )
    yield TODAY
    app.dependency_overrides.pop(get_clock, None)


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def old_centers(
    client: httpx.AsyncClient, province: dict[str, str], lead_id: str, n: int, **overrides: Any
) -> list[dict[str, Any]]:
    """Centers on paper since 2000, built 2000–2002 and never accepted: each owes a report for every year since."""
    return [
        await post(
            client,
            "/api/v1/centers/import",
            {
                "name": f"河南省老中心{i}",
                "field": "equipment_manufacturing",
                "lead_org_id": lead_id,
                "status": "under_construction",
                "approved_on": "2000-01-01",
                "document_no": f"豫科〔2000〕{i}号",
                "construction_starts_on": "2000-01-01",
                "construction_ends_on": "2002-12-31",
                **overrides,
            },
            province,
        )
        for i in range(n)
    ]


async def history_of_updates(client: httpx.AsyncClient, center_id: str, province: dict[str, str], n: int) -> None:
    for i in range(n):
        response = await client.patch(
            f"/api/v1/centers/{center_id}", json={"governance": {"board": [f"理事{i}"]}}, headers=province
        )
        assert response.status_code == 200, response.text


# --- obligations: a page at a time -----------------------------------------------------------------------------


async def test_obligations_come_a_page_at_a_time_and_the_pages_add_up_to_the_whole_list(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    centers = await old_centers(client, province, lead["id"], 3)
    as_of = "2030-06-01"
    whole = (await client.get("/api/v1/obligations", params={"as_of": as_of, "limit": 200}, headers=province)).json()
    assert (whole["as_of"], whole["next_cursor"]) == (as_of, None)
    # Per center: reports 2000-2029 and the overdue acceptance.
    assert len(whole["items"]) == 3 * 31
    codes = {c["id"]: c["code"] for c in centers}
    assert [codes[i["center_id"]] for i in whole["items"]] == sorted(codes[i["center_id"]] for i in whole["items"])
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"as_of": as_of, "limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/obligations", params=params, headers=province)).json()
        assert len(page["items"]) <= 7
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item for items in pages for item in items] == whole["items"]
    assert len(pages) == -(-len(whole["items"]) // 7)


async def test_obligation_filters_page_through_the_items_they_keep(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    centers = await old_centers(client, province, lead["id"], 3)
    seen, cursor = [], None
    while True:
        params = {"as_of": "2026-12-02", "kind": "acceptance", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/obligations", params=params, headers=province)).json()
        seen += [(i["center_id"], i["kind"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted((c["id"], "acceptance") for c in centers)


async def test_an_applicant_pages_through_its_own_obligations_only(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    mine = await create_org(client, province, is_leading_enterprise=True)
    other = await create_org(client, province, is_leading_enterprise=True)
    await old_centers(client, province, mine["id"], 1)
    await old_centers(client, province, other["id"], 1)
    applicant = auth("applicant", org_id=mine["id"])
    params = {"as_of": HORIZON.isoformat(), "limit": 200}
    page = (await client.get("/api/v1/obligations", params=params, headers=applicant)).json()
    assert len(page["items"]) == 2036 - 2000 + 1
    assert {i["center_id"] for i in page["items"]} == {c["id"] for c in (await _centers_of(client, applicant))}


async def _centers_of(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list((await client.get("/api/v1/centers", headers=headers)).json()["items"])


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "WyJjZW50ZXItaGlzdG9yeSIsIDFd",  # ["center-history", 1]: another list's cursor
        "WyJvYmxpZ2F0aW9ucyIsICJ4IiwgInkiLCAwXQ",  # ["obligations", "x", "y", 0]: wrong types
        "WyJvYmxpZ2F0aW9ucyIsICJ4IiwgdHJ1ZSwgMF0",  # ["obligations", "x", true, 0]: a boolean is no position
    ],
)
async def test_a_damaged_or_foreign_cursor_is_a_422_on_the_cursor(
    client: httpx.AsyncClient, auth: TokenFactory, cursor: str
) -> None:
    response = await client.get(
        "/api/v1/obligations", params={"as_of": "2026-01-01", "cursor": cursor}, headers=auth("province")
    )
    assert locs(problem(response, 422, "validation-failed")) == [["query", "cursor"]]


@pytest.mark.parametrize(("as_of", "status"), [(HORIZON.isoformat(), 200), ("2036-12-03", 422), ("1949-09-30", 422)])
async def test_obligations_are_asked_about_days_from_1949_10_01_to_ten_years_ahead(
    client: httpx.AsyncClient, auth: TokenFactory, today: date, as_of: str, status: int
) -> None:
    response = await client.get("/api/v1/obligations", params={"as_of": as_of}, headers=auth("observer"))
    assert response.status_code == status, response.text


# --- histories and a cycle's lists: pages too ------------------------------------------------------------------


async def test_a_long_center_history_comes_a_page_at_a_time(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    (center,) = await old_centers(client, province, lead["id"], 1)
    await history_of_updates(client, center["id"], province, 25)
    path = f"/api/v1/centers/{center['id']}/history"
    first = (await client.get(path, params={"limit": 20}, headers=province)).json()
    assert len(first["items"]) == 20
    assert first["items"][0]["action"] == "import"
    rest = (await client.get(path, params={"limit": 20, "cursor": first["next_cursor"]}, headers=province)).json()
    assert (len(rest["items"]), rest["next_cursor"]) == (6, None)
    assert [h["action"] for h in first["items"] + rest["items"]].count("update") == 25
    assert len((await client.get(path, headers=province)).json()["items"]) == 26  # 50 by default


async def test_an_application_history_pages_by_recording_order(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    world = await make_world(client, auth)
    application = await draft(client, world)
    for i in range(4):
        response = await client.patch(
            f"/api/v1/applications/{application['id']}", json={"proposed_name": f"中心{i}"}, headers=world.applicant
        )
        assert response.status_code == 200, response.text
    path = f"/api/v1/applications/{application['id']}/history"
    actions, cursor = [], None
    while True:
        page = (
            await client.get(
                path, params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=world.province
            )
        ).json()
        actions += [h["action"] for h in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    whole = (await client.get(path, headers=world.province)).json()["items"]
    assert actions == [h["action"] for h in whole]
    assert actions[0] == "create"


async def test_a_cycle_results_come_a_page_at_a_time_by_center_code(
    client: httpx.AsyncClient, auth: TokenFactory, today: date
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    await old_centers(client, province, lead["id"], 3, status="recognized", recognized_on="2010-01-01")
    cycle = await post(
        client,
        "/api/v1/assessment-cycles",
        {"year": 2026, "period_start_year": 2023, "period_end_year": 2025},
        province,
    )
    assert len(cycle["center_ids"]) == 3
    path = f"/api/v1/assessment-cycles/{cycle['id']}/results"
    first = (await client.get(path, params={"limit": 2}, headers=province)).json()
    rest = (await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=province)).json()
    assert (len(first["items"]), len(rest["items"]), rest["next_cursor"]) == (2, 1, None)
    assert {r["center_id"] for r in first["items"] + rest["items"]} == set(cycle["center_ids"])
    candidates = (
        await client.get(f"/api/v1/assessment-cycles/{cycle['id']}/national-candidates", headers=province)
    ).json()
    assert candidates == {"items": [], "next_cursor": None}  # not finalized yet


# --- the worst request to every list ---------------------------------------------------------------------------


async def seeded(client: httpx.AsyncClient, auth: TokenFactory) -> dict[str, str]:
    """Data that makes each list long: old centers owing decades of reports, a long history, a cycle, a webhook."""
    world = await make_world(client, auth)
    province = world.province
    application = await draft(client, world)
    pool_member = await expert(client, province)
    # 6 × 37 obligations on the furthest date: more than one page of 200.
    centers = await old_centers(client, province, world.lead["id"], 6)
    await old_centers(client, province, world.lead["id"], 2, status="recognized", recognized_on="2010-01-01")
    center_id = centers[0]["id"]
    await history_of_updates(client, center_id, province, 3)
    base = f"/api/v1/centers/{center_id}"
    report = await post(
        client,
        f"{base}/annual-reports",
        {"period_year": 2024, "summary": "总结", "kpi_actuals": {}, "plan_next_year": "计划"},
        world.applicant,
    )
    change = await post(
        client, f"{base}/change-requests", {"kind": "director", "new_value": "赵六", "reason": "换届"}, world.applicant
    )
    await post(
        client,
        f"{base}/funding",
        {"kind": "construction", "amount_wan": "100.00", "year": 2001, "decision_ref": "豫科〔2001〕1号"},
        province,
    )
    cycle = await post(
        client,
        "/api/v1/assessment-cycles",
        {"year": 2026, "period_start_year": 2023, "period_end_year": 2025},
        province,
    )
    webhook = await post(client, "/api/v1/webhooks", {"url": "https://example.org/hook"}, province)
    # A reviewed application of another lead, whose 公示 runs when its review concludes (helpers.act).
    _, other = await other_lead(client, world, auth)
    await reviewed(client, replace(world, applicant=other), auth)
    notice = (await client.get("/api/v1/publicity", headers=province)).json()["items"][0]
    return {
        "org_id": world.lead["id"],
        "expert_id": pool_member["id"],
        "call_id": world.call["id"],
        "application_id": application["id"],
        "center_id": center_id,
        "report_id": report["id"],
        "request_id": change["id"],
        "cycle_id": cycle["id"],
        "webhook_id": webhook["id"],
        "publicity_id": notice["id"],
    }


def list_routes(app: FastAPI) -> list[Any]:
    """Every GET under /api/v1 whose answer is a list: a page (`items`) or a JSON array. FastAPI ≥ 0.16x resolves
    included routers lazily, so the routes are walked through their contexts (as in the authorization matrix)."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    out = []
    for route in walk(app.routes) if walk is not None else app.routes:
        path, methods = getattr(route, "path", ""), getattr(route, "methods", None) or set()
        if "GET" not in methods or not path.startswith("/api/v1"):
            continue
        model = getattr(route, "response_model", None)
        if "items" in getattr(model, "model_fields", {}) or getattr(model, "__origin__", None) is list:
            out.append(route)
    return out


# The worst query string each list accepts: the largest page, the furthest date, the widest grouping.
WORST = {
    "/api/v1/obligations": {"as_of": HORIZON.isoformat()},
    "/api/v1/events": {"limit": 1000},
    "/api/v1/stats/centers": {"group_by": "region"},
    "/api/v1/stats/applications": {"group_by": "call_id"},
    "/api/v1/stats/figures": {"group_by": "region"},
}
# Lists answering their own shape: the feed (`next_after`, api.md) and statistics (`total`).
OWN_SHAPE = {"/api/v1/events", "/api/v1/stats/centers", "/api/v1/stats/applications", "/api/v1/stats/figures"}
# Generous, for a loaded CI machine: the failure they catch took seconds (7.9 s, /healthz 7.7 s, issue 12).
MAX_SECONDS = 5.0
HEALTHZ_MAX_SECONDS = 1.0
MAX_BYTES = 2_000_000


async def timed_with_healthz(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, float, float]:
    """The response to `url`, its time, and the slowest `/healthz` answered while it ran (polled all along)."""
    done = asyncio.Event()
    slowest = 0.0

    async def poll() -> None:
        nonlocal slowest
        while not done.is_set():
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(0.002)

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0)
    started = time.perf_counter()
    response = await client.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    done.set()
    await poller
    return response, elapsed, slowest


async def test_the_worst_request_to_every_list_is_bounded_while_healthz_stays_fast(
    client: httpx.AsyncClient, app: FastAPI, auth: TokenFactory, today: date
) -> None:
    ids = await seeded(client, auth)
    province, observer = auth("province"), auth("observer")
    applicant = auth("applicant", org_id=ids["org_id"])
    # An expert's own lists (declared conflicts, issue 17 §1) answer nobody else.
    expert = auth("expert", expert_id=ids["expert_id"])
    routes = list_routes(app)
    assert len(routes) >= 20
    for route in routes:
        if getattr(route.response_model, "__origin__", None) is list:
            assert route.path in BOUNDED_BY_NATURE, f"{route.path} answers a bare list: make it a page"
            continue
        path = route.path.format(**ids)
        params: dict[str, Any] = dict(WORST.get(route.path, {}))
        if route.path not in OWN_SHAPE:
            params["limit"] = 201
            too_many = await client.get(path, params=params, headers=province)
            if too_many.status_code == 404:
                too_many = await client.get(path, params=params, headers=expert)
            assert locs(problem(too_many, 422, "validation-failed")) == [["query", "limit"]], route.path
            params["limit"] = 200
        url = str(httpx.URL(path, params=params))
        for headers in (province, observer, applicant, expert):
            response, elapsed, healthz = await timed_with_healthz(client, url, headers)
            if response.status_code == 404:  # outside this caller's reach
                continue
            assert response.status_code == 200, (url, response.text)
            body = response.json()
            assert len(body["items"]) <= params.get("limit", 1000), url
            if route.path not in OWN_SHAPE:
                assert "next_cursor" in body, url
            assert len(response.content) <= MAX_BYTES, url
            assert elapsed <= MAX_SECONDS, (url, elapsed)
            assert healthz <= HEALTHZ_MAX_SECONDS, (url, healthz)
    # The obligations of the seeded centers fill more than one page at the furthest date.
    first = (await client.get(f"/api/v1/obligations?as_of={HORIZON}&limit=200", headers=observer)).json()
    assert len(first["items"]) == 200
    assert first["next_cursor"] is not None


@pytest.mark.parametrize(
    "url",
    ["/api/v1/exports/centers?format=csv", "/api/v1/exports/centers?format=xlsx", "/api/v1/events/verify"],
)
async def test_exports_and_the_chain_check_do_not_hold_up_healthz(
    client: httpx.AsyncClient, auth: TokenFactory, today: date, url: str
) -> None:
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    await old_centers(client, province, lead["id"], 10)
    response, elapsed, healthz = await timed_with_healthz(client, url, auth("observer"))
    assert response.status_code == 200, response.text
    assert (elapsed <= MAX_SECONDS, healthz <= HEALTHZ_MAX_SECONDS) == (True, True), (elapsed, healthz)


def test_every_list_route_is_known_here(app: FastAPI) -> None:
    """A new list is either a page (and then covered by the worst-case test) or listed as bounded by nature."""
    for route in list_routes(app):
        if getattr(route.response_model, "__origin__", None) is list:
            assert route.path in BOUNDED_BY_NATURE, route.path
