"""Webhooks end to end: the province subscribes, workers dispatch the committed feed and deliver it to a local
receiver (127.0.0.1, a random port) that records every request and can be told to fail.

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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import worker
from app.settings import Settings
from tests.conftest import TokenFactory
from tests.factories import create_org

HOOKS = "/api/v1/webhooks"
ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-test-0123456789abcdef"


# --- a local receiver ------------------------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

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
                state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                failing = state.fail_first > 0
                state.fail_first -= 1 if failing else 0
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


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """The test settings with sub-second dispatch, polling and backoff."""
    return settings.model_copy(
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
async def test_a_delivery_is_given_up_after_the_last_attempt_and_the_log_keeps_the_error(
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
    assert log["last_error"].startswith("ConnectError")
    assert "Traceback" not in log["last_error"]
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
    client: httpx.AsyncClient, auth: TokenFactory
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
    assert created["cursor_seq"] == event["seq"]


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
