"""Readiness: the database answers and its schema is at the migrations' head."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import migrations


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str
    migrations: str


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
