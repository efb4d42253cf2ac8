"""The floor for audited writes (issue 14): FastAPI + asyncpg, no auth, no ORM, no global lock.

`POST /applications/{id}/recommend` sends, in one transaction, the statements the service sends for the bench's
transition (`POST /api/v1/applications/{id}/recommend`, see `tests/api/test_query_counts.py`) against the same tables:
the row lock (`SELECT … FOR UPDATE`), the `UPDATE` of status and version, the history row (`transitions`) and the
event appended to the feed's queue (`event_queue`, as the service's writers do since issue 14), and nothing else: no
guard facts, no authorization, no ORM. Run:
`BENCH_DATABASE_URL=postgresql://... uvicorn bench.baselines.write_floor:app --loop uvloop --http httptools`.

All its SQL is the four statements below. The service's sequencer (a thread of the service process, whose CPU the
bench counts) chains queued events into the feed; the floor runs after every service scenario, with no sequencer
running, so its events stay queued and the feed the bench checks is the service's alone.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request, Response

from bench.baselines.floor import pool_lifespan

LOCK = "SELECT status, version FROM applications WHERE id = $1 FOR UPDATE"
UPDATE = (
    "UPDATE applications SET status = $2, updated_at = now(), version = version + 1 "
    "WHERE id = $1 AND version = $3 RETURNING version, updated_at"
)
HISTORY = (
    "INSERT INTO transitions (subject_type, subject_id, action, from_status, to_status, actor_sub, actor_role, "
    "reason, decision_date, data) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8) RETURNING id, occurred_at"
)
# The event: id, type, subject type and id, actor sub and role, occurred_at, data ($1-$8). On main it goes to the feed
# with the bench's seq, unchained, hashed by PostgreSQL; behind a sequencer it is one INSERT INTO the queue table with
# those eight values.
EVENT = (
    "INSERT INTO event_queue (event_id, type, subject_type, subject_id, actor_sub, actor_role, occurred_at, "
    "effective_on, data) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)"
)

ACTOR = ("bench-supervisor", "supervisor")
FROM, TO = "submitted", "recommended"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


async def _init(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=_canonical, decoder=json.loads, schema="pg_catalog")


app = FastAPI(lifespan=pool_lifespan(_init))


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/applications/{application_id}/recommend")
async def recommend(application_id: uuid.UUID, request: Request) -> Response:
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(LOCK, application_id)
        if row is None:
            raise HTTPException(404)
        if row["status"] != FROM:
            raise HTTPException(409, f"cannot recommend an application that is {row['status']}")
        updated = await connection.fetchrow(UPDATE, application_id, TO, row["version"])
        data = {"action": "recommend", "from": FROM, "to": TO, "reason": None}
        await connection.fetchrow(HISTORY, "application", application_id, "recommend", FROM, TO, *ACTOR, {})
        event = (uuid.uuid4(), f"application.{TO}", "application", application_id, *ACTOR, datetime.now(UTC), data)
        await connection.execute(EVENT, *event)
    out = {"id": str(application_id), "status": TO, "version": updated["version"], "updated_at": updated["updated_at"]}
    return Response(_canonical(out).encode(), media_type="application/json")
