"""Engine and sessionmaker; URL handling for plain `postgresql://` URLs and the embedded server."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

R = TypeVar("R")


def async_url(url: str) -> str:
    """Turn `postgresql://...` (or `postgres://`, or a `+driver` URL) into the asyncpg form SQLAlchemy wants."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: PostgreSQL only")
    return parsed.render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """The libpq form of a URL (no driver), for tools like psql and for logging."""
    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def psycopg_conninfo(url: str, **extra: str) -> str:
    """A libpq `key=value` connection string for psycopg (the task queue's driver) from any URL the service accepts,
    `?host=/socket/dir` included; `extra` adds parameters such as application_name."""
    parsed = make_url(plain_url(url))
    params: dict[str, object] = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": parsed.username,
        "password": parsed.password,
    }
    for key, value in parsed.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    params.update(extra)

    def quote(value: object) -> str:
        text = str(value)
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{key}={quote(value)}" for key, value in params.items() if value not in (None, ""))


# The folders whose embedded server start_embedded() holds for the rest of the process.
_held_until_exit: set[Path] = set()


def start_embedded(data_dir: Path, *, cleanup: Literal["stop", "delete"] = "stop") -> str:
    """Start (or attach to) an embedded PostgreSQL in `data_dir` and return its plain URL. The handle is held until
    the interpreter exits; the HTTP service holds its own for the life of its lifespan (app.main), with a watchdog."""
    from app.db.embedded import embedded_server

    server = embedded_server(data_dir, cleanup=cleanup)
    if server.pgdata not in _held_until_exit:  # one use per process and folder, however often this is called
        server.start()
        _held_until_exit.add(server.pgdata)
    return server.url


def _refuse_closed(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """At checkout, a pooled connection whose socket the server has already closed (a terminated backend, a restart)
    is replaced before any statement goes out on it. asyncpg learns of the close as soon as the event loop reads the
    server's FATAL and EOF, so this check costs no round trip; SQLAlchemy's pool takes DisconnectionError here as
    "invalidate this one and check out another"."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, statement_timeout_ms: int = 15000, **kwargs: Any
) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pool_pre_ping: it cost every request three round trips (BEGIN; ";"; ROLLBACK). A pooled connection the
        # server has closed is replaced at checkout (`_refuse_closed`, no round trip); one that dies later is found by
        # the statement that meets it: SQLAlchemy then invalidates it and every connection pooled before it, and a
        # read (`RetryFirstStatement`) runs that statement once more on a fresh connection.
        connect_args={
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "henan-tic",
                "timezone": "UTC",
            },
            "timeout": 10,
        },
        **kwargs,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


class RetryFirstStatement(Session):
    """The session of a read: it sends its first statement a second time, on a fresh connection, when the pooled
    connection it went out on turns out to be dead (PostgreSQL restarted, a backend was terminated, a network blip).

    That is safe because a read changes nothing and runs in autocommit: nothing ran before the first statement and
    there is no transaction to lose. A connection closed while it sat in the pool is already replaced at checkout
    (`_refuse_closed`), for reads and writes alike; this covers one that dies between checkout and its first
    statement. Writes are not retried: a write that meets a dead connection answers 503 (database-unavailable) and the
    client decides, as before. Either way SQLAlchemy invalidates the dead connection
    and every connection pooled before it, so the next requests get fresh ones.
    """

    _first_sent = False

    def _first(self, call: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        if self._first_sent:
            return call(*args, **kwargs)
        self._first_sent = True
        try:
            return call(*args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self.rollback()  # gives the dead connection back; the retry checks out one made after it
            return call(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._first(super().execute, *args, **kwargs)

    def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return self._first(super().scalar, *args, **kwargs)

    def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return self._first(super().scalars, *args, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# One autocommit view per engine (it shares the engine's pool): built once, not per request.
_autocommit: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, with connections in autocommit: no BEGIN and COMMIT round trips."""
    found = _autocommit.get(engine)
    if found is None:
        found = _autocommit[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession], *, read_only: bool
) -> AsyncIterator[AsyncSession]:
    """A request's session. A write runs in one transaction, committed on success and rolled back on any exception.

    A read runs in autocommit: each statement is its own transaction. Under READ COMMITTED (the server's default and
    ours) a statement inside an explicit transaction also sees a snapshot of its own, so for statements that only read
    this is what BEGIN … COMMIT would give, minus two round trips. Reads take no locks and change nothing.
    """
    if read_only:
        bind = sessionmaker.kw.get("bind")
        if isinstance(bind, AsyncEngine):
            async with sessionmaker(bind=autocommit_engine(bind), sync_session_class=RetryFirstStatement) as session:
                yield session
            return
    async with sessionmaker() as session, session.begin():
        yield session


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any exception."""
    async with sessionmaker() as session, session.begin():
        yield session


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The configured server, or an embedded one kept in `data_dir` when none is configured."""
    return database_url if database_url else start_embedded(data_dir)
