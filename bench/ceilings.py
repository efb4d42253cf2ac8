"""PostgreSQL's own ceilings for an audited transition (issue 14), measured with the machine's pgbench.

Two committed scripts, `bench/sql/transition_chained.sql` (row lock, UPDATE, history INSERT, the global feed lock,
the feed head read, event INSERT: the service's transaction before issue 14) and `bench/sql/transition_unchained.sql`
(the same without the lock and the head read), each run with the service scenario's client count and duration,
prepared statements, against the bench database. Latency comes from pgbench's per-transaction log (`--log`): like
`bench.load`, transactions that start in the warm-up are not counted, and the rate is over the measured window.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.db.session import plain_url
from bench.config import ROOT

SCRIPTS = {
    "pgbench-chained": ROOT / "bench" / "sql" / "transition_chained.sql",
    "pgbench-unchained": ROOT / "bench" / "sql" / "transition_unchained.sql",
}
SUBJECTS = "bench_subjects"


def pgbench() -> str | None:
    return shutil.which("pgbench") or ("/usr/bin/pgbench" if Path("/usr/bin/pgbench").exists() else None)


async def prepare_subjects(url: str) -> int:
    """Number the seeded applications 1..n for the scripts' random pick (pgbench variables are numbers)."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            f"DROP TABLE IF EXISTS {SUBJECTS}; "
            f"CREATE TABLE {SUBJECTS} AS SELECT row_number() OVER (ORDER BY id)::int AS n, id FROM applications; "
            f"ALTER TABLE {SUBJECTS} ADD PRIMARY KEY (n); ANALYZE {SUBJECTS}"
        )
        return int(await connection.fetchval(f"SELECT count(*) FROM {SUBJECTS}"))
    finally:
        await connection.close()


def connection_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(plain_url(url))
    host = parsed.query.get("host") or parsed.host or "127.0.0.1"
    args = ["-h", str(host), "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return [*args, str(parsed.database)], env


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index] / 1e3


def read_log(prefix: Path, warmup: float, duration: float) -> tuple[list[int], int]:
    """Latencies (µs) of the transactions that started in the measured window, and how many started in the warm-up.

    A log line is `client transaction latency_us script epoch_s epoch_us` (pgbench's --log), the epoch being when the
    transaction ended; a failed one (with --failures-detailed, not used) would show `failed` in place of latency."""
    done: list[tuple[float, int]] = []
    for path in prefix.parent.glob(prefix.name + ".*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) < 6 or not fields[2].isdigit():
                continue
            latency = int(fields[2])
            ended = int(fields[4]) + int(fields[5]) / 1e6
            done.append((ended - latency / 1e6, latency))
    if not done:
        return [], 0
    first = min(started for started, _ in done)
    measure_from, measure_to = first + warmup, first + warmup + duration
    window = sorted(latency for started, latency in done if measure_from <= started < measure_to)
    return window, sum(1 for started, _ in done if started < measure_from)


def run(
    name: str, url: str, *, clients: int, duration: float, warmup: float, subjects: int, out: Path
) -> dict[str, Any]:
    """Run one script; returns what `bench.load` returns for an HTTP scenario (rps, percentiles, errors, client CPU)."""
    binary = pgbench()
    if binary is None:
        raise FileNotFoundError("pgbench is not installed (Debian: postgresql-client)")
    target, env = connection_args(url)
    prefix = out / name
    for old in out.glob(name + ".*"):
        old.unlink()
    command = [
        binary,
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={clients}",
        f"--jobs={min(clients, os.cpu_count() or 1)}",
        f"--time={max(1, round(warmup + duration))}",
        f"--define=subjects={subjects}",
        f"--file={SCRIPTS[name]}",
        "--log",
        f"--log-prefix={prefix}",
        *target,
    ]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, **env})
    wall = time.perf_counter() - wall0
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    (out / f"{name}.out").write_text(" ".join(command) + "\n\n" + completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"{name}: pgbench exited with {completed.returncode}:\n{completed.stderr[-2000:]}")
    latencies, in_warmup = read_log(prefix, warmup, duration)
    failed = _failed(completed.stdout)
    return {
        "requests": len(latencies),
        "errors": failed,
        "statuses": {"committed": len(latencies), "failed": failed},
        "warmup_statuses": {"committed": in_warmup},
        "samples": {},
        "rps": len(latencies) / duration,
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] / 1e3 if latencies else float("nan"),
        "client_cpu": (usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime) / wall,
        "used": len(latencies) + in_warmup,
        "summary": _summary(completed.stdout),
    }


def _failed(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("number of failed transactions:"):
            return int(line.split(":", 1)[1].split()[0])
    return 0


def _summary(stdout: str) -> str:
    keep = ("number of transactions actually processed", "latency average", "tps")
    return "; ".join(line.strip() for line in stdout.splitlines() if line.startswith(keep))
