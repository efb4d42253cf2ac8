"""The load generator, run as its own process: `python -m bench.load SPEC.json` prints one JSON result.

A closed loop of N keep-alive HTTP/1.1 connections (uvloop, httptools' C response parser, requests pre-rendered to
bytes), each sending its next request when the previous response is complete. A warm-up phase runs first and is not
recorded; then every request that *starts* within the measured window is timed with perf_counter_ns. Requests come
from the spec's list, cycled (`cycle`) or each used exactly once (`once`, for writes on distinct resources). The
client reports its own CPU time, so a run can show that the client was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httptools
import uvloop


class Connection(asyncio.Protocol):
    def __init__(self, capture: bool) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport instances
        self.waiter: asyncio.Future[int] | None = None
        self.capture = capture
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        if self.capture and len(self.body) < 2000:
            self.body += body

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.parser.get_status_code())

    async def send(self, raw: bytes) -> int:
        self.body.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


@dataclass
class Tally:
    latencies_ns: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    samples: dict[int, str] = field(default_factory=dict)
    warmup_statuses: Counter[int] = field(default_factory=Counter)
    last_done_ns: int = 0


def render(spec: dict[str, Any], request: dict[str, Any]) -> bytes:
    body = (request.get("body") or "").encode()
    lines = [f"{request.get('method', 'GET')} {request['path']} HTTP/1.1", f"Host: {spec['host']}:{spec['port']}"]
    lines += [f"{name}: {value}" for name, value in (request.get("headers") or {}).items()]
    if body or request.get("method", "GET") != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index] / 1e6


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    raws = [render(spec, r) for r in spec["requests"]]
    if spec.get("shuffle", True):
        random.Random(spec.get("seed", 1)).shuffle(raws)
    position = 0
    once = spec.get("mode", "cycle") == "once"

    def next_request() -> bytes | None:
        nonlocal position
        if once and position >= len(raws):
            return None
        raw = raws[position % len(raws)]
        position += 1
        return raw

    connections: list[Connection] = []
    for _ in range(spec["connections"]):
        _, protocol = await loop.create_connection(lambda: Connection(capture=True), spec["host"], spec["port"])
        connections.append(protocol)

    tally = Tally()
    warmup_ns = int(spec.get("warmup", 0) * 1e9)
    duration_ns = int(spec["duration"] * 1e9)
    started_ns = time.perf_counter_ns()
    measure_from = started_ns + warmup_ns
    measure_to = measure_from + duration_ns
    usage0: list[float] = []

    async def worker(connection: Connection, pick: Callable[[], bytes | None]) -> None:
        while True:
            t0 = time.perf_counter_ns()
            if t0 >= measure_to:
                return
            raw = pick()
            if raw is None:
                return
            try:
                status = await connection.send(raw)
            except (ConnectionError, httptools.HttpParserError) as exc:
                tally.failures[type(exc).__name__] += 1
                return
            t1 = time.perf_counter_ns()
            if t0 < measure_from:
                tally.warmup_statuses[status] += 1
                continue
            tally.latencies_ns.append(t1 - t0)
            tally.statuses[status] += 1
            tally.last_done_ns = max(tally.last_done_ns, t1)
            if status >= 400 and status not in tally.samples:
                tally.samples[status] = connection.body.decode("utf-8", "replace")[:500]

    async def mark_cpu() -> None:
        await asyncio.sleep(max(0.0, (measure_from - time.perf_counter_ns()) / 1e9))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        usage0.append(usage.ru_utime + usage.ru_stime)

    marker = asyncio.ensure_future(mark_cpu())
    tasks = [asyncio.ensure_future(worker(c, next_request)) for c in connections]
    timeout = spec.get("timeout", 60.0)
    _, pending = await asyncio.wait(tasks, timeout=(warmup_ns + duration_ns) / 1e9 + timeout)
    for task in pending:
        task.cancel()
        tally.failures["timeout"] += 1
    await marker
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()

    # A `once` run may run out of resources before the window ends: its rate is over the time it actually ran.
    end_ns = min(measure_to, tally.last_done_ns) if once and position >= len(raws) else measure_to
    elapsed = max(1e-9, (end_ns - measure_from) / 1e9)
    latencies = sorted(tally.latencies_ns)
    ok = sum(count for status, count in tally.statuses.items() if 200 <= status < 300)
    return {
        "requests": len(latencies),
        "ok": ok,
        "errors": len(latencies) - ok + sum(tally.failures.values()),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "warmup_statuses": {str(k): v for k, v in sorted(tally.warmup_statuses.items())},
        "failures": dict(tally.failures),
        "samples": {str(k): v for k, v in tally.samples.items()},
        "elapsed_s": round(elapsed, 3),
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] / 1e6 if latencies else float("nan"),
        "mean_ms": sum(latencies) / len(latencies) / 1e6 if latencies else float("nan"),
        "client_cpu": (usage.ru_utime + usage.ru_stime - usage0[0]) / elapsed if usage0 else float("nan"),
        "connections": spec["connections"],
        "used": position,
    }


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    result = uvloop.run(run(spec))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
