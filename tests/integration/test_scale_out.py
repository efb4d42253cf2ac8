"""Scale-out (issue 8): two service processes against one database; of concurrent transitions spread over both,
exactly one wins, and the feed stays gap-free and verifiable (one of the two sequences it, issue 14)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import FACTS, PLAN
from tests.conftest import SECRET
from tests.factories import credit_code

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.race


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_services(database_url: str) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "TIC_DATABASE_URL": database_url,
        "TIC_AUTH_SECRET": SECRET,
        "TIC_LOG_LEVEL": "WARNING",
        "TIC_ENVIRONMENT": "test",
    }
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "a service process did not become ready"
                time.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
async def clients(two_services: list[str], committed_client: httpx.AsyncClient) -> AsyncIterator[list[Any]]:
    # committed_client only lends its clean-up: every table is emptied after the test.
    async with (
        httpx.AsyncClient(base_url=two_services[0], timeout=30) as a,
        httpx.AsyncClient(base_url=two_services[1], timeout=30) as b,
    ):
        yield [a, b]


async def test_two_processes_let_exactly_one_of_32_concurrent_recommends_win(clients: list[Any], auth: Any) -> None:
    first, second = clients
    province = auth("province")

    async def org(**body: Any) -> dict[str, Any]:
        response = await first.post(
            "/api/v1/organizations",
            headers=province,
            json={"name": "单位", "credit_code": credit_code(), "kind": "enterprise", **body},
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    department = await org(kind="department")
    lead = await org(is_leading_enterprise=True, supervisor_id=department["id"], registered_on="2010-01-01")
    university = await org(kind="university")
    call = (
        await second.post(
            "/api/v1/calls",
            headers=province,
            json={
                "year": 2026,
                "title": "申报",
                "opens_on": "2021-08-11",
                "closes_on": f"{date.today().year + 1}-12-31",
            },
        )
    ).json()
    assert (await first.post(f"/api/v1/calls/{call['id']}/publish", headers=province)).status_code == 200
    applicant = auth("applicant", org_id=lead["id"])
    application = (
        await second.post(
            "/api/v1/applications",
            headers=applicant,
            json={
                "call_id": call["id"],
                "proposed_name": "中心",
                "field": "equipment_manufacturing",
                "formation_mode": "enterprise_led",
                "participants": [{"org_id": university["id"]}],
                "plan": PLAN,
                "facts": FACTS,
            },
        )
    ).json()
    submitted = await first.post(f"/api/v1/applications/{application['id']}/submit", headers=applicant)
    assert submitted.status_code == 200, submitted.text

    supervisor = auth("supervisor", org_id=department["id"])
    responses = await asyncio.gather(
        *(
            clients[i % 2].post(f"/api/v1/applications/{application['id']}/recommend", headers=supervisor)
            for i in range(32)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 1, codes
    assert codes.count(409) == 31, codes
    assert all(r.json()["code"] == "invalid-transition" for r in responses if r.status_code == 409)

    observer = auth("observer")
    # The events reach the feed when the leader among the two processes has sequenced them, moments after commit.
    recommended = 0
    for _ in range(200):
        events = (await second.get("/api/v1/events", params={"limit": 1000}, headers=observer)).json()["items"]
        recommended = sum(1 for e in events if e["type"] == "application.recommended")
        if recommended:
            break
        await asyncio.sleep(0.05)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert recommended == 1
    verified = (await first.get("/api/v1/events/verify", headers=observer)).json()
    assert verified == {**verified, "ok": True, "checked": len(events), "first_bad_seq": None, "tree_ok": True}
    assert verified["tree_size"] == len(events)
