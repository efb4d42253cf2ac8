"""Reminders (issue 17 §3): the worker emits each due or overdue inbox item once onto the feed, however many workers
run and however often they restart, and webhooks carry them like any other event.

Like the webhook tests these commit for real (`committed_client`, which empties the tables afterwards) and run the
workers in-process: each worker has its own engine, so two of them race on separate connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import worker
from app.db.session import create_engine, create_sessionmaker
from app.services import sequencer
from app.settings import Settings
from tests.api.helpers import draft, make_world
from tests.api.test_centers import import_center

pytestmark = pytest.mark.race


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "reminder_interval_seconds": 0.05,
            "webhook_dispatch_interval_seconds": 0.05,
            "worker_poll_seconds": 0.05,
            "worker_concurrency": 2,
        }
    )


async def seed(client: httpx.AsyncClient, auth: Any) -> dict[str, Any]:
    """A lead with a draft in an open call (due when the call closes) and a center owing its 2024 and 2025 reports."""
    w = await make_world(client, auth)
    application = await draft(client, w)
    center = await import_center(
        client,
        {"province": w.province, "lead": w.lead, "university": w.university},
        approved_on="2024-06-01",
        construction_starts_on="2024-12-01",
        construction_ends_on="2027-11-30",
    )
    return {"call": w.call, "application": application, "center": center}


async def reminder_events(engine: AsyncEngine) -> list[tuple[str, str, str, dict[str, Any]]]:
    # What a worker's sequencer loop does moments after the reminders' commit.
    await sequencer.drain(create_sessionmaker(engine))
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT type, subject_type, subject_id::text, data FROM events"
                    " WHERE type LIKE 'reminder.%' ORDER BY seq"
                )
            )
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


@contextlib.asynccontextmanager
async def runtimes(settings: Settings, count: int) -> AsyncIterator[list[worker.Runtime]]:
    """`count` worker runtimes, each on its own engine (own connections), as separate processes would have."""
    engines = [create_engine(settings.database_url, pool_size=4) for _ in range(count)]
    try:
        async with contextlib.AsyncExitStack() as stack:
            yield [await stack.enter_async_context(worker.open_runtime(settings, engine=e)) for e in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_two_racing_workers_emit_each_reminder_once_and_a_restart_emits_none_again(
    committed_client: httpx.AsyncClient, auth: Any, fast: Settings, engine: AsyncEngine
) -> None:
    seeded = await seed(committed_client, auth)
    as_of = date(2026, 2, 1)
    async with runtimes(fast, 2) as (first, second):
        # Eight passes at once, four per worker: every reminder is claimed by exactly one of them.
        counts = await asyncio.gather(*(worker.remind_once(rt, as_of) for rt in (first, second) * 4))
        assert sum(counts) == 3, counts
    center, application = seeded["center"]["id"], seeded["application"]["id"]
    closes_on = seeded["call"]["closes_on"]
    assert await reminder_events(engine) == [
        (
            "reminder.overdue",
            "center",
            center,
            {"kind": "annual_report.due", "due_on": "2025-01-31", "stage": "overdue"},
        ),
        (
            "reminder.overdue",
            "center",
            center,
            {"kind": "annual_report.due", "due_on": "2026-01-31", "stage": "overdue"},
        ),
        (
            "reminder.due",
            "application",
            application,
            {"kind": "application.submit", "due_on": closes_on, "stage": "due"},
        ),
    ]
    # A restarted worker (new engine, new runtime) finds every reminder emitted.
    async with runtimes(fast, 1) as (restarted,):
        assert await worker.remind_once(restarted, as_of) == 0
    assert len(await reminder_events(engine)) == 3


async def test_an_item_is_reminded_of_when_due_and_again_once_overdue(
    committed_client: httpx.AsyncClient, auth: Any, fast: Settings, engine: AsyncEngine
) -> None:
    seeded = await seed(committed_client, auth)
    closes_on = date.fromisoformat(seeded["call"]["closes_on"])
    application = seeded["application"]["id"]
    async with runtimes(fast, 1) as (rt,):
        await worker.remind_once(rt, closes_on)
        await worker.remind_once(rt, closes_on)
        await worker.remind_once(rt, closes_on + timedelta(days=1))
        await worker.remind_once(rt, closes_on + timedelta(days=2))
    mine = [(e[0], e[3]) for e in await reminder_events(engine) if e[2] == application]
    assert mine == [
        ("reminder.due", {"kind": "application.submit", "due_on": closes_on.isoformat(), "stage": "due"}),
        ("reminder.overdue", {"kind": "application.submit", "due_on": closes_on.isoformat(), "stage": "overdue"}),
    ]


async def test_running_workers_emit_todays_reminders_once_and_the_feed_names_no_one(
    committed_client: httpx.AsyncClient, auth: Any, fast: Settings, engine: AsyncEngine
) -> None:
    await seed(committed_client, auth)
    for _ in range(2):  # the second round is a restart of both workers
        stop = asyncio.Event()
        tasks = [asyncio.create_task(worker.run(fast, stop=stop, name=f"reminder-worker-{i}")) for i in range(2)]
        for _ in range(100):
            if len(await reminder_events(engine)) >= 3:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # several more rounds of both loops
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=15)
        events = await reminder_events(engine)
        # Today (after 2026-02-01) both reports are overdue and the draft is due before its call closes.
        assert sorted(e[0] for e in events) == ["reminder.due", "reminder.overdue", "reminder.overdue"]
    async with engine.connect() as conn:
        actors = (
            await conn.execute(text("SELECT DISTINCT actor_sub, actor_role FROM events WHERE type LIKE 'reminder.%'"))
        ).all()
    assert [tuple(a) for a in actors] == [("tic-worker", "system")]
    for _, _, _, data in events:
        assert set(data) == {"kind", "due_on", "stage"}
