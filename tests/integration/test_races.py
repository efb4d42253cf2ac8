"""Concurrent transitions on real PostgreSQL with real commits (api.md "Concurrency": exactly one wins).

Each request runs in its own connection and transaction; the application row is locked (SELECT ... FOR UPDATE), so
the losers see the winner's state and answer 409. Transitions append their events unsequenced; the sequencer (run
here by the committed client after every response, concurrently) takes `seq`s under its lock, so they stay gap-free.
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
    attach_evidence,
    criteria_for_total,
    draft,
    experts,
    formal_review,
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
N = 32  # issue 8: 32 concurrent attempts at each contested transition


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


async def test_exactly_one_of_32_concurrent_recommends_gives_200(
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
    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.province)).json()["items"]
    assert [h["action"] for h in history] == ["create", "submit", "recommend"]
    await assert_feed_is_gap_free(engine)


async def test_exactly_one_of_32_concurrent_submissions_gives_200(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application = await draft(client, world)

    responses = await fire(client, f"{APPS}/{application['id']}/submit", world.applicant)

    assert outcome(responses) == {200: 1, 409: N - 1}
    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.province)).json()["items"]
    assert [h["action"] for h in history] == ["create", "submit"]
    await assert_feed_is_gap_free(engine)


async def test_of_32_drafts_by_one_lead_submitted_at_once_in_one_call_exactly_one_goes_through(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    # Drafts do not count for one center, one plan, so each submission alone would find the others still drafts;
    # the per-lead lock makes the later ones see the winner and answer 409 naming it.
    client = committed_client
    world = await make_world(client, auth)
    drafts = [await draft(client, world, proposed_name=f"方案{i}") for i in range(N)]

    responses = list(
        await asyncio.gather(*(client.post(f"{APPS}/{d['id']}/submit", headers=world.applicant) for d in drafts))
    )

    assert outcome(responses) == {200: 1, 409: N - 1}, [r.text for r in responses if r.status_code not in (200, 409)]
    winner = next(r for r in responses if r.status_code == 200).json()["id"]
    for response in responses:
        if response.status_code == 409:
            body = response.json()
            assert body["code"] == "ineligible"
            assert [(c["rule"], c["actual"]) for c in body["checks"]] == [("one_center_one_plan", winner)]
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
    history = (await client.get(f"{path}/history", headers=world.province)).json()["items"]
    assert len(history) == 3
    await assert_feed_is_gap_free(engine)


async def test_exactly_one_of_32_concurrent_approvals_creates_one_center(
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
    await attach_evidence(client, application["id"], applicant)
    await act(client, application["id"], "submit", applicant)
    await act(client, application["id"], "recommend", world.supervisor)
    await formal_review(client, application["id"], world.province)
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


async def test_exactly_one_of_32_concurrent_task_book_signatures_starts_construction(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application, _ = await reviewed(client, world, auth)
    center_id = (await act(client, application["id"], "approve", world.province, **APPROVAL))["center_id"]
    book = {
        "targets": [{"code": "T1", "name": "专利", "unit": "件", "target_value": "10"}],
        "funding_plan": {"provincial_wan": "100.00"},
        "starts_on": "2026-09-01",
    }
    assert (
        await client.put(f"/api/v1/centers/{center_id}/task-book", json=book, headers=world.province)
    ).status_code == 200
    before = await assert_feed_is_gap_free(engine)

    responses = await fire(client, f"/api/v1/centers/{center_id}/sign_task_book", world.province)

    assert outcome(responses) == {200: 1, 409: N - 1}, [r.text for r in responses if r.status_code not in (200, 409)]
    history = (await client.get(f"/api/v1/centers/{center_id}/history", headers=world.province)).json()["items"]
    assert [h["action"] for h in history].count("sign_task_book") == 1
    assert await assert_feed_is_gap_free(engine) == before + 1


async def test_exactly_one_of_32_concurrent_finalizations_grades_the_cycle(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    response = await client.post(
        "/api/v1/centers/import",
        headers=world.province,
        json={
            "name": "已认定中心",
            "field": "green_food",
            "lead_org_id": world.lead["id"],
            "status": "recognized",
            "approved_on": "2019-06-01",
            "document_no": "豫科〔2019〕1号",
            "construction_starts_on": "2019-07-01",
            "recognized_on": "2023-06-01",
        },
    )
    center_id = response.json()["id"]
    cycle = (
        await client.post(
            "/api/v1/assessment-cycles",
            headers=world.province,
            json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025},
        )
    ).json()
    assert cycle["center_ids"] == [center_id]
    result = await client.put(
        f"/api/v1/assessment-cycles/{cycle['id']}/results/{center_id}", headers=world.province, json={"score": "50"}
    )
    assert result.status_code == 200, result.text
    before = await assert_feed_is_gap_free(engine)

    responses = await fire(client, f"/api/v1/assessment-cycles/{cycle['id']}/finalize", world.province)

    assert outcome(responses) == {200: 1, 409: N - 1}, [r.text for r in responses if r.status_code not in (200, 409)]
    center = (await client.get(f"/api/v1/centers/{center_id}", headers=world.province)).json()
    assert (center["status"], center["grade"], len(center["grade_history"])) == ("rectifying", "unqualified", 1)
    # The winner moved the center to rectifying and closed the cycle: two events, once.
    assert await assert_feed_is_gap_free(engine) == before + 2


async def test_32_concurrent_transitions_on_32_subjects_keep_the_feed_in_commit_order(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """Issue 18, item 4: many writers at once, each on its own subject, so nothing but the sequencer orders them.

    While the 32 recommendations race (and 32 sequencer drains with them, one after each response), an observer reads
    the feed over and over on its own connection. Because `seq`s are taken by a batch under the sequence lock held
    until its COMMIT, every snapshot it sees is a gap-free prefix of the final feed: a batch that committed after
    another never shows a smaller `seq`, and none shows a hole behind it. Without that lock two batches take the same
    seq and one fails on the feed's key."""
    client = committed_client
    world = await make_world(client, auth)
    subjects: list[str] = []
    for _ in range(N):
        _, applicant = await other_lead(client, world, auth)
        application = await draft(client, world, applicant)
        await act(client, application["id"], "submit", applicant)
        subjects.append(str(application["id"]))
    before = await assert_feed_is_gap_free(engine)

    snapshots: list[list[tuple[int, str]]] = []
    racing = asyncio.Event()

    async def observe() -> None:
        async with engine.connect() as conn:
            while not racing.is_set():
                rows = await conn.execute(
                    text("SELECT seq, hash FROM events WHERE seq > :s ORDER BY seq"), {"s": before}
                )
                snapshots.append([(row.seq, row.hash) for row in rows])
                await conn.commit()
                await asyncio.sleep(0)

    observer = asyncio.create_task(observe())
    try:
        responses = list(
            await asyncio.gather(
                *(client.post(f"{APPS}/{subject}/recommend", headers=world.supervisor) for subject in subjects)
            )
        )
    finally:
        racing.set()
        await observer

    assert [r.status_code for r in responses] == [200] * N, [r.text for r in responses if r.status_code != 200]
    total = await assert_feed_is_gap_free(engine)
    assert total == before + N
    async with engine.connect() as conn:
        final = [
            (row.seq, row.hash, str(row.subject_id))
            for row in await conn.execute(
                text("SELECT seq, hash, subject_id FROM events WHERE seq > :s ORDER BY seq"), {"s": before}
            )
        ]
    assert sorted(subject for _, _, subject in final) == sorted(subjects)  # one event per subject, none lost
    prefix = [(seq, digest) for seq, digest, _ in final]
    assert len(snapshots) > 1
    for snapshot in snapshots:
        assert snapshot == prefix[: len(snapshot)], "a later commit became visible before an earlier seq"
    verification = await client.get("/api/v1/events/verify", headers=world.province)
    assert verification.status_code == 200, verification.text
    assert verification.json()["ok"] is True


async def test_concurrent_log_reads_integrate_the_tree_once(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """Reads of the transparency log bring its tree up to the feed first. Many at once, on real commits: one integrates
    under the log's lock, the others wait and find nothing left to do; every answer covers the whole feed."""
    client = committed_client
    world = await make_world(client, auth)
    await submitted(client, world)
    size = await assert_feed_is_gap_free(engine)

    responses = list(
        await asyncio.gather(
            *(client.get("/api/v1/log/checkpoint") for _ in range(N // 2)),
            *(
                client.get("/api/v1/log/proof/inclusion", params={"seq": 1}, headers=world.province)
                for _ in range(N // 2)
            ),
        )
    )

    assert [r.status_code for r in responses] == [200] * N, [r.text for r in responses if r.status_code != 200]
    assert {r.text.split("\n")[1] for r in responses[: N // 2]} == {str(size)}
    assert {r.json()["tree_size"] for r in responses[N // 2 :]} == {size}
    async with engine.connect() as conn:
        leaves = (await conn.execute(text("SELECT count(*) FROM log_nodes WHERE level = 0"))).scalar_one()
    assert leaves == size
