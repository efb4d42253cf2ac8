"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.problems import ProblemError, responses
from app.services import health

router = APIRouter(tags=["operations"])

# These routes take no token and no input: the only 4xx is the middleware's 413 for a body over the limit, which
# every route answers before it runs.
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: responses("payload-too-large")[413]}
DATABASE_UNAVAILABLE: dict[int | str, dict[str, Any]] = {**TOO_LARGE, 503: responses("database-unavailable")[503]}


@router.get("/healthz", operation_id="get_health", responses=DATABASE_UNAVAILABLE)
async def get_health(request: Request) -> dict[str, str]:
    """Liveness: the process answers. With the embedded database (no `TIC_DATABASE_URL`), a 503 problem
    `database-unavailable` once that database has been unreachable for longer than `TIC_HEALTH_DB_GRACE_SECONDS`
    (the watchdog could not bring it back), so that an orchestrator restarts the process. Answered from the
    watchdog's last view: no query."""
    verdict = health.liveness(
        request.app.state.database_watch, grace_seconds=request.app.state.settings.health_db_grace_seconds
    )
    if not verdict.alive:
        raise ProblemError(
            "database-unavailable",
            extra={"unreachable_seconds": round(verdict.unreachable_seconds, 1)},
            headers={"Retry-After": "5"},
        )
    return {"status": "ok"}


@router.get("/readyz", operation_id="get_readiness", responses={**TOO_LARGE, 503: {"description": "Not ready"}})
async def get_readiness(request: Request) -> JSONResponse:
    """Readiness: the database is reachable and its schema is at the migrations' head (503 otherwise)."""
    engine = getattr(request.app.state, "engine", None)
    result = await health.readiness(engine)
    body = {
        "status": "ready" if result.ready else "not ready",
        "database": result.database,
        "migrations": result.migrations,
    }
    return JSONResponse(body, status_code=200 if result.ready else 503)


@router.get(
    "/metrics",
    operation_id="get_metrics",
    response_class=Response,
    responses={**TOO_LARGE, 200: {"content": {"text/plain": {}}, "description": "Prometheus exposition format"}},
)
async def get_metrics(request: Request) -> Response:
    """Prometheus metrics, with per-route latency histograms."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
