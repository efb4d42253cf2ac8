"""The feed's sequencer (issue 14) with real commits and real processes: transitions append without a global lock,
one elected leader among the service and worker processes chains them into the feed, and another takes over when it
dies. Whatever happens to the processes, the feed ends gap-free with exactly the committed transitions' events."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.auth import issue_token
from app.db.repositories.events import LEADER_LOCK_KEY
from app.db.session import create_engine, create_sessionmaker
from app.services import sequencer
from app.settings import Settings
from tests.api.helpers import act, attach_evidence, draft, make_world, other_lead
from tests.conftest import SECRET, TokenFactory
from tests.factories import credit_code

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.race

# Followers try for the lead five times a second here (one second in production), so a takeover is quick to see.
FAST = {
    "TIC_SEQUENCER_POLL_SECONDS": "0.02",
    "TIC_SEQUENCER_RETRY_SECONDS": "0.2",
    "TIC_WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.2",
    "TIC_WORKER_POLL_SECONDS": "0.2",
}
LEADER = (
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid = :high AND l.objid = :low"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Fleet:
    """Service and worker processes on the test database."""

    database_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    urls: dict[int, str] = field(default_factory=dict)  # OS pid -> base URL, for the services

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **FAST,
            "TIC_DATABASE_URL": self.database_url,
            "TIC_AUTH_SECRET": SECRET,
            "TIC_LOG_LEVEL": "WARNING",
            "TIC_ENVIRONMENT": "test",
        }

    def serve(self) -> str:
        port = _free_port()
        process = self._spawn("serve", "--port", str(port))
        self.urls[process.pid] = f"http://127.0.0.1:{port}"
        return self.urls[process.pid]

    def worker(self) -> int:
        return self._spawn("worker", "--concurrency", "1").pid

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        return process

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60  # generous: the machine is shared
        for url in self.urls.values():
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "a service process did not become ready"
                time.sleep(0.1)

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        next(p for p in self.processes if p.pid == pid).wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def fleet(database_url: str, committed_client: httpx.AsyncClient) -> Iterator[Fleet]:
    # committed_client only lends its clean-up: every table is emptied after the test.
    processes = Fleet(database_url)
    try:
        yield processes
    finally:
        processes.stop()


async def leader_pid(engine: AsyncEngine) -> int | None:
    """The OS pid of the process that holds the leader lock (its lock connection carries it in its name)."""
    async with engine.connect() as conn:
        names = (
            await conn.execute(text(LEADER), {"high": LEADER_LOCK_KEY >> 32, "low": LEADER_LOCK_KEY & 0xFFFFFFFF})
        ).scalars()
        found = [int(name.rsplit(" ", 1)[1]) for name in names if name.startswith("henan-tic sequencer leader pid ")]
    assert len(found) <= 1
    return found[0] if found else None


async def until(condition: Any, *, within: float, what: str) -> float:
    """Wait until `await condition()` is truthy; answers the seconds it took."""
    started = time.monotonic()
    while not await condition():
        assert time.monotonic() - started < within, f"not within {within} s: {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def queue_length(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM event_queue"))).scalar_one())


@dataclass
class Load:
    """Organizations created at once from many tasks against the services; every 201 is a committed transition."""

    urls: list[str]
    headers: dict[str, str]
    created: list[str] = field(default_factory=list)
    failed: int = 0

    async def run(self, tasks: int, seconds: float) -> None:
        stop = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=30) as client:

            async def one(index: int) -> None:
                while time.monotonic() < stop:
                    url = self.urls[index % len(self.urls)]
                    try:
                        response = await client.post(
                            f"{url}/api/v1/organizations",
                            headers=self.headers,
                            json={"name": "单位", "credit_code": credit_code(), "kind": "enterprise"},
                        )
                    except httpx.TransportError:  # its process was killed: carry on with the next one
                        self.failed += 1
                        index += 1
                        await asyncio.sleep(0.01)
                        continue
                    assert response.status_code == 201, response.text
                    self.created.append(response.json()["id"])

            await asyncio.gather(*(one(i) for i in range(tasks)))


async def assert_feed_holds_exactly_the_committed(engine: AsyncEngine, created: list[str], url: str) -> int:
    """Gap-free and chained; one `organization.created` event per organization row (committed, whether or not its
    client heard the answer), each 201 among them; /events/verify agrees, tree included. Answers the feed's length."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT seq, prev_hash, hash FROM events ORDER BY seq"))).all()
        announced = (
            await conn.execute(text("SELECT subject_id::text FROM events WHERE type = 'organization.created'"))
        ).scalars()
        organizations = (await conn.execute(text("SELECT id::text FROM organizations"))).scalars()
        announced_list, organization_set = list(announced), set(organizations)
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1)), "the feed has a gap"
    assert all(b.prev_hash == a.hash for a, b in pairwise(rows))
    assert len(announced_list) == len(set(announced_list)), "an event was sequenced twice"
    assert set(announced_list) == organization_set, "a committed transition's event is missing, or an extra one"
    assert set(created) <= organization_set
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        observer = {"Authorization": f"Bearer {issue_token(SECRET, role='observer', sub='observer-x')}"}
        verified = (await client.get("/api/v1/events/verify", headers=observer)).json()
    assert verified == {**verified, "ok": True, "checked": len(rows), "first_bad_seq": None, "tree_ok": True}
    return len(rows)


