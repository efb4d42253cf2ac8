"""Integration delay (issue 14): how long a committed transition's event waits for the sequencer, under load.

    python -m bench.integration_delay            # 20 s, 32 concurrent writers
    BENCH_QUICK=1 python -m bench.integration_delay

A fresh database (bench.database), the service on it (bench.servers, one worker: its lifespan runs the sequencer,
the only candidate), and `tasks` concurrent clients creating organizations (one transition, one feed event each) for
`seconds`. A watcher connection reads the feed's new rows every `poll_ms`; each event's delay is the watcher's clock
when it first saw the row minus the event's `occurred_at`, the moment its transaction appended it, just before its
COMMIT. So each figure is an upper bound of commit → sequenced, by the commit's own duration plus the poll interval.
The machine's one clock serves both ends (the service stamps with Python's, the watcher with PostgreSQL's).

`measure()` is the part `make bench` can call on a server it already runs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

import asyncpg
import httpx

from app.api.auth import issue_token
from bench import database, servers
from bench.config import AUTH_SECRET, BenchConfig
from bench.seed import credit_code


@dataclass(frozen=True)
class Delay:
    events: int
    transitions: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    def line(self) -> str:
        return (
            f"integration delay (append → sequenced, upper bound of commit → sequenced): p50 {self.p50_ms:.1f} ms,"
            f" p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms over {self.events} events"
            f" ({self.transitions / self.seconds:.0f} transitions/s)"
        )


async def measure(url: str, base: str, *, tasks: int = 32, seconds: float = 20.0, poll_ms: float = 2.0) -> Delay:
    """Load the service at `base` (on database `url`) with `tasks` writers for `seconds`; the delays seen meanwhile."""
    watcher = await asyncpg.connect(url)
    after = int(await watcher.fetchval("SELECT coalesce(max(seq), 0) FROM events"))
    delays: list[int] = []  # microseconds
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal after
        # Until the load stops and everything it appended has been seen (the queue is empty and nothing new came).
        while True:
            # The queue is looked at first: empty then, everything the load appended is in the feed for the read after.
            finished = done.is_set() and not await watcher.fetchval("SELECT count(*) FROM event_queue")
            rows = await watcher.fetch(
                "SELECT seq, occurred_at, clock_timestamp() AS seen FROM events WHERE seq > $1 ORDER BY seq", after
            )
            for row in rows:
                delays.append(int((row["seen"] - row["occurred_at"]).total_seconds() * 1_000_000))
                after = row["seq"]
            if finished and not rows:
                return
            await asyncio.sleep(poll_ms / 1000)

    token = issue_token(AUTH_SECRET, role="province", sub="bench-province", ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}"}
    codes = itertools.count(9_000_000 + int(time.time()) % 1_000_000 * 10)
    transitions = 0

    async def write(client: httpx.AsyncClient, stop: float) -> None:
        nonlocal transitions
        while time.monotonic() < stop:
            body = {"name": "基准单位", "credit_code": credit_code(next(codes)), "kind": "enterprise"}
            response = await client.post("/api/v1/organizations", json=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"a transition failed: {response.status_code} {response.text[:300]}")
            transitions += 1

    watching = asyncio.create_task(watch())
    started = time.monotonic()
    try:
        limits = httpx.Limits(max_connections=tasks, max_keepalive_connections=tasks)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            await asyncio.gather(*(write(client, started + seconds) for _ in range(tasks)))
        elapsed = time.monotonic() - started
        done.set()
        await asyncio.wait_for(watching, timeout=60)
    finally:
        watching.cancel()
        await watcher.close()
    ordered = sorted(delays)
    if len(ordered) != transitions:
        raise RuntimeError(f"{transitions} transitions committed but {len(ordered)} events seen in the feed")
    return Delay(
        events=len(ordered),
        transitions=transitions,
        seconds=elapsed,
        p50_ms=_quantile(ordered, 0.50) / 1000,
        p99_ms=_quantile(ordered, 0.99) / 1000,
        max_ms=ordered[-1] / 1000 if ordered else 0.0,
    )


def _quantile(ordered: list[int], q: float) -> float:
    """Nearest-rank quantile of sorted values (NaN for none)."""
    if not ordered:
        return float("nan")
    return float(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))])


def main() -> int:
    config = BenchConfig.from_env()
    quick = os.environ.get("BENCH_QUICK", "").strip().lower() in ("1", "true", "yes", "on")
    seconds = float(os.environ.get("BENCH_DELAY_SECONDS", "3" if quick else "20"))
    tasks = int(os.environ.get("BENCH_DELAY_TASKS", str(config.connections)))
    db = database.create(config)
    server = servers.start("service", db.url, 1, config.results_dir / "logs")
    try:
        result = asyncio.run(measure(db.url, server.base, tasks=tasks, seconds=seconds))
    finally:
        servers.stop(server)
        if not config.keep_db:
            database.drop(db)
    print(result.line())
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
