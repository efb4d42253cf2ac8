"""The floor for Python: FastAPI + asyncpg, no auth, no ORM, no response model.

`GET /centers/{id}` and `GET /centers?limit=50&cursor=...` (keyset on (created_at, id), the service's cursor format)
over the same `centers` table. JSONB is decoded to objects (as any JSON API must) and the response is one
`json.dumps`. Run: `BENCH_DATABASE_URL=postgresql://... uvicorn bench.baselines.floor:app --loop uvloop --http
httptools`.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Query, Request, Response

GET = "SELECT * FROM centers WHERE id = $1"
PAGE = "SELECT * FROM centers WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3"
FIRST_PAGE = "SELECT * FROM centers ORDER BY created_at, id LIMIT $1"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # UUID, Decimal


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False).encode()


async def _init(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def pool_lifespan(
    init: Callable[[asyncpg.Connection], Awaitable[None]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The baselines' lifespan: a pool of BENCH_POOL_SIZE connections to BENCH_DATABASE_URL, each set up by `init`,
    in `app.state.pool`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool_size = int(os.environ.get("BENCH_POOL_SIZE", "20"))
        app.state.pool = await asyncpg.create_pool(
            os.environ["BENCH_DATABASE_URL"], min_size=2, max_size=pool_size, init=init
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    return lifespan


lifespan = pool_lifespan(_init)


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/centers/{center_id}")
async def get_center(center_id: uuid.UUID, request: Request) -> Response:
    row = await request.app.state.pool.fetchrow(GET, center_id)
    if row is None:
        raise HTTPException(404)
    return Response(_dumps(dict(row)), media_type="application/json")


def _cursor(created_at: datetime, ident: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@app.get("/centers")
async def list_centers(request: Request, limit: int = Query(50, ge=1, le=200), cursor: str | None = None) -> Response:
    pool = request.app.state.pool
    if cursor:
        created, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        rows = await pool.fetch(PAGE, datetime.fromisoformat(created), uuid.UUID(ident), limit + 1)
    else:
        rows = await pool.fetch(FIRST_PAGE, limit + 1)
    items = [dict(row) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    next_cursor = _cursor(last["created_at"], last["id"]) if last else None
    return Response(_dumps({"items": items, "next_cursor": next_cursor}), media_type="application/json")
