"""The document register under real concurrency, with real commits (issue 16 §4): numbers stay gap-free and a
rolled-back decision gives its number back."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.errors import RuleViolation
from app.services import centers
from tests.api.helpers import APPROVAL, act, make_world
from tests.conftest import TokenFactory
from tests.integration.test_races import APPS, N, assert_feed_is_gap_free, review_for

pytestmark = pytest.mark.race


async def test_32_concurrent_approvals_take_the_numbers_1_to_32_each_once(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    ids = [await review_for(client, world, auth) for _ in range(N)]

    responses = await asyncio.gather(
        *(client.post(f"{APPS}/{i}/approve", json=APPROVAL, headers=world.province) for i in ids)
    )

    assert [r.status_code for r in responses] == [200] * N, [r.text for r in responses if r.status_code != 200]
    numbers = sorted(r.json()["document_no"] for r in responses)
    assert numbers == sorted(f"豫科〔2026〕{n}号" for n in range(1, N + 1))
    async with engine.connect() as conn:
        seqs = (await conn.execute(text("SELECT seq FROM documents WHERE year = 2026 ORDER BY seq"))).scalars().all()
        last = (await conn.execute(text("SELECT last_no FROM document_counters"))).scalars().all()
    assert seqs == list(range(1, N + 1))
    assert last == [N]
    await assert_feed_is_gap_free(engine)


async def test_a_rolled_back_approval_does_not_consume_a_number(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = committed_client
    world = await make_world(client, auth)
    application_id = await review_for(client, world, auth)
    create_center = centers.create_center

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        # Fails after the register has issued the number, inside the approval's transaction.
        raise RuleViolation("test-refusal", "测试拒绝", "Refused by the test.", {})

    monkeypatch.setattr(centers, "create_center", refuse)
    response = await client.post(f"{APPS}/{application_id}/approve", json=APPROVAL, headers=world.province)
    assert response.status_code == 409, response.text
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM document_counters"))).scalar_one() == 0
        assert (await conn.execute(text("SELECT count(*) FROM documents"))).scalar_one() == 0

    monkeypatch.setattr(centers, "create_center", create_center)
    approved = await act(client, application_id, "approve", world.province, **APPROVAL)
    assert approved["document_no"] == "豫科〔2026〕1号"


async def test_of_8_concurrent_approvals_giving_one_external_number_exactly_one_keeps_it(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """The unique number decides: whether a loser sees the winner's document before inserting its own or only at its
    insert (it waits on the unique index until the winner commits), it answers 409 already-exists."""
    client = committed_client
    world = await make_world(client, auth)
    ids = [await review_for(client, world, auth) for _ in range(8)]
    body = {**APPROVAL, "document_no": "豫政〔2026〕5号"}

    responses = await asyncio.gather(
        *(client.post(f"{APPS}/{i}/approve", json=body, headers=world.province) for i in ids)
    )

    assert sorted(r.status_code for r in responses) == [200] + [409] * 7, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already-exists"}
    async with engine.connect() as conn:
        numbers = (await conn.execute(text("SELECT number FROM documents"))).scalars().all()
        centers_made = (await conn.execute(text("SELECT count(*) FROM centers"))).scalar_one()
    assert (numbers, centers_made) == (["豫政〔2026〕5号"], 1)
