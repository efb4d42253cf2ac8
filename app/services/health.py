"""Liveness and readiness. Readiness: the database answers and its schema is at the migrations' head. Liveness: the
process answers, and an embedded database it is responsible for has not been unreachable for longer than a grace."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import migrations
from app.db.embedded import DatabaseWatch


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str
    migrations: str


@dataclass(frozen=True)
class Liveness:
    alive: bool
    unreachable_seconds: float


def liveness(watch: DatabaseWatch | None, *, grace_seconds: float, now: float | None = None) -> Liveness:
    """From the watchdog's last view, never a query. Without a watch (an external database) the process is alive
    whatever the database does: restarting the process would not bring an external server back."""
    if watch is None:
        return Liveness(True, 0.0)
    unreachable = watch.unreachable_for(time.monotonic() if now is None else now)
    return Liveness(not watch.gave_up and unreachable <= grace_seconds, unreachable)


async def readiness(engine: AsyncEngine | None) -> Readiness:
    if engine is None:
        return Readiness(False, "not configured", "unknown")
    try:
        current = await asyncio.wait_for(migrations.current_revisions(engine), timeout=3)
    except Exception:  # any failure to reach the database means "not ready", never a 500
        return Readiness(False, "unreachable", "unknown")
    heads = migrations.head_revisions()
    at_head = current == heads
    return Readiness(at_head, "ok", "at head" if at_head else f"at {sorted(current)}, head is {sorted(heads)}")
