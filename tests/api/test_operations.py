"""Operations endpoints (api.md: /healthz, /readyz, /metrics) and the request id every response carries."""

from __future__ import annotations

import re
import socket
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.session import create_engine
from tests.conftest import AppFactory, TokenFactory
from tests.factories import create_org


async def test_the_service_answers_liveness(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_the_service_is_ready_when_the_database_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "at head"}


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here once the socket is closed


async def _readiness(app_factory: AppFactory, engine: AsyncEngine) -> httpx.Response:
    application = app_factory(engine=engine)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as c:
            return await c.get("/readyz")
    finally:
        await engine.dispose()


async def test_the_service_is_not_ready_when_the_database_is_unreachable(app_factory: AppFactory) -> None:
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres", pool_size=1)
    response = await _readiness(app_factory, engine)
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "not ready", "database": "unreachable", "migrations": "unknown"}


async def test_the_service_is_not_ready_when_the_schema_is_not_at_head(
    app_factory: AppFactory, empty_database: str
) -> None:
    response = await _readiness(app_factory, create_engine(empty_database, pool_size=1))
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "not ready"
    assert body["database"] == "ok"
    assert body["migrations"] != "at head"


async def test_a_request_to_an_unreachable_database_answers_a_503_problem(
    app_factory: AppFactory, auth: TokenFactory
) -> None:
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres", pool_size=1)
    application = app_factory(engine=engine)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as c:
            response = await c.get("/api/v1/organizations", headers=auth("province"))
    finally:
        await engine.dispose()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    body = response.json()
    assert body["code"] == "database-unavailable"
    assert "127.0.0.1" not in response.text
    assert "Connect" not in response.text


# --- request ids -------------------------------------------------------------------------------------------------


async def test_a_given_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123_x.y:z"})
    assert response.headers["x-request-id"] == "abc-123_x.y:z"


async def test_a_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize(
    "malformed",
    ["has spaces in it", "x" * 129, "<script>", "semi;colon", "é"],
)
async def test_a_malformed_request_id_is_replaced(client: httpx.AsyncClient, malformed: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": malformed.encode()})
    echoed = response.headers["x-request-id"]
    assert echoed != malformed
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


async def test_a_problem_carries_the_request_id_of_its_response(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-path", headers={"X-Request-ID": "trace-me"})
    assert response.json()["request_id"] == "trace-me"
    assert response.headers["x-request-id"] == "trace-me"


# --- metrics -----------------------------------------------------------------------------------------------------


async def test_metrics_expose_latency_by_route_template(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    province = auth("province")
    org = await create_org(client, province)
    assert (await client.get(f"/api/v1/organizations/{org['id']}", headers=province)).status_code == 200
    assert (await client.get(f"/api/v1/organizations/{uuid.uuid4()}", headers=province)).status_code == 404

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE http_request_duration_seconds histogram" in text
    for status in ("200", "404"):
        line = (
            'http_request_duration_seconds_count{method="GET",route="/api/v1/organizations/{org_id}",'
            f'status="{status}"}}'
        )
        assert line in text, text
    assert 'route="/api/v1/organizations",status="201"' in text
    # Concrete ids never become labels: that would grow the series without bound.
    assert org["id"] not in text


async def test_metrics_label_unknown_paths_as_unmatched(client: httpx.AsyncClient) -> None:
    await client.get(f"/no-such-path/{uuid.uuid4()}")
    text = (await client.get("/metrics")).text
    assert 'route="unmatched",status="404"' in text