async def test_killing_the_leader_under_load_loses_no_event_and_another_process_takes_over(
    fleet: Fleet, engine: AsyncEngine, auth: TokenFactory
) -> None:
    urls = [fleet.serve(), fleet.serve()]
    await asyncio.to_thread(fleet.wait_ready)
    await until(lambda: leader_pid(engine), within=10, what="a leader is elected")
    leader = await leader_pid(engine)
    assert leader in fleet.urls
    load = Load(urls=urls, headers=auth("province"))
    running = asyncio.create_task(load.run(tasks=8, seconds=4.0))

    await asyncio.sleep(1.5)
    before_kill = len(load.created)
    await asyncio.to_thread(fleet.kill, leader)

    async def another_leads() -> bool:
        return (await leader_pid(engine)) not in (None, leader)

    takeover = await until(another_leads, within=10, what="another process takes over")
    await running
    survivor = await leader_pid(engine)
    assert survivor in fleet.urls
    assert survivor != leader
    assert before_kill > 0
    assert len(load.created) > before_kill, "the load did not go on across the kill"

    async def drained() -> bool:
        return await queue_length(engine) == 0

    await until(drained, within=15, what="the survivor sequences the rest")
    total = await assert_feed_holds_exactly_the_committed(engine, load.created, fleet.urls[survivor])
    assert total >= len(load.created)
    # A follower retries every 0.2 s here: the lock is free as soon as the killed process's connection closes.
    assert takeover < 5.0


async def test_two_services_and_two_workers_produce_one_gap_free_sequence(
    fleet: Fleet, engine: AsyncEngine, auth: TokenFactory
) -> None:
    urls = [fleet.serve(), fleet.serve()]
    workers = [fleet.worker(), fleet.worker()]
    await asyncio.to_thread(fleet.wait_ready)
    await until(lambda: leader_pid(engine), within=10, what="a leader is elected")
    load = Load(urls=urls, headers=auth("province"))
    leaders: set[int | None] = set()

    async def watch() -> None:
        while not running.done():
            leaders.add(await leader_pid(engine))  # asserts at most one holder at any time
            await asyncio.sleep(0.1)

    running = asyncio.create_task(load.run(tasks=12, seconds=3.0))
    await asyncio.gather(running, watch())

    async def drained() -> bool:
        return await queue_length(engine) == 0

    await until(drained, within=15, what="the queue is drained")
    assert load.failed == 0
    assert leaders - {None} <= {*fleet.urls, *workers}
    total = await assert_feed_holds_exactly_the_committed(engine, load.created, urls[0])
    assert total >= len(load.created) > 0


async def test_a_subjects_events_follow_its_transitions_when_they_race_under_a_running_leader(
    committed_client: httpx.AsyncClient, app: FastAPI, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """Per-subject order. Each application takes 12 racing `return`/`submit` requests (supervisor and applicant):
    the row lock lets them through one at a time in some order, which its history records (transition ids). The
    leader loop runs meanwhile, in batches, on other connections; in the feed each subject's events must come in
    its history's order, each `from` the previous `to`."""
    client = committed_client
    world = await make_world(client, auth)
    subjects: list[tuple[str, dict[str, str]]] = []
    for _ in range(8):
        _, applicant = await other_lead(client, world, auth)
        application = await draft(client, world, applicant)
        await attach_evidence(client, application["id"], applicant)
        await act(client, application["id"], "submit", applicant)
        subjects.append((str(application["id"]), applicant))

    stop = asyncio.Event()
    options = sequencer.SequencerOptions(batch=7, poll_seconds=0.005, follower_retry_seconds=0.2)
    leading = asyncio.create_task(sequencer.lead(engine, stop, options))
    # A client without the fixture's hooks: only the leader loop sequences what this race appends.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60) as plain:
        calls = [
            plain.post(f"/api/v1/applications/{subject}/{action}", json=body, headers=headers)
            for subject, applicant in subjects
            for action, body, headers in (
                ("return", {"reason": "请补充材料"}, world.supervisor),
                ("submit", None, applicant),
            )
            * 6
        ]
        responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses if r.status_code >= 500]

    async def drained() -> bool:
        return await queue_length(engine) == 0

    try:
        await until(drained, within=15, what="the leader sequences the race")
    finally:
        stop.set()
        await leading

    async with engine.connect() as conn:
        for subject, _ in subjects:
            feed = [
                (row.data["from"], row.data["to"])
                for row in await conn.execute(
                    text("SELECT data FROM events WHERE subject_id = :s AND data ? 'to' ORDER BY seq"), {"s": subject}
                )
            ]
            history = [
                (row.from_status, row.to_status)
                for row in await conn.execute(
                    text("SELECT from_status, to_status FROM transitions WHERE subject_id = :s ORDER BY id"),
                    {"s": subject},
                )
            ]
            assert feed == history, subject
            assert all(earlier[1] == later[0] for earlier, later in pairwise(feed)), feed
            assert len(feed) > 3, "the race let too few transitions through to say anything about order"


