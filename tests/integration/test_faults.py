"""Faults (issue 8, item 5): the database's connections die during load, the database goes away and comes back, a
request is cancelled mid-transaction. The service answers 503 problems, never hangs, says it is not ready, recovers
by itself, and leaves no half-written transition behind.

The injector's own connections carry another application_name, so `pg_terminate_backend` hits only the service's
(`henan-tic`) backends, and only in this test's database.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from app.api.problems import PROBLEM_MEDIA_TYPE
from app.db import migrations
from app.db.session import async_url, create_engine
from tests.api.helpers import World, draft, make_world, other_lead
from tests.factories import credit_code

pytestmark = pytest.mark.race  # commits for real; committed_client cleans up

APPS = "/api/v1/applications"
DEADLINE = 30  # seconds any request may take before the test calls it hung
LOAD_SECONDS = 1.0
TERMINATE = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
    " WHERE application_name = 'henan-tic' AND datname = current_database() AND pid <> pg_backend_pid()"
)
WAITING_ON_LOCKS = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE application_name = 'henan-tic' AND datname = current_database() AND wait_event_type = 'Lock'"
)


@asynccontextmanager
async def injector(database_url: str, *, autocommit: bool = True) -> AsyncIterator[AsyncConnection]:
    """A connection of the fault injector's own, outside the service's pool and name."""
    engine = create_async_engine(
        async_url(database_url),
        poolclass=NullPool,
        connect_args={"server_settings": {"application_name": "tic-fault-injector"}},
    )
    try:
        async with engine.connect() as connection:
            if autocommit:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection
    finally:
        await engine.dispose()


async def eventually(probe: Any, what: str) -> None:
    """Poll `probe()` until it is true (pg_stat_activity moves on its own time), for up to 10 seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not await probe():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "database-unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert "asyncpg" not in response.text


async def drafts(client: httpx.AsyncClient, auth: Any, n: int) -> tuple[World, list[tuple[str, dict[str, str]]]]:
    """n draft applications, each by a lead of its own (one live application per lead and call)."""
    world = await make_world(client, auth)
    out = []
    for _ in range(n):
        _, applicant = await other_lead(client, world, auth)
        out.append(((await draft(client, world, headers=applicant))["id"], applicant))
    return world, out


