"""Engine and sessionmaker; URL handling for plain `postgresql://` URLs and the embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


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


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, statement_timeout_ms: int = 15000, **kwargs: Any
) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any exception."""
    async with sessionmaker() as session, session.begin():
        yield session


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The configured server, or an embedded one kept in `data_dir` when none is configured."""
    return database_url if database_url else start_embedded(data_dir)
