"""Knobs of `make bench`, all from the environment, so a smoke run and the recorded run use the same code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
# The secret the servers verify tokens with; the bench mints its tokens with the same one.
AUTH_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
# The day obligations are judged on: fixed, so every run asks the same question of the same data.
AS_OF = date(2026, 3, 1)


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.replace(" ", "").split(",") if part]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class BenchConfig:
    sizes: list[int]
    events: int
    applications: int
    duration: float
    warmup: float
    connections: int
    workers: list[int]
    # Obligations list every reachable center at once: measured at sizes up to this many centers.
    obligations_max_size: int
    sample: int
    profile: bool
    keep_db: bool
    # A negative niceness (root only) gives the bench's processes, and the embedded PostgreSQL it starts, the CPU
    # before anything else on a shared machine; 0 leaves scheduling alone.
    nice: int
    database_url: str | None
    results_dir: Path = field(default=RESULTS_DIR)

    @classmethod
    def from_env(cls) -> BenchConfig:
        quick = _flag("BENCH_QUICK")
        env = os.environ.get
        return cls(
            sizes=sorted(_ints(env("BENCH_SIZES", "200,1000" if quick else "1000,10000,100000"))),
            events=int(env("BENCH_EVENTS", "20000" if quick else "1000000")),
            applications=int(env("BENCH_APPLICATIONS", "8000" if quick else "60000")),
            duration=float(env("BENCH_DURATION", "3" if quick else "10")),
            warmup=float(env("BENCH_WARMUP", "1" if quick else "2")),
            connections=int(env("BENCH_CONNECTIONS", "32")),
            workers=_ints(env("BENCH_WORKERS", "1,2")),
            obligations_max_size=int(env("BENCH_OBLIGATIONS_MAX", "10000")),
            sample=int(env("BENCH_SAMPLE", "100")),
            profile=_flag("BENCH_PROFILE"),
            keep_db=_flag("BENCH_KEEP_DB"),
            nice=int(env("BENCH_NICE", "0")),
            database_url=env("TIC_DATABASE_URL") or None,
        )
