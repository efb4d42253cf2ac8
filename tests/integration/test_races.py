"""Concurrent transitions on real PostgreSQL with real commits (api.md "Concurrency": exactly one wins).

Each request runs in its own connection and transaction; the application row is locked (SELECT ... FOR UPDATE), so
the losers see the winner's state and answer 409. The feed serialises on an advisory lock, so `seq` stays gap-free.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from itertools import pairwise
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import (
    APPROVAL,
    World,
    act,
    criteria_for_total,
    draft,
    experts,
    make_world,
    other_lead,
    put_panel,
    reviewed,
    score,
    submitted,
)
from tests.conftest import TokenFactory

pytestmark = pytest.mark.race

APPS = "/api/v1/applications"
N = 16


async def fire(client: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.post(path, json=body, headers=headers) for _ in range(N))))


def outcome(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


async def assert_feed_is_gap_free(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT seq, prev_hash, hash FROM events ORDER BY seq"))).all()
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    for previous, row in pairwise(rows):
        assert row.prev_hash == previous.hash
    return len(rows)


async def test_exactly_one_of_16_concurrent_recommends_gives_200(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application = await submitted(client, world)

    responses = await fire(client, f"{APPS}/{application['id']}/recommend", world.supervisor)

    assert outcome(responses) == {200: 1, 409: N - 1}, [r.text for r in responses if r.status_code not in (200, 409)]
    for response in responses:
        if response.status_code == 409:
            body = response.json()
            assert body["code"] == "invalid-transition"
            assert body["current_status"] == "recommended"
            assert body["allowed_actions"] == []
    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.province)).json()
    assert [h["action"] for h in history] == ["create", "submit", "recommend"]
    await assert_feed_is_gap_free(engine)


async def test_exactly_one_of_16_concurrent_submissions_gives_200(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application = await draft(client, world)

    responses = await fire(client, f"{APPS}/{application['id']}/submit", world.applicant)

    assert outcome(responses) == {200: 1, 409: N - 1}
    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.province)).json()
    assert [h["action"] for h in history] == ["create", "submit"]
    await assert_feed_is_gap_free(engine)


async def test_mixed_concurrent_decisions_on_one_submission_let_exactly_one_win(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application = await submitted(client, world)
    path = f"{APPS}/{application['id']}"
    # Withdrawal stays out of the mix: after a `return` it is legitimately allowed, so two could succeed in turn.
    calls = [
        client.post(f"{path}/{action}", json={"reason": "理由"}, headers=world.supervisor)
        for action in ("recommend", "return", "reject") * 6
    ]
    responses = list(await asyncio.gather(*calls))
    assert outcome(responses) == {200: 1, 409: len(calls) - 1}
    final = (await client.get(path, headers=world.province)).json()["status"]
    winner = next(r for r in responses if r.status_code == 200).json()["status"]
    assert final == winner
    assert final in {"recommended", "returned", "not_recommended"}
    history = (await client.get(f"{path}/history", headers=world.province)).json()
    assert len(history) == 3
    await assert_feed_is_gap_free(engine)


async def test_exactly_one_of_16_concurrent_approvals_creates_one_center(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application, _ = await reviewed(client, world, auth)
    before = await assert_feed_is_gap_free(engine)

    responses = await fire(client, f"{APPS}/{application['id']}/approve", world.province, APPROVAL)

    assert outcome(responses) == {200: 1, 409: N - 1}, [r.text for r in responses if r.status_code not in (200, 409)]
    winner = next(r for r in responses if r.status_code == 200).json()
    centers = (await client.get("/api/v1/centers", headers=world.province)).json()["items"]
    assert [c["id"] for c in centers] == [winner["center_id"]]
    assert centers[0]["code"] == "HNTIC-2026-001"
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM centers"))).scalar_one() == 1
    # One approval writes exactly two feed events (the center's creation and the application's approval).
    assert await assert_feed_is_gap_free(engine) == before + 2


async def review_for(client: httpx.AsyncClient, world: World, auth: TokenFactory) -> str:
    """A concluded, passing review for a new lead in the world's call."""
    _, applicant = await other_lead(client, world, auth)
    application = await draft(client, world, applicant)
    await act(client, application["id"], "submit", applicant)
    await act(client, application["id"], "recommend", world.supervisor)
    panel = await experts(client, world.province, 5)
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    await act(client, application["id"], "open_review", world.province)
    for member in panel:
        await score(client, application["id"], auth, member, criteria_for_total(80), expected=201)
    await act(client, application["id"], "conclude_review", world.province)
    return str(application["id"])


async def test_concurrent_approvals_of_different_applications_take_distinct_codes(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    ids = [await review_for(client, world, auth) for _ in range(6)]

    responses = await asyncio.gather(
        *(client.post(f"{APPS}/{i}/approve", json=APPROVAL, headers=world.province) for i in ids)
    )

    assert [r.status_code for r in responses] == [200] * len(ids), [r.text for r in responses]
    centers = (await client.get("/api/v1/centers", headers=world.province)).json()["items"]
    assert sorted(c["code"] for c in centers) == [f"HNTIC-2026-{n:03d}" for n in range(1, len(ids) + 1)]
    await assert_feed_is_gap_free(engine)