async def bounded(awaitables: list[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """Every request answers within DEADLINE: a hang fails the test instead of stalling it."""
    return list(await asyncio.wait_for(asyncio.gather(*awaitables), timeout=DEADLINE))


async def assert_consistent(client: httpx.AsyncClient, connection: AsyncConnection, province: dict[str, str]) -> None:
    """The feed is gap-free and verifies; every application's state is its last recorded transition's."""
    seqs = (await connection.execute(text("SELECT seq FROM events ORDER BY seq"))).scalars().all()
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the feed has a gap"
    verified = await client.get("/api/v1/events/verify", headers=province)
    assert verified.status_code == 200, verified.text
    assert verified.json() == {
        **verified.json(),
        "ok": True,
        "checked": len(seqs),
        "first_bad_seq": None,
        "tree_ok": True,
    }
    orphans = await connection.execute(
        text(
            "SELECT a.id, a.status, last.to_status FROM applications a"
            " LEFT JOIN LATERAL (SELECT t.to_status FROM transitions t WHERE t.subject_id = a.id"
            "   ORDER BY t.id DESC LIMIT 1) last ON true"
            " WHERE last.to_status IS DISTINCT FROM a.status"
        )
    )
    assert orphans.all() == [], "an application is in a state its history does not record"
    unrecorded = await connection.execute(
        text(
            "SELECT t.subject_id, t.action FROM transitions t"
            " WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.subject_id = t.subject_id AND e.data->>'action' ="
            " t.action)"
        )
    )
    assert unrecorded.all() == [], "a transition without its feed event"
    unannounced = await connection.execute(
        text(
            "SELECT o.id FROM organizations o WHERE NOT EXISTS"
            " (SELECT 1 FROM events e WHERE e.subject_id = o.id AND e.type = 'organization.created')"
        )
    )
    assert unannounced.all() == [], "an organization without its feed event"


async def test_backends_killed_mid_transaction_answer_503_problems_and_write_nothing(
    committed_client: httpx.AsyncClient, database_url: str, auth: Any
) -> None:
    world, applications = await drafts(committed_client, auth, 6)
    ids = [uuid.UUID(application_id) for application_id, _ in applications]
    async with injector(database_url, autocommit=False) as locker, injector(database_url) as control:
        # Hold the rows, so every submit waits inside its transaction (SELECT ... FOR UPDATE) until it is killed.
        await locker.execute(text("SELECT id FROM applications WHERE id = ANY(:ids) FOR UPDATE"), {"ids": ids})
        submits = [
            asyncio.ensure_future(committed_client.post(f"{APPS}/{application_id}/submit", headers=applicant))
            for application_id, applicant in applications
        ]

        async def all_waiting() -> bool:
            return int((await control.execute(WAITING_ON_LOCKS)).scalar_one()) >= len(submits)

        await eventually(all_waiting, "every submit waits on its row lock")
        assert (await control.execute(TERMINATE)).scalar_one() >= len(submits)
        await locker.rollback()
        for response in await bounded(submits):
            assert_unavailable(response)

        # Nothing of the killed transactions was written: still drafts, with nothing but their creation recorded.
        for application_id, applicant in applications:
            response = await committed_client.get(f"{APPS}/{application_id}/history", headers=applicant)
            assert [t["action"] for t in response.json()["items"]] == ["create"]
        # The pool replaces the dead connections by itself (SQLAlchemy invalidates those it met and every connection
        # pooled before them; there is no pool_pre_ping since issue 13): the same requests now succeed.
        for response in await bounded(
            [committed_client.post(f"{APPS}/{a}/submit", headers=h) for a, h in applications]
        ):
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "submitted"
        await assert_consistent(committed_client, control, world.province)


async def test_under_load_with_killed_connections_every_answer_is_a_success_or_a_503_problem(
    committed_client: httpx.AsyncClient, database_url: str, auth: Any
) -> None:
    world, applications = await drafts(committed_client, auth, 8)
    province = world.province
    rng = random.Random(8)
    loop = asyncio.get_running_loop()
    stop = loop.time() + LOAD_SECONDS

    async def lead(application_id: str, applicant: dict[str, str]) -> list[httpx.Response]:
        """A lead submits (again after a 503) while reading its application, the lists and the feed."""
        answers, submitted = [], False
        while loop.time() < stop:
            if not submitted:
                response = await committed_client.post(f"{APPS}/{application_id}/submit", headers=applicant)
                if response.status_code == 409:  # a 503 whose commit had landed: the retry finds it submitted
                    current = await committed_client.get(f"{APPS}/{application_id}", headers=applicant)
                    assert current.json()["status"] == "submitted", response.text
                    response = current
                submitted = response.status_code == 200
            elif rng.random() < 0.5:
                response = await committed_client.get(f"{APPS}/{application_id}", headers=applicant)
            else:
                response = await committed_client.post(
                    "/api/v1/organizations",
                    headers=province,
                    json={"name": "负载单位", "credit_code": credit_code(), "kind": "university", "region": "开封市"},
                )
            answers.append(response)
        return answers

    async def reader() -> list[httpx.Response]:
        answers = []
        while loop.time() < stop:
            answers.append(await committed_client.get(rng.choice((APPS, "/api/v1/events")), headers=province))
        return answers

    async with injector(database_url) as control:

        async def killer() -> int:
            killed = 0
            while loop.time() < stop:
                await asyncio.sleep(rng.uniform(0.08, 0.2))
                killed += int((await control.execute(TERMINATE)).scalar_one())
            return killed

        *answers, killed = await asyncio.wait_for(
            asyncio.gather(*(lead(a, h) for a, h in applications), reader(), reader(), killer()),
            timeout=LOAD_SECONDS + DEADLINE,
        )
        responses = [response for batch in answers for response in batch]
        assert killed > 0
        unavailable = [r for r in responses if r.status_code == 503]
        for response in unavailable:
            assert_unavailable(response)
        succeeded = [r for r in responses if r.status_code in (200, 201)]
        assert len(unavailable) + len(succeeded) == len(responses), [r.text for r in responses]
        assert unavailable, "no request met a killed connection"
        assert succeeded, "no request got through between the kills"

        # Recovery without a restart: once the killing stops, everything succeeds; what happened, happened whole.
        for application_id, applicant in applications:
            response = await committed_client.get(f"{APPS}/{application_id}", headers=applicant)
            assert response.status_code == 200, response.text
            if response.json()["status"] == "draft":
                retried = await committed_client.post(f"{APPS}/{application_id}/submit", headers=applicant)
                assert retried.status_code == 200, retried.text
        await assert_consistent(committed_client, control, province)


async def test_a_request_cancelled_mid_transaction_leaves_nothing_behind(
    committed_client: httpx.AsyncClient, database_url: str, auth: Any
) -> None:
    world, [(application_id, applicant)] = await drafts(committed_client, auth, 1)
    before = (await committed_client.get(f"{APPS}/{application_id}", headers=applicant)).json()
    async with injector(database_url, autocommit=False) as locker, injector(database_url) as control:
        events_before = (await control.execute(text("SELECT count(*) FROM events"))).scalar_one()
        await locker.execute(
            text("SELECT id FROM applications WHERE id = :id FOR UPDATE"), {"id": uuid.UUID(application_id)}
        )
        submit = asyncio.ensure_future(committed_client.post(f"{APPS}/{application_id}/submit", headers=applicant))

        async def waiting() -> bool:
            return int((await control.execute(WAITING_ON_LOCKS)).scalar_one()) >= 1

        await eventually(waiting, "the submit waits on its row lock")
        submit.cancel()  # the client gives up while the transaction holds its place in the queue
        with pytest.raises(asyncio.CancelledError):
            await submit
        await locker.rollback()

        async def settled() -> bool:
            busy = await control.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'henan-tic'"
                    " AND datname = current_database() AND state IN ('active', 'idle in transaction')"
                    " AND pid <> pg_backend_pid()"
                )
            )
            return int(busy.scalar_one()) == 0

        await eventually(settled, "the cancelled transaction has ended")
        after = (await committed_client.get(f"{APPS}/{application_id}", headers=applicant)).json()
        assert (after["status"], after["version"]) == (before["status"], before["version"]) == ("draft", 1)
        assert (await control.execute(text("SELECT count(*) FROM events"))).scalar_one() == events_before
        history = await committed_client.get(f"{APPS}/{application_id}/history", headers=applicant)
        assert [t["action"] for t in history.json()["items"]] == ["create"]
        # Nothing is stuck either: the same request now goes through.
        response = await committed_client.post(f"{APPS}/{application_id}/submit", headers=applicant)
        assert response.status_code == 200, response.text
        await assert_consistent(committed_client, control, world.province)


