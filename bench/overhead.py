"""What the per-request access log line and metrics cost (issue 13, item 3), measured with logging on and off.

    .venv/bin/python -m bench.overhead            # prints µs per request for each part

It calls exactly what `RequestContextMiddleware` calls after every request — the two Prometheus updates and the
structlog access line, configured by `app.logging.configure_logging` with JSON output (to /dev/null here) — and
reports the CPU time per call with the log level at INFO (the line is rendered and written) and at WARNING (the
bench's servers: the line is filtered out before any processor runs). Compare the figures with the server CPU per
request that `make bench` reports.
"""

from __future__ import annotations

import contextlib
import os
import time

import structlog
from prometheus_client import CollectorRegistry

from app.api.middleware import Metrics
from app.logging import configure_logging

N = 20000


def _per_call(fn: object, n: int = N) -> float:
    call = fn  # type: ignore[assignment]
    t0 = time.process_time()
    for _ in range(n):
        call()  # type: ignore[operator]
    return (time.process_time() - t0) / n * 1e6


def measure() -> dict[str, float]:
    metrics = Metrics(CollectorRegistry())

    def record_metrics() -> None:
        metrics.latency.labels("GET", "/api/v1/centers/{center_id}", "200").observe(0.0012)
        metrics.requests.labels("GET", "/api/v1/centers/{center_id}", "200").inc()

    out = {"metrics (histogram + counter)": _per_call(record_metrics)}
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        for level in ("INFO", "WARNING"):
            configure_logging(level, json_output=True)
            log = structlog.get_logger("tic.access")

            def access_line(log: object = log) -> None:
                log.info(  # type: ignore[attr-defined]
                    "request",
                    request_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                    method="GET",
                    path="/api/v1/centers/6f1c1f5e-8a43-4a9e-9f5e-0d8c1d2b3a4f",
                    route="/api/v1/centers/{center_id}",
                    status=200,
                    latency_ms=1.23,
                    principal="bench-supervisor",
                    role="supervisor",
                )

            out[f"access log line, level {level}"] = _per_call(access_line)
    return out


def main() -> int:
    for name, micros in measure().items():
        print(f"{micros:8.1f} µs/request  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
