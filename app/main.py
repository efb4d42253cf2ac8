"""The ASGI application: `app.main:app`. create_app() wires settings, the engine, auth, errors and routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app.api import openapi, problems
from app.api.auth import TokenVerifier
from app.api.middleware import UPLOAD_ENVELOPE_BYTES, Metrics, RequestContextMiddleware
from app.api.ops import router as ops_router
from app.api.routing import mount_flat
from app.api.v1 import DEPENDENCIES as V1_DEPENDENCIES
from app.api.v1 import router as v1_router
from app.db.embedded import ConnectionProbe, DatabaseWatch, Watchdog, embedded_server, terminate_process
from app.db.session import create_engine, create_sessionmaker
from app.logging import configure_logging
from app.services import sequencer
from app.settings import Settings

API_VERSION = "1.0.0"
DESCRIPTION = """
Lifecycle service for Henan Province Technology Innovation Centers (河南省技术创新中心): calls, applications,
eligibility, recommendation, expert review, approval, construction, acceptance, recognition, assessment and
revocation, after 豫科〔2021〕116号.

Errors are RFC 9457 `application/problem+json` with a stable `code`. Single resources carry `ETag`; PATCH and
action POSTs honour `If-Match`. Creates honour `Idempotency-Key`. Lists paginate with `limit` and an opaque `cursor`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json_output=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "sessionmaker", None) is not None:  # tests may inject their own
            yield
            return
        # Whatever ends the lifespan (shutdown on SIGTERM or SIGINT, an exception during startup) unwinds this stack:
        # the watchdog stops, the connections close, and the embedded server this process started is stopped.
        async with AsyncExitStack() as stack:
            url = settings.database_url
            server = None
            if not url:
                server = embedded_server(settings.data_dir)
                url = await asyncio.to_thread(server.start)
                stack.push_async_callback(asyncio.to_thread, server.release)
            engine = create_engine(
                url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                statement_timeout_ms=settings.db_statement_timeout_ms,
            )
            stack.push_async_callback(engine.dispose)
            app.state.engine = engine
            app.state.sessionmaker = create_sessionmaker(engine)
            stack.callback(setattr, app.state, "sessionmaker", None)
            if server is not None:
                app.state.database_watch = watch = DatabaseWatch()
                watch.ok(time.monotonic())
                stack.callback(setattr, app.state, "database_watch", None)
                probe = ConnectionProbe(url)
                stack.push_async_callback(probe.aclose)
                watchdog = Watchdog(
                    server,
                    watch,
                    interval=settings.embedded_watchdog_interval_seconds,
                    attempts=settings.embedded_restart_attempts,
                    probe=probe,
                    on_lost=app.state.on_database_lost or terminate_process,
                )
                task = asyncio.create_task(watchdog.run(), name="embedded-postgres-watchdog")
                stack.push_async_callback(_cancel, task)
            # A candidate for the feed's one sequencer (issue 14; app/services/sequencer.py).
            await stack.enter_async_context(sequencer.candidate(url, settings))
            # Everything built so far (modules, routes, models, the engine) lives as long as the process: keep it out
            # of the cyclic garbage collector's scans, which otherwise walk it all again on every full collection
            # (seen in profiles as stalls in whatever frame happened to allocate).
            gc.collect()
            gc.freeze()
            yield

    app = FastAPI(
        title="Henan Technology Innovation Centers API (河南省技术创新中心)",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        # /docs and /redoc are served by app/api/openapi.py with their scripts from this process, not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessionmaker = None
    # The embedded database's watchdog view (None with an external database) and what to do when it is lost for good
    # (None: exit the process non-zero; tests put a callable here).
    app.state.database_watch = None
    app.state.on_database_lost = None
    app.state.token_verifier = TokenVerifier(settings)
    app.state.metrics = Metrics(CollectorRegistry())
    problems.install(app)
    openapi.install(app)
    app.state.storage = None  # built on first use (app/api/deps.py get_storage)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.attachment_max_bytes + UPLOAD_ENVELOPE_BYTES,
    )
    app.include_router(ops_router)
    mount_flat(app, v1_router, prefix="/api/v1", dependencies=V1_DEPENDENCIES)
    return app


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def __getattr__(name: str) -> FastAPI:
    # `app.main:app` is built on first access, so importing this module reads no settings.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
