"""Without pool_pre_ping (issue 13): a read that meets a connection PostgreSQL has dropped runs its first statement
again on a fresh connection and answers 200; the pool then holds no dead connection for the next requests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import draft, make_world
from tests.integration.test_faults import TERMINATE, injector
from tests.querycount import count_statements

pytestmark = pytest.mark.race  # commits for real; committed_client cleans up


async def test_a_read_on_a_dropped_connection_is_answered_and_the_next_write_goes_through(
    committed_client: httpx.AsyncClient, database_url: str, engine: AsyncEngine, auth: Any
) -> None:
    world = await make_world(committed_client, auth)
    application = await draft(committed_client, world)
    path = f"/api/v1/applications/{application['id']}"
    assert (await committed_client.get(path, headers=world.applicant)).status_code == 200
    async with injector(database_url) as control:
        assert (await control.execute(TERMINATE)).scalar_one() >= 1  # every pooled connection of the service dies
    with count_statements(engine) as sent:
        response = await committed_client.get(path, headers=world.applicant)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == application["id"]
    assert sent.queries()[0] == sent.queries()[1], "the first statement was sent once more"
    # The dead connections were invalidated with the one the read met: a write now finds a live one.
    response = await committed_client.post(f"{path}/submit", headers=world.applicant)
    assert response.status_code == 200, response.text