async def test_the_leader_loop_sequences_what_was_appended_and_integrates_the_tree(
    committed_client: httpx.AsyncClient, app: FastAPI, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """Commit → sequenced, measured: a transition's event is in the feed (and the tree) moments after its commit."""
    stop = asyncio.Event()
    options = sequencer.SequencerOptions(batch=100, poll_seconds=0.02, follower_retry_seconds=0.2)
    leading = asyncio.create_task(sequencer.lead(engine, stop, options))
    province = auth("province")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as plain:
            response = await plain.post(
                "/api/v1/organizations",
                headers=province,
                json={"name": "单位", "credit_code": credit_code(), "kind": "enterprise"},
            )
            assert response.status_code == 201
            committed = time.monotonic()

            async def sequenced() -> bool:
                feed = (await plain.get("/api/v1/events", headers=province)).json()["items"]
                return any(e["subject_id"] == response.json()["id"] for e in feed)

            delay = await until(sequenced, within=5, what="the event is sequenced")
    finally:
        stop.set()
        await leading
    assert time.monotonic() - committed < 5
    assert delay < 1.0
    # The leader integrated the tree in the same transaction: no read of the log was needed to grow it.
    async with engine.connect() as conn:
        leaves = (await conn.execute(text("SELECT count(*) FROM log_nodes WHERE level = 0"))).scalar_one()
        assert leaves == (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one() == 1


async def test_a_leader_stopped_with_sigterm_sequences_what_is_queued_before_it_exits(
    fleet: Fleet, engine: AsyncEngine, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The leader would not look at the queue again for a minute: only its way out can sequence these events.
    monkeypatch.setitem(FAST, "TIC_SEQUENCER_POLL_SECONDS", "60")
    url = fleet.serve()
    await asyncio.to_thread(fleet.wait_ready)
    await until(lambda: leader_pid(engine), within=10, what="a leader is elected")
    load = Load(urls=[url], headers=auth("province"))
    await load.run(tasks=4, seconds=1.0)
    assert await queue_length(engine) == len(load.created) > 0
    [process] = fleet.processes
    process.terminate()
    assert await asyncio.to_thread(process.wait, 30) == 0
    assert await queue_length(engine) == 0
    async with engine.connect() as conn:
        sequenced = (
            await conn.execute(text("SELECT subject_id::text FROM events WHERE type = 'organization.created'"))
        ).scalars()
        assert sorted(sequenced) == sorted(load.created)


async def test_drain_moves_the_queue_in_batches_and_a_candidate_leads_only_while_enabled(
    committed_client: httpx.AsyncClient, app: FastAPI, auth: TokenFactory, engine: AsyncEngine, settings: Settings
) -> None:
    province = auth("province")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as plain:
        for _ in range(5):  # no hooks: the events stay queued
            body = {"name": "单位", "credit_code": credit_code(), "kind": "enterprise"}
            assert (await plain.post("/api/v1/organizations", headers=province, json=body)).status_code == 201
    assert await queue_length(engine) == 5
    assert await sequencer.drain(create_sessionmaker(engine), batch=2) == 5  # 2 + 2 + 1, one transaction each
    assert await queue_length(engine) == 0

    url = settings.database_url or ""
    async with sequencer.candidate(url, settings.model_copy(update={"sequencer_enabled": False})):
        await asyncio.sleep(0.3)
        assert await leader_pid(engine) is None
    fast = settings.model_copy(update={"sequencer_poll_seconds": 0.02, "sequencer_retry_seconds": 0.1})
    async with sequencer.candidate(url, fast):
        await until(lambda: leader_pid(engine), within=10, what="the candidate leads")
        assert await leader_pid(engine) == os.getpid()
    assert await leader_pid(engine) is None, "a stopped candidate keeps the lead"


async def test_a_candidate_that_cannot_reach_its_database_keeps_trying_and_stops_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failures: list[str] = []

    class Log:
        def info(self, event: str, **fields: Any) -> None:
            raise AssertionError(f"it cannot lead without a database: {event}")

        def warning(self, event: str, **fields: Any) -> None:
            failures.append(f"{event}: {fields.get('error', '')}")

    monkeypatch.setattr(sequencer, "log", Log())
    unreachable = create_engine(f"postgresql://postgres@127.0.0.1:{_free_port()}/nowhere", pool_size=1)
    stop = asyncio.Event()
    options = sequencer.SequencerOptions(poll_seconds=0.01, follower_retry_seconds=0.05)
    try:
        leading = asyncio.create_task(sequencer.lead(unreachable, stop, options))

        async def tried_again() -> bool:
            return len(failures) >= 3

        await until(tried_again, within=10, what="it tries again")
        stop.set()
        await asyncio.wait_for(leading, timeout=5)
    finally:
        await unreachable.dispose()
    assert all(f.startswith("sequencer_failed: ") for f in failures), failures
