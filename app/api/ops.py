"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.services import health

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="get_health")
async def get_health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="get_readiness", responses={503: {"description": "Not ready"}})
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
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition format"}},
)
async def get_metrics(request: Request) -> Response:
    """Prometheus metrics, with per-route latency histograms."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
