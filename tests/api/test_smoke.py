from __future__ import annotations

import httpx


async def test_the_service_answers_liveness(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_the_database_is_at_head_so_the_service_is_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