async def test_a_database_that_goes_away_makes_the_service_unready_and_it_recovers_when_it_returns(
    app_factory: Any, empty_database: str, database_url: str, auth: Any
) -> None:
    name = make_url(empty_database).database
    await asyncio.to_thread(migrations.upgrade, empty_database)
    engine = create_engine(empty_database, pool_size=2, max_overflow=0)
    application = app_factory(engine=engine)
    province = auth("province")
    transport = httpx.ASGITransport(app=application)
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            injector(database_url) as control,
        ):

            async def get(path: str) -> httpx.Response:
                return await asyncio.wait_for(client.get(path, headers=province), timeout=DEADLINE)

            assert (await get("/readyz")).status_code == 200
            assert (await get("/api/v1/calls")).status_code == 200

            await control.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            ready = await get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["status"] == "not ready"
            assert_unavailable(await get("/api/v1/calls"))
            assert (await get("/healthz")).status_code == 200  # alive, only not ready

            await control.execute(text(f'CREATE DATABASE "{name}"'))
            await asyncio.to_thread(migrations.upgrade, empty_database)
            ready = await get("/readyz")
            assert ready.status_code == 200, ready.text
            assert (await get("/api/v1/calls")).json() == {"items": [], "next_cursor": None}
    finally:
        await engine.dispose()
