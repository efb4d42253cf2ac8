"""Without pool_pre_ping (issue 13): a read that meets a connection PostgreSQL has dropped runs its first statement
again on a fresh connection and answers 200; the pool then holds no dead connection for the next requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.session import _refuse_closed
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
    # Without the checkout check, as when a connection dies between checkout and its first statement.
    event.remove(engine.sync_engine, "checkout", _refuse_closed)
    try:
        async with injector(database_url) as control:
            assert (await control.execute(TERMINATE)).scalar_one() >= 1  # every pooled connection of the service dies
        await asyncio.sleep(0.1)
        with count_statements(engine) as sent:
            response = await committed_client.get(path, headers=world.applicant)
    finally:
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == application["id"]
    assert sent.queries()[0] == sent.queries()[1], "the first statement was sent once more"
    # The dead connections were invalidated with the one the read met: a write now finds a live one.
    response = await committed_client.post(f"{path}/submit", headers=world.applicant)
    assert response.status_code == 200, response.text


async def test_a_write_checked_out_after_the_server_closed_its_pooled_connections_goes_through(
    committed_client: httpx.AsyncClient, database_url: str, engine: AsyncEngine, auth: Any
) -> None:
    """A pooled connection the server closed while it sat idle is replaced at checkout, before anything is sent on it:
    the write answers 200, not 503, and sends each of its statements once."""
    world = await make_world(committed_client, auth)
    application = await draft(committed_client, world)
    path = f"/api/v1/applications/{application['id']}"
    assert (await committed_client.get(path, headers=world.applicant)).status_code == 200
    async with injector(database_url) as control:
        assert (await control.execute(TERMINATE)).scalar_one() >= 1
    await asyncio.sleep(0.1)  # the event loop reads the server's FATAL and EOF on the idle sockets
    with count_statements(engine) as sent:
        response = await committed_client.post(f"{path}/submit", headers=world.applicant)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "submitted"
    assert sent.queries()[0] != sent.queries()[1], "nothing was sent twice"
    history = await committed_client.get(f"{path}/history", headers=world.applicant)
    assert [entry["action"] for entry in history.json()["items"]].count("submit") == 1, history.text
