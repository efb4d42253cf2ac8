"""Webhooks end to end: the province subscribes, workers dispatch the committed feed and deliver it to a local
receiver (127.0.0.1, a random port) that records every request and can be told to fail. 127.0.0.1 is a loopback
address, refused unless allow-listed: the tests that deliver allow-list it (`local_receivers`), and the hostile ones
show the same targets refused without it.

Deliveries read committed data, so these tests commit for real (`committed_client`, which empties the tables
afterwards) and run procrastinate workers in-process with short intervals; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app import worker
from app.db.session import create_sessionmaker, transaction
from app.services import sequencer
from app.services import webhooks as webhook_service
from app.services.secret_box import SecretBox, SecretUnreadable
from app.settings import Settings
from tests.conftest import TEST_DNS, TokenFactory, sequence_on
from tests.factories import create_org

HOOKS = "/api/v1/webhooks"
ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-test-0123456789abcdef"


# --- a local receiver ------------------------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str = ""

    @property
    def event(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0
    redirect_to: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def event_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r.headers["x-tic-event-id"] for r in self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body, self.path))
                failing = state.fail_first > 0
                state.fail_first -= 1 if failing else 0
            if state.redirect_to and self.path != "/moved":
                self.send_response(307)
                self.send_header("Location", state.redirect_to)
            else:
                self.send_response(500 if failing else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tic"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- helpers ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def api_settings(app: FastAPI, settings: Settings) -> Iterator[Settings]:
    """The API runs with `settings` inside the block. (Not monkeypatch.setattr: its undo would delete the attribute,
    as State keeps attributes outside __dict__.)"""
    original, app.state.settings = app.state.settings, settings
    try:
        yield settings
    finally:
        app.state.settings = original


@pytest.fixture
def local_receivers(app: FastAPI, settings: Settings) -> Iterator[Settings]:
    """The test settings allow-listing 127.0.0.1 (TIC_WEBHOOK_ALLOWED_HOSTS), for the API as well."""
    with api_settings(app, settings.model_copy(update={"webhook_allowed_hosts": ("127.0.0.1",)})) as allowing:
        yield allowing


@pytest.fixture
def fast(local_receivers: Settings) -> Settings:
    """The test settings with the local receivers allowed, and sub-second dispatch, polling and backoff."""
    return local_receivers.model_copy(
        update={
            "webhook_retry_base_seconds": 0.05,
            "webhook_retry_max_seconds": 0.2,
            "webhook_max_attempts": 4,
            "webhook_timeout_seconds": 2.0,
            "webhook_dispatch_interval_seconds": 0.05,
            "worker_poll_seconds": 0.05,
            "worker_concurrency": 4,
        }
    )


@contextlib.asynccontextmanager
async def workers(settings: Settings, count: int = 1, concurrency: int | None = None) -> AsyncIterator[None]:
    """`count` workers (each its own engine, queue pool and dispatch loop) until the block ends."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(worker.run(settings, stop=stop, concurrency=concurrency, name=f"test-worker-{i}"))
        for i in range(count)
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=15)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 8.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def subscribe(client: httpx.AsyncClient, province: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    response = await client.post(HOOKS, headers=province, json={"url": url, "secret": SECRET, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries(client: httpx.AsyncClient, province: dict[str, str], webhook_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{HOOKS}/{webhook_id}/deliveries", headers=province, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def all_settled(
    client: httpx.AsyncClient, province: dict[str, str], webhook_id: str, count: int
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        log = await deliveries(client, province, webhook_id)
        return len(log) == count and all(d["status"] == "succeeded" for d in log)

    return check


def all_attempted(
    client: httpx.AsyncClient, province: dict[str, str], webhook_id: str, count: int
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        log = await deliveries(client, province, webhook_id)
        return len(log) == count and all(d["attempts"] >= 1 for d in log)

    return check


def signed_with(secret: str, request: Received) -> bool:
    timestamp = request.headers["x-tic-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return request.headers["x-tic-signature"] == f"sha256={expected}"


async def make_events(client: httpx.AsyncClient, province: dict[str, str], subjects: int, updates: int) -> None:
    """`subjects` organizations, each created then updated `updates` times: subjects * (1 + updates) events."""
    orgs = [await create_org(client, province) for _ in range(subjects)]
    for round in range(updates):
        for org in orgs:
            response = await client.patch(
                f"/api/v1/organizations/{org['id']}", headers=province, json={"region": f"区{round}"}
            )
            assert response.status_code == 200, response.text


# --- the tests -------------------------------------------------------------------------------------------------------


@pytest.mark.race
async def test_a_delivery_carries_the_feed_item_signed_with_hmac_over_timestamp_dot_body(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    async with workers(fast):
        org = await create_org(client, province)
        await eventually(all_settled(client, province, hook["id"], 1))

    assert len(receiver.requests) == 1  # the webhook's own creation event is not sent to it
    request = receiver.requests[0]
    timestamp, body = request.headers["x-tic-timestamp"], request.body
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert request.headers["x-tic-signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    assert request.headers["content-type"] == "application/json"
    event = request.event
    assert set(event) == {
        "seq",
        "id",
        "type",
        "subject_type",
        "subject_id",
        "actor",
        "occurred_at",
        "effective_on",
        "data",
        "prev_hash",
        "hash",
    }
    assert (event["type"], event["subject_id"], event["actor"]["role"]) == (
        "organization.created",
        org["id"],
        "province",
    )
    assert request.headers["x-tic-event-id"] == event["id"]
    assert request.headers["x-tic-event-type"] == "organization.created"
    # The body is the canonical JSON the chain hashes, so a receiver can re-check `hash` too.
    unhashed = {k: v for k, v in event.items() if k != "hash"}
    canonical = json.dumps(unhashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(canonical).hexdigest() == event["hash"]
    feed = (await client.get("/api/v1/events", headers=province, params={"after": event["seq"] - 1})).json()
    assert feed["items"][0]["hash"] == event["hash"]

    [log] = await deliveries(client, province, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"], log["event_seq"]) == (
        "succeeded",
        1,
        204,
        event["seq"],
    )
    assert log["delivered_at"] is not None
    assert log["last_error"] is None


@pytest.mark.race
async def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    receiver.fail_first = 2
    async with workers(fast):
        await create_org(client, province)
        await eventually(all_settled(client, province, hook["id"], 1))

    assert len(receiver.requests) == 3
    assert len(set(receiver.event_ids())) == 1
    for request in receiver.requests:  # every attempt is signed afresh
        timestamp = request.headers["x-tic-timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-tic-signature"] == f"sha256={expected}"
    [log] = await deliveries(client, province, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"], log["next_attempt_at"]) == (
        "succeeded",
        3,
        204,
        None,
    )


@pytest.mark.race
async def test_a_delivery_is_given_up_after_the_last_attempt_and_the_log_keeps_the_error_category(
    committed_client: httpx.AsyncClient, auth: TokenFactory, fast: Settings
) -> None:
    client, province = committed_client, auth("province")
    # A port that was free a moment ago and has no listener: every attempt is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = await subscribe(client, province, f"http://127.0.0.1:{port}/")
    async with workers(fast):
        await create_org(client, province)

        async def given_up() -> bool:
            log = await deliveries(client, province, hook["id"])
            return len(log) == 1 and log[0]["status"] == "failed"

        await eventually(given_up)
    [log] = await deliveries(client, province, hook["id"])
    assert log["attempts"] == fast.webhook_max_attempts
    assert log["last_status_code"] is None
    assert log["last_error"] == "connect_error"  # a category, never the exception's text
    assert log["next_attempt_at"] is None


@pytest.mark.race
async def test_two_workers_deliver_each_of_20_events_exactly_once_and_in_seq_order_per_subject(
    committed_client: httpx.AsyncClient,
    auth: TokenFactory,
    receiver: Receiver,
    fast: Settings,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    handled_by: Counter[int] = Counter()
    deliver = worker.deliver

    async def counting(runtime: worker.Runtime, delivery_id: str) -> None:
        handled_by[id(runtime)] += 1
        await deliver(runtime, delivery_id)

    monkeypatch.setattr(worker, "deliver", counting)
    # One job at a time per worker: with four subjects ready at once, both workers must take part.
    async with workers(fast, count=2, concurrency=1):
        await make_events(client, province, subjects=4, updates=4)
        await eventually(all_settled(client, province, hook["id"], 20))
    # The workers have stopped, so every request ever sent has arrived.
    assert len(handled_by) == 2, handled_by
    assert sum(handled_by.values()) == 20

    counts = receiver.event_ids()
    assert len(counts) == 20
    assert set(counts.values()) == {1}, counts
    seqs_by_subject: dict[str, list[int]] = defaultdict(list)
    for request in receiver.requests:
        seqs_by_subject[request.event["subject_id"]].append(request.event["seq"])
    assert len(seqs_by_subject) == 4
    for seqs in seqs_by_subject.values():
        assert seqs == sorted(seqs)
        assert len(seqs) == 5
    async with engine.connect() as conn:
        jobs_left = (await conn.execute(text("SELECT count(*) FROM procrastinate_jobs"))).scalar_one()
    assert jobs_left == 0  # succeeded jobs are deleted; the delivery log is the record


@pytest.mark.race
async def test_concurrent_dispatchers_make_one_delivery_and_one_job_per_event(
    committed_client: httpx.AsyncClient, auth: TokenFactory, fast: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    everything = await subscribe(client, province, "http://127.0.0.1:9/all")
    updates_only = await subscribe(client, province, "http://127.0.0.1:9/updates", event_types=["organization.updated"])
    await make_events(client, province, subjects=3, updates=2)

    async with worker.open_runtime(fast, engine=engine) as runtime:
        created = await asyncio.gather(*(worker.dispatch_once(runtime) for _ in range(8)))
        # Everything: the second webhook's creation and 3 x 3 organization events; updates only: 3 x 2.
        assert sum(created) == 10 + 6
        assert await worker.dispatch_once(runtime) == 0

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT d.webhook_id, count(*) AS deliveries, count(DISTINCT d.event_seq) AS events,"
                    " count(j.id) AS jobs, count(DISTINCT j.id) AS distinct_jobs"
                    " FROM webhook_deliveries d"
                    " LEFT JOIN procrastinate_jobs j ON j.args->>'delivery_id' = d.id::text"
                    "  AND j.lock = d.webhook_id::text || ':' || d.subject_id::text"
                    "  AND j.task_name = 'webhooks.deliver' AND j.queue_name = 'webhooks' AND j.status = 'todo'"
                    " GROUP BY d.webhook_id"
                )
            )
        ).all()
        head = (await conn.execute(text("SELECT max(seq) FROM events"))).scalar_one()
        cursors = dict((await conn.execute(text("SELECT id::text, cursor_seq FROM webhooks"))).all())
    by_hook = {str(row.webhook_id): row for row in rows}
    assert tuple(by_hook[everything["id"]])[1:] == (10, 10, 10, 10)
    assert tuple(by_hook[updates_only["id"]])[1:] == (6, 6, 6, 6)
    assert cursors == {everything["id"]: head, updates_only["id"]: head}
    log = await deliveries(client, province, updates_only["id"])
    assert {d["event_type"] for d in log} == {"organization.updated"}
    assert [d["event_seq"] for d in log] == sorted(d["event_seq"] for d in log)
    # Dispatch moves the cursor without touching the client's version.
    shown = await client.get(f"{HOOKS}/{everything['id']}", headers=province)
    assert (shown.json()["cursor_seq"], shown.headers["etag"]) == (head, '"1"')


@pytest.mark.race
async def test_deleting_a_webhook_cancels_its_pending_deliveries_and_stops_dispatch(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    await create_org(client, province)
    async with worker.open_runtime(fast, engine=engine) as runtime:
        assert await worker.dispatch_once(runtime) == 1
        [pending] = await deliveries(client, province, hook["id"])
        assert pending["status"] == "pending"

        stale = await client.delete(f"{HOOKS}/{hook['id']}", headers={**province, "If-Match": '"7"'})
        assert stale.status_code == 412
        deleted = await client.delete(f"{HOOKS}/{hook['id']}", headers={**province, "If-Match": '"1"'})
        assert deleted.status_code == 204, deleted.text

        # The job still queued for it sends nothing, and later events make no delivery.
        await worker.deliver(runtime, pending["id"])
        await create_org(client, province)
        assert await worker.dispatch_once(runtime) == 0
    assert receiver.requests == []
    async with engine.connect() as conn:
        statuses = (await conn.execute(text("SELECT status FROM webhook_deliveries"))).scalars().all()
    assert statuses == ["cancelled"]
    for path in (f"{HOOKS}/{hook['id']}", f"{HOOKS}/{hook['id']}/deliveries"):
        assert (await client.get(path, headers=province)).status_code == 404
    assert (await client.delete(f"{HOOKS}/{hook['id']}", headers=province)).status_code == 404
    assert (await client.get(HOOKS, headers=province)).json()["items"] == []


@pytest.mark.race
async def test_a_job_left_running_by_a_dead_worker_is_handed_back_to_the_queue(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    await create_org(client, province)
    async with worker.open_runtime(fast, engine=engine) as runtime:
        assert await worker.dispatch_once(runtime) == 1
        # The worker that fetched the job died and was pruned: the job is `doing` with no worker, and holds its lock.
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL"))
        queue = worker.create_queue(fast, runtime)
        async with queue.open_async():
            assert await worker.recover_stalled(queue) == 1
            assert await worker.recover_stalled(queue) == 0
    async with engine.connect() as conn:
        status = (await conn.execute(text("SELECT status::text FROM procrastinate_jobs"))).scalar_one()
    assert status == "todo"
    async with workers(fast):
        await eventually(all_settled(client, province, hook["id"], 1))
    assert len(receiver.requests) == 1


@pytest.mark.race
async def test_python_m_app_worker_delivers_and_stops_on_sigterm(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    await create_org(client, province)
    env = {
        **os.environ,
        "TIC_DATABASE_URL": str(fast.database_url),
        "TIC_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "TIC_WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.05",
        "TIC_WORKER_POLL_SECONDS": "0.05",
        "TIC_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "worker", "--concurrency", "2", cwd=ROOT, env=env
    )
    try:
        await eventually(all_settled(client, province, hook["id"], 1), within=20)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert len(receiver.requests) == 1


# --- the API alone (rolled back) --------------------------------------------------------------------------------------


async def test_a_webhook_shows_its_secret_once_and_generates_one_when_none_is_given(
    client: httpx.AsyncClient, auth: TokenFactory, connection: AsyncConnection
) -> None:
    province = auth("province")
    response = await client.post(HOOKS, headers=province, json={"url": "https://example.org/tic"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert len(created["secret"]) >= 32
    assert (created["event_types"], response.headers["etag"]) == ([], '"1"')
    assert response.headers["location"] == f"{HOOKS}/{created['id']}"

    shown = await client.get(f"{HOOKS}/{created['id']}", headers=province)
    listed = await client.get(HOOKS, headers=province)
    assert shown.status_code == listed.status_code == 200
    assert "secret" not in shown.json()
    assert all("secret" not in item for item in listed.json()["items"])
    assert created["secret"] not in shown.text + listed.text
    feed = await client.get("/api/v1/events", headers=province, params={"type": "webhook.created"})
    [event] = [e for e in feed.json()["items"] if e["subject_id"] == created["id"]]
    assert event["data"] == {"url_origin": "https://example.org", "event_types": []}
    # Created before its event was sequenced, the webhook starts at the head then (the event before its own); the
    # first dispatch moves it to its creation event, so deliveries start with the next one.
    assert created["cursor_seq"] == event["seq"] - 1
    assert await dispatch_on(connection, created["id"]) == webhook_service.Dispatched(0, False)
    shown = await client.get(f"{HOOKS}/{created['id']}", headers=province)
    assert shown.json()["cursor_seq"] == event["seq"]


async def dispatch_on(connection: AsyncConnection, webhook_id: str) -> webhook_service.Dispatched:
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        return await webhook_service.dispatch(session, uuid.UUID(webhook_id))


async def test_a_webhook_waits_for_its_creation_event_and_then_gets_only_what_follows_it(
    client: httpx.AsyncClient, app: FastAPI, auth: TokenFactory, connection: AsyncConnection
) -> None:
    province = auth("province")
    await create_org(client, province)  # sequenced: the head when the webhook is created
    # Without the test client's hooks nothing is sequenced: three events stay queued, the webhook's in the middle.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as plain:
        early = await create_org(plain, province)
        created = (await plain.post(HOOKS, headers=province, json={"url": "https://example.org/tic"})).json()
        after = await create_org(plain, province)
    head = created["cursor_seq"]
    assert await dispatch_on(connection, created["id"]) == webhook_service.Dispatched(0, False)  # nothing new
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as session, session.begin():
        assert await sequencer.sequence_once(session, batch=1) == 1  # the earlier event only
    # The feed moved past the cursor, but the webhook's own event is not placed yet: it waits, cursor unchanged.
    assert await dispatch_on(connection, created["id"]) == webhook_service.Dispatched(0, False)
    assert (await client.get(f"{HOOKS}/{created['id']}", headers=province)).json()["cursor_seq"] == head

    await sequence_on(connection)
    assert await dispatch_on(connection, created["id"]) == webhook_service.Dispatched(1, False)
    deliveries = (await client.get(f"{HOOKS}/{created['id']}/deliveries", headers=province)).json()["items"]
    feed = (await client.get("/api/v1/events", headers=province, params={"after": head})).json()["items"]
    assert [e["subject_id"] for e in feed] == [early["id"], created["id"], after["id"]]
    assert [d["event_seq"] for d in deliveries] == [feed[2]["seq"]]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.org/hook"},
        {"url": "javascript:alert(1)"},
        {"url": "/relative"},
        {"url": "https://example.org/", "event_types": [""]},
        {"url": "https://example.org/", "event_types": ["Center Recognized"]},
        {"url": "https://example.org/", "event_types": "center.recognized"},
        {"url": "https://example.org/", "secret": "short"},
        {"url": "https://example.org/", "unknown": 1},
    ],
)
async def test_a_webhook_needs_an_http_url_dotted_event_types_and_a_long_secret(
    client: httpx.AsyncClient, auth: TokenFactory, body: dict[str, Any]
) -> None:
    response = await client.post(HOOKS, headers=auth("province"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-failed"


@pytest.mark.parametrize("role", ["supervisor", "applicant", "expert", "third_party", "observer"])
async def test_every_webhook_route_answers_404_to_other_roles(
    client: httpx.AsyncClient, auth: TokenFactory, role: str
) -> None:
    hook = await subscribe(client, auth("province"), "https://example.org/tic")
    ids = {"org_id": uuid.uuid4()} if role in ("supervisor", "applicant", "third_party") else {}
    headers = auth(role, expert_id=uuid.uuid4()) if role == "expert" else auth(role, **ids)
    calls = [
        ("POST", HOOKS, {"url": "https://example.org/x"}),
        ("GET", HOOKS, None),
        ("GET", f"{HOOKS}/{hook['id']}", None),
        ("GET", f"{HOOKS}/{hook['id']}/deliveries", None),
        ("DELETE", f"{HOOKS}/{hook['id']}", None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not-found"
    assert (await client.get(f"{HOOKS}/{hook['id']}", headers=auth("province"))).status_code == 200


# --- the target policy and secrets at rest (issue 12) ----------------------------------------------------------------

# What a hostile tester registered and the worker then POSTed to, and the `type` of the 422 on `url` each now gets.
HOSTILE_TARGETS = [
    pytest.param("http://127.0.0.1:5432/", "url_address_refused", id="postgres-on-loopback"),
    pytest.param("http://169.254.169.254/latest/meta-data/iam/", "url_address_refused", id="cloud-metadata"),
    pytest.param("http://localhost:8000/api/v1/events", "url_address_refused", id="localhost"),
    pytest.param("http://[::1]:6379/", "url_address_refused", id="ipv6-loopback"),
    pytest.param("http://0.0.0.0:8000/", "url_address_refused", id="unspecified"),
    pytest.param("http://[::]:8000/", "url_address_refused", id="ipv6-unspecified"),
    pytest.param("http://2130706433:8000/", "url_address_refused", id="decimal-ipv4"),
    pytest.param("http://0x7f000001:8000/", "url_address_refused", id="hex-ipv4"),
    pytest.param("http://0177.0.0.1:8000/", "url_address_refused", id="octal-ipv4"),
    pytest.param("http://127.1:8000/", "url_address_refused", id="short-ipv4"),
    pytest.param("http://[::ffff:127.0.0.1]:8000/", "url_address_refused", id="ipv4-mapped-ipv6"),
    pytest.param("http://[::ffff:a9fe:a9fe]/", "url_address_refused", id="ipv4-mapped-metadata-in-hex"),
    pytest.param("http://10.0.0.8/", "url_address_refused", id="private-10"),
    pytest.param("http://172.16.5.4/", "url_address_refused", id="private-172"),
    pytest.param("http://192.168.1.1/", "url_address_refused", id="private-192"),
    pytest.param("http://100.64.0.1/", "url_address_refused", id="shared-cgnat"),
    pytest.param("http://224.0.0.251/", "url_address_refused", id="multicast"),
    pytest.param("http://240.0.0.1/", "url_address_refused", id="reserved"),
    pytest.param("http://[fe80::1]/", "url_address_refused", id="ipv6-link-local"),
    pytest.param("http://[fd00::1]/", "url_address_refused", id="ipv6-unique-local"),
    pytest.param("http://alice:s3cr3t@127.0.0.1:8000/", "url_credentials", id="credentials-on-loopback"),
    pytest.param("https://alice:s3cr3t@example.org/hook", "url_credentials", id="credentials"),
    pytest.param("https://example.org/hook#top", "url_fragment", id="fragment"),
    pytest.param("https://no-such-host.invalid/hook", "url_host_unresolvable", id="unresolvable"),
]


@pytest.mark.parametrize(("url", "kind"), HOSTILE_TARGETS)
async def test_a_hostile_target_is_refused_at_registration_with_a_stable_type_on_url(
    client: httpx.AsyncClient, auth: TokenFactory, url: str, kind: str
) -> None:
    province = auth("province")
    response = await client.post(HOOKS, headers=province, json={"url": url})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation-failed"
    [error] = problem["errors"]
    assert (error["loc"], error["type"]) == (["body", "url"], kind)
    assert "s3cr3t" not in response.text
    assert (await client.get(HOOKS, headers=province)).json()["items"] == []  # nothing half-written


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5432/", "http://2130706433:8000/", "http://127.1/", "http://[::ffff:127.0.0.1]:8000/"]
)
async def test_the_allow_list_admits_its_own_receivers_in_every_spelling(
    client: httpx.AsyncClient, auth: TokenFactory, local_receivers: Settings, url: str
) -> None:
    response = await client.post(HOOKS, headers=auth("province"), json={"url": url})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("url", ["http://[::1]:6379/", "http://127.0.0.2/", "http://10.0.0.8/", "http://0.0.0.0/"])
async def test_the_allow_list_admits_nothing_beyond_its_entries(
    client: httpx.AsyncClient, auth: TokenFactory, local_receivers: Settings, url: str
) -> None:
    response = await client.post(HOOKS, headers=auth("province"), json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["type"] == "url_address_refused"


async def test_an_allow_listed_host_name_is_admitted_whatever_private_address_it_has(
    client: httpx.AsyncClient, auth: TokenFactory, app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TEST_DNS, "hooks.internal.example.org", ["10.20.0.5"])
    province = auth("province")
    body = {"url": "http://hooks.internal.example.org/tic"}
    assert (await client.post(HOOKS, headers=province, json=body)).status_code == 422
    with api_settings(app, settings.model_copy(update={"webhook_allowed_hosts": ("HOOKS.internal.example.org.",)})):
        assert (await client.post(HOOKS, headers=province, json=body)).status_code == 201


async def test_one_private_answer_among_public_ones_refuses_the_host(
    client: httpx.AsyncClient, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TEST_DNS, "mixed.example.org", ["93.184.215.14", "10.0.0.7"])
    monkeypatch.setitem(TEST_DNS, "public.example.org", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    province = auth("province")
    mixed = await client.post(HOOKS, headers=province, json={"url": "https://mixed.example.org/"})
    assert mixed.status_code == 422, mixed.text
    assert mixed.json()["errors"][0]["type"] == "url_address_refused"
    public = await client.post(HOOKS, headers=province, json={"url": "https://public.example.org/"})
    assert public.status_code == 201, public.text


async def test_production_takes_https_targets_only(
    client: httpx.AsyncClient, auth: TokenFactory, app: FastAPI, settings: Settings
) -> None:
    province = auth("province")
    with api_settings(app, settings.model_copy(update={"environment": "production"})):
        plain = await client.post(HOOKS, headers=province, json={"url": "http://example.org/tic"})
        assert plain.status_code == 422, plain.text
        assert plain.json()["errors"][0] == {
            "loc": ["body", "url"],
            "msg": "the URL must use https",
            "type": "url_https_required",
        }
        assert (await client.post(HOOKS, headers=province, json={"url": "https://example.org/tic"})).status_code == 201
    # Outside production http is fine (development receivers).
    assert (await client.post(HOOKS, headers=province, json={"url": "http://example.org/tic"})).status_code == 201


async def test_a_replay_of_the_creating_request_masks_the_secret_and_keeps_it_nowhere(
    client: httpx.AsyncClient, auth: TokenFactory, connection: AsyncConnection
) -> None:
    headers = auth("province", **{"Idempotency-Key": "hook-once"})
    body = {"url": "https://example.org/tic"}
    first = await client.post(HOOKS, headers=headers, json=body)
    again = await client.post(HOOKS, headers=headers, json=body)
    assert first.status_code == again.status_code == 201, again.text
    secret = first.json()["secret"]
    assert len(secret) >= 32
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == {**first.json(), "secret": "********"}
    assert secret not in again.text
    stored = (await connection.execute(text("SELECT response_body::text FROM idempotency_keys"))).scalars().all()
    assert stored
    assert not any(secret in body for body in stored)


async def test_the_secret_column_holds_ciphertext_that_only_the_configured_keys_open(
    client: httpx.AsyncClient, auth: TokenFactory, connection: AsyncConnection, settings: Settings
) -> None:
    response = await client.post(
        HOOKS, headers=auth("province"), json={"url": "https://example.org/", "secret": SECRET}
    )
    assert response.status_code == 201, response.text
    stored = (
        await connection.execute(text("SELECT secret FROM webhooks WHERE id = :id"), {"id": response.json()["id"]})
    ).scalar_one()
    assert stored.startswith("fernet:")
    assert SECRET not in stored
    assert SecretBox(settings.webhook_fernet_keys()).open(stored) == SECRET.encode()
    with pytest.raises(SecretUnreadable):
        SecretBox([Fernet.generate_key().decode()]).open(stored)


async def test_a_row_from_before_credentials_were_refused_never_shows_them(
    client: httpx.AsyncClient, auth: TokenFactory, connection: AsyncConnection
) -> None:
    province = auth("province")
    hook = await subscribe(client, province, "https://example.org/hook?x=1")
    await connection.execute(
        text("UPDATE webhooks SET url = 'https://user:pass@example.org/hook?x=1' WHERE id = :id"), {"id": hook["id"]}
    )
    shown = await client.get(f"{HOOKS}/{hook['id']}", headers=province)
    listed = await client.get(HOOKS, headers=province)
    assert shown.json()["url"] == "https://example.org/hook?x=1"
    assert "pass" not in shown.text + listed.text


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("ConnectError: [Errno 111] Connection refused", "connect_error"),
        ("ConnectError: [Errno -2] Name or service not known", "dns_error"),
        ("ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls_error"),
        ("ReadTimeout: timed out", "timeout"),
        ("RemoteProtocolError: Server disconnected without sending a response.", "protocol_error"),
        ("HTTP 403", "http_status"),
        ("HTTP 301", "redirect_refused"),
        ("KeyError: 'x'", "error"),
    ],
)
async def test_a_delivery_logged_with_raw_error_text_before_categories_shows_only_its_category(
    client: httpx.AsyncClient, auth: TokenFactory, connection: AsyncConnection, stored: str, shown: str
) -> None:
    province = auth("province")
    hook = await subscribe(client, province, "https://example.org/hook")
    await connection.execute(
        text(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_seq, event_type, subject_id, status, attempts,"
            " last_error) SELECT gen_random_uuid(), CAST(:hook AS uuid), seq, type, subject_id, 'failed', 12, :error"
            " FROM events ORDER BY seq DESC LIMIT 1"
        ),
        {"hook": hook["id"], "error": stored},
    )
    [log] = await deliveries(client, province, hook["id"])
    assert log["last_error"] == shown


@pytest.mark.race
async def test_targets_admitted_at_registration_are_refused_at_delivery_without_the_allow_list_and_alike(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings
) -> None:
    """The port-scan oracle: an open port, a closed one and PostgreSQL's all read `refused_address`, and nothing is
    sent."""
    client, province = committed_client, auth("province")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    urls = [receiver.url, f"http://127.0.0.1:{closed}/", "http://127.0.0.1:5432/", "http://2130706433:5432/"]
    # Admitted by the allow-list; each takes only the organization's creation.
    hooks = [await subscribe(client, province, url, event_types=["organization.created"]) for url in urls]
    async with workers(fast.model_copy(update={"webhook_allowed_hosts": ()})):
        await create_org(client, province)
        for hook in hooks:
            await eventually(all_attempted(client, province, hook["id"], 1))
    logs = [(await deliveries(client, province, hook["id"]))[0] for hook in hooks]
    assert {(log["last_error"], log["last_status_code"]) for log in logs} == {("refused_address", None)}
    assert receiver.requests == []


@pytest.mark.race
async def test_dns_rebinding_after_registration_is_refused_at_delivery(
    committed_client: httpx.AsyncClient,
    auth: TokenFactory,
    receiver: Receiver,
    settings: Settings,
    fast: Settings,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, province = committed_client, auth("province")
    strict = fast.model_copy(update={"webhook_allowed_hosts": ()})
    monkeypatch.setitem(TEST_DNS, "rebind.example.org", ["93.184.215.14"])  # public while it is checked
    with api_settings(app, strict):
        hook = await subscribe(client, province, f"http://rebind.example.org:{receiver.port}/hooks/tic")
    monkeypatch.setitem(TEST_DNS, "rebind.example.org", ["127.0.0.1"])  # then the receiver on loopback
    async with workers(strict):
        await create_org(client, province)
        await eventually(all_attempted(client, province, hook["id"], 1))
    [log] = await deliveries(client, province, hook["id"])
    assert (log["last_error"], log["last_status_code"]) == ("refused_address", None)
    assert receiver.requests == []


@pytest.mark.race
async def test_the_worker_connects_to_the_address_it_checked_and_names_the_host(
    committed_client: httpx.AsyncClient,
    auth: TokenFactory,
    receiver: Receiver,
    fast: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host exists only in the resolver the policy consults (the system's would not find it): the request that
    arrives went to the address that was checked, and still names the URL's host."""
    client, province = committed_client, auth("province")
    monkeypatch.setitem(TEST_DNS, "receiver.example.org", ["127.0.0.1"])
    hook = await subscribe(client, province, f"http://receiver.example.org:{receiver.port}/hooks/tic")
    async with workers(fast):
        await create_org(client, province)
        await eventually(all_settled(client, province, hook["id"], 1))
    [request] = receiver.requests
    assert request.headers["host"] == f"receiver.example.org:{receiver.port}"
    assert signed_with(SECRET, request)


@pytest.mark.race
async def test_a_redirect_is_not_followed_and_is_logged_as_refused(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings
) -> None:
    client, province = committed_client, auth("province")
    receiver.redirect_to = f"http://127.0.0.1:{receiver.port}/moved"
    hook = await subscribe(client, province, receiver.url)
    async with workers(fast):
        await create_org(client, province)
        await eventually(all_attempted(client, province, hook["id"], 1))
    [log] = await deliveries(client, province, hook["id"])
    assert (log["last_error"], log["last_status_code"]) == ("redirect_refused", 307)
    assert {r.path for r in receiver.requests} == {"/hooks/tic"}  # never the Location
    assert len(receiver.requests) >= log["attempts"]


@pytest.mark.race
async def test_a_stored_url_with_credentials_is_refused_at_delivery_and_sends_nothing(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    with_credentials = receiver.url.replace("http://", "http://user:pass@")
    async with engine.begin() as conn:  # a row from before credentials were refused
        await conn.execute(
            text("UPDATE webhooks SET url = :url WHERE id = :id"), {"url": with_credentials, "id": hook["id"]}
        )
    async with workers(fast):
        await create_org(client, province)
        await eventually(all_attempted(client, province, hook["id"], 1))
    [log] = await deliveries(client, province, hook["id"])
    assert log["last_error"] == "refused_url"
    assert receiver.requests == []


@pytest.mark.race
async def test_a_200_character_secret_is_stored_encrypted_and_still_verifies(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    secret = "长" * 200  # 600 bytes of UTF-8: HMAC signs with its SHA-256, and so may the service
    hook = await subscribe(client, province, receiver.url, secret=secret)
    async with engine.connect() as conn:
        stored = (
            await conn.execute(text("SELECT secret FROM webhooks WHERE id = :id"), {"id": hook["id"]})
        ).scalar_one()
    assert stored.startswith("fernet:")
    assert "长" not in stored
    async with workers(fast):
        await create_org(client, province)
        await eventually(all_settled(client, province, hook["id"], 1))
    [request] = receiver.requests
    assert signed_with(secret, request)


@pytest.mark.race
async def test_a_secret_stored_in_clear_still_signs_until_sealing_encrypts_it_under_the_first_key(
    committed_client: httpx.AsyncClient, auth: TokenFactory, receiver: Receiver, fast: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, receiver.url)
    legacy = "legacy-plain-secret-0123456789"
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE webhooks SET secret = :s WHERE id = :id"), {"s": legacy, "id": hook["id"]})
    async with workers(fast):
        await create_org(client, province)
        await eventually(all_settled(client, province, hook["id"], 1))
    assert signed_with(legacy, receiver.requests[0])

    # Rotation: a new key goes first, the old (here the development key) stays to decrypt.
    new_key = Fernet.generate_key().decode()
    rotated = SecretBox([new_key, *fast.webhook_fernet_keys()])
    sessionmaker = create_sessionmaker(engine)
    async with transaction(sessionmaker) as session:
        sealed = await webhook_service.seal_secrets(session, rotated)
    assert (sealed.changed, sealed.unreadable) == (1, 0)
    async with transaction(sessionmaker) as session:
        assert (await webhook_service.seal_secrets(session, rotated)).changed == 0
    async with engine.connect() as conn:
        stored, version = (
            await conn.execute(text("SELECT secret, version FROM webhooks WHERE id = :id"), {"id": hook["id"]})
        ).one()
    assert legacy not in stored
    assert SecretBox([new_key]).open(stored) == legacy.encode()  # the old key is no longer needed
    assert version == 1  # re-encrypting is not an edit

    async with workers(fast.model_copy(update={"webhook_secret_keys": SecretStr(new_key)})):
        await create_org(client, province)
        await eventually(all_settled(client, province, hook["id"], 2))
    assert signed_with(legacy, receiver.requests[1])


@pytest.mark.race
async def test_python_m_app_seal_webhook_secrets_encrypts_what_is_in_clear(
    committed_client: httpx.AsyncClient, auth: TokenFactory, local_receivers: Settings, engine: AsyncEngine
) -> None:
    client, province = committed_client, auth("province")
    hook = await subscribe(client, province, "http://127.0.0.1:9/hook")
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE webhooks SET secret = 'plain-0123456789abcdef' WHERE id = :id"), {"id": hook["id"]}
        )
    env = {**os.environ, "TIC_DATABASE_URL": str(local_receivers.database_url), "TIC_LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "seal-webhook-secrets", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "re-encrypted under the first key: 1" in err.decode()
    async with engine.connect() as conn:
        stored = (
            await conn.execute(text("SELECT secret FROM webhooks WHERE id = :id"), {"id": hook["id"]})
        ).scalar_one()
    assert SecretBox(local_receivers.webhook_fernet_keys()).open(stored) == b"plain-0123456789abcdef"
