"""`make bench`'s audited-write comparisons (issue 14): pgbench's log read as the load client counts, its connection
taken from the bench's URL, the committed scripts sending the write floor's statements, and the report's targets."""

from __future__ import annotations

import math
import re
from pathlib import Path

from bench import ceilings, report
from bench.baselines import write_floor
from bench.config import BenchConfig
from bench.run import Result


def test_pgbench_latencies_count_what_starts_in_the_measured_window(tmp_path: Path) -> None:
    # client, transaction, latency µs, script, end epoch s, end epoch µs: starts at 100.0, 100.5, 101.2, 103.9, 104.1
    lines = {
        "pgbench-x.4242": ["0 0 200000 0 100 200000", "0 1 300000 0 100 800000", "1 0 5000 0 101 205000"],
        "pgbench-x.4242.1": ["2 0 50000 0 103 950000", "2 1 1000 0 104 101000", "junk"],
    }
    for name, content in lines.items():
        (tmp_path / name).write_text("\n".join(content) + "\n")
    (tmp_path / "pgbench-y.1").write_text("0 0 7 0 100 0\n")  # another script's log
    latencies, in_warmup = ceilings.read_log(tmp_path / "pgbench-x", warmup=1.0, duration=3.0)
    assert latencies == [5000, 50000]  # started at 101.2 and 103.9: inside [101, 104)
    assert in_warmup == 2
    assert ceilings.percentile(latencies, 0.5) == 5.0
    assert ceilings.read_log(tmp_path / "pgbench-z", warmup=1.0, duration=3.0) == ([], 0)


def test_pgbench_connects_where_the_bench_database_is() -> None:
    args, env = ceilings.connection_args("postgresql://bench:s3cret@db.local:6543/tic_bench_1")
    assert args == ["-h", "db.local", "-p", "6543", "-U", "bench", "tic_bench_1"]
    assert env == {"PGPASSWORD": "s3cret"}
    args, env = ceilings.connection_args("postgresql+asyncpg://postgres@/tic_bench?host=/tmp/pg")
    assert args[:2] == ["-h", "/tmp/pg"]
    assert args[-1] == "tic_bench"
    assert env == {}


def _statements(script: Path) -> list[str]:
    return [line for line in script.read_text().splitlines() if line and not line.startswith(("--", "\\"))]


def test_the_pgbench_scripts_send_the_write_floors_statements_and_the_chained_one_the_feed_lock() -> None:
    unchained = _statements(ceilings.SCRIPTS["pgbench-unchained"])
    chained = _statements(ceilings.SCRIPTS["pgbench-chained"])
    assert unchained[0] == "BEGIN;"
    assert unchained[-1] == "END;"
    body = unchained[1:-1]
    floor = [write_floor.LOCK, write_floor.UPDATE, write_floor.HISTORY, write_floor.EVENT]
    for sent, floor_statement in zip(body, floor, strict=True):
        head = re.match(r"(SELECT|UPDATE \w+|INSERT INTO \w+)", floor_statement)
        assert head is not None, floor_statement
        assert head[1] in sent, (sent, floor_statement)
    assert "FOR UPDATE" in body[0]
    # The chained script: the same statements, plus the global lock and the head read before the event.
    extra = ("SELECT pg_advisory_xact_lock(", "SELECT seq AS head_seq")
    assert [s for s in chained if not s.startswith(extra)][:-2] == unchained[:-2]
    lock = next(s for s in chained if "pg_advisory_xact_lock" in s)
    assert lock == f"SELECT pg_advisory_xact_lock({0x7E1C_0001});"
    assert chained.index(lock) == 4
    assert "ORDER BY seq DESC LIMIT 1" in chained[5]


def _result(scenario: str, app: str, rps: float, p50: float = 1.0, p99: float = 2.0, workers: int = 1) -> Result:
    return Result(
        scenario=scenario,
        app=app,
        size=1000,
        workers=workers,
        connections=32,
        rps=rps,
        p50_ms=p50,
        p90_ms=p99,
        p99_ms=p99,
        max_ms=p99,
        requests=100,
        errors=0,
        client_cpu=0.1,
        server_cpu=math.nan if app.startswith("pgbench") else 0.5,
        machine_busy=1.0,
        background=0.0,
    )


def test_the_report_sets_the_service_beside_its_write_floor_and_the_pgbench_ceilings() -> None:
    config = BenchConfig(
        sizes=[1000],
        events=1_000_000,
        applications=10,
        duration=10,
        warmup=2,
        connections=32,
        workers=[1],
        obligations_max_size=1000,
        sample=10,
        profile=False,
        keep_db=False,
        nice=0,
        database_url=None,
    )
    facts = {
        "nproc": 2,
        "cpu": "cpu",
        "memory_gib": 1,
        "kernel": "k",
        "python": "3",
        "packages": {},
        "postgres": {"server_version": "15"},
    }
    results = [
        _result("transitions", "service", 500, p99=80),
        _result("transitions", "service", 600, workers=2),
        _result("transitions", "write_floor", 800),
        _result("transitions", "pgbench-chained", 420),
        _result("transitions", "pgbench-unchained", 1300),
        _result("proof", "service", 300, p50=4.2),
        _result("checkpoint", "service", 400, p50=2.5),
    ]
    text = report.render(config, facts, results, {}, {"tree_size": 1_000_000}, {}, 60)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert rows["audited transitions ÷ write floor (tx/s, 1k)"].endswith("| ≥ 0.6 | 0.62 | yes |")
    assert rows["audited transitions ÷ pgbench chained-lock ceiling (tx/s, 1k)"].endswith("| > 1× | 1.19 | yes |")
    unchained = "audited transitions ÷ pgbench unchained, the ceiling to approach (tx/s, 1k)"
    assert rows[unchained].endswith("| reported | 0.38 | – |")
    assert rows["transition p99 (1k)"].endswith("| ≤ 100 ms | 80.00 | yes |")
    assert rows["inclusion proof p50 over 1M events"].endswith("| ≤ 5 ms | 4.20 | yes |")
    assert rows["checkpoint p50 over 1M events"].endswith("| ≤ 2 ms | 2.50 | **no** |")
    side_by_side = text.split("## Audited writes side by side")[1].split("##")[0]
    assert "| pgbench chained-lock ceiling: + feed lock and head read | 420 | 1.00 | 2.00 | 0 | 1.19 |" in side_by_side
    assert "| transitions | service | 1k | 1 | 32 | 500 |" in text
    assert "| 0.62 | – |" in text
    # The write floor runs with one worker: a two-worker service row has no floor to compare with.
    assert "| transitions | service | 1k | 2 | 32 | 600 | 1.00 | 2.00 | 0 | – | – |" in text
