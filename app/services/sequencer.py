"""The feed's sequencer (issue 14): one leader among every service and worker process moves the append queue into
the feed, chained, and brings the Merkle tree up to it.

Election. Each process that runs the sequencer tries `pg_try_advisory_lock(LEADER_LOCK_KEY)` on a connection of its
own, every `follower_retry_seconds`. The winner holds that connection (and so the lock) while it leads; when its
process dies or its connection breaks, PostgreSQL releases the lock and the next follower to try takes over, within
about one retry interval. Leadership is an economy, not the guarantee: every batch also takes the transaction-scoped
sequence lock (app/db/repositories/events.py), so even two leaders for a moment (a leader whose lock connection broke
while a batch was under way) only take turns, each chaining onto the head the other committed.

Waking. The leader polls the queue every `poll_seconds` when it found nothing, and goes straight on when a batch
came back full. Writers do not NOTIFY: PostgreSQL serialises the commits of notifying transactions on one lock
(PreCommit_Notify), which is the global serialisation the queue exists to remove. An idle poll is one indexed read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db.repositories import events as events_repo
from app.db.repositories import log as log_repo
from app.db.session import create_engine, create_sessionmaker, transaction
from app.settings import Settings

log = structlog.get_logger("app.sequencer")


@dataclass(frozen=True)
class SequencerOptions:
    batch: int = 1000
    poll_seconds: float = 0.05
    follower_retry_seconds: float = 1.0


async def sequence_once(session: AsyncSession, *, batch: int) -> int:
    """One batch: up to `batch` queued events chained onto the feed and integrated into the tree; answers how many.
    The caller's transaction commits it. The one code path that writes the feed, in production and in tests."""
    moved = await events_repo.sequence_batch(session, limit=batch)
    if moved:
        await log_repo.integrate(session)
    return moved


async def drain(sessionmaker: async_sessionmaker[AsyncSession], *, batch: int = 1000) -> int:
    """Sequence batches, each in its own transaction, until the queue is empty; answers how many events moved."""
    total = 0
    while True:
        async with transaction(sessionmaker) as session:
            moved = await sequence_once(session, batch=batch)
        total += moved
        if moved < batch:
            return total


LEADER_NAME = "henan-tic sequencer leader pid {pid}"


async def _try_lead(connection: AsyncConnection) -> bool:
    """Take the leader lock if it is free. The leader names its lock connection after its process, so
    pg_stat_activity (and pg_locks joined to it) tells an operator which process sequences the feed."""
    # One statement, so the lock is never seen without the name: CASE evaluates its THEN only when the lock was taken.
    taken = await connection.scalar(
        text(
            "SELECT CASE WHEN pg_try_advisory_lock(:key)"
            " THEN set_config('application_name', :name, false) IS NOT NULL ELSE false END"
        ),
        {"key": events_repo.LEADER_LOCK_KEY, "name": LEADER_NAME.format(pid=os.getpid())},
    )
    return bool(taken)


async def lead(engine: AsyncEngine, stop: asyncio.Event, options: SequencerOptions = SequencerOptions()) -> None:
    """Take part in the election until `stop` is set, sequencing while this process leads. A database error drops
    leadership (the lock connection is closed) and the process competes again after the retry interval."""
    sessionmaker = create_sessionmaker(engine)
    while not stop.is_set():
        try:
            async with engine.connect() as raw:
                connection = await raw.execution_options(isolation_level="AUTOCOMMIT")
                if await _try_lead(connection):
                    log.info("sequencer_leading")
                    try:
                        await _run_leader(connection, sessionmaker, stop, options)
                    finally:
                        # Closing the connection releases the lock (and its name goes with it, not back to the pool).
                        with contextlib.suppress(Exception):
                            await raw.invalidate()
                        log.info("sequencer_stepped_down")
        except Exception as exc:  # the database went away: compete again once it is back
            log.warning("sequencer_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=options.follower_retry_seconds)


@contextlib.asynccontextmanager
async def candidate(url: str, settings: Settings) -> AsyncIterator[None]:
    """This process stands for sequencer while the block runs (TIC_SEQUENCER_ENABLED=false: it does not).

    The candidate runs in a thread of its own, on its own event loop and its own engine of two connections (the
    leader lock, the batches). In the request loop, behind 30 busy requests, each of a batch's dozen round trips
    waited its turn: the integration delay measured p50 0.5 s, p99 1 s at 40 transitions/s on a loaded 2-core
    machine. In a thread, a round trip waits at most for the interpreter's switch interval (5 ms)."""
    if not settings.sequencer_enabled:
        yield
        return
    thread = _Candidate(settings.sequencer_database_url or url, settings)
    thread.start()
    try:
        yield
    finally:
        thread.request_stop()
        await asyncio.to_thread(thread.join, STOP_SECONDS)


STOP_SECONDS = 10.0


class _Candidate(threading.Thread):
    def __init__(self, url: str, settings: Settings) -> None:
        super().__init__(name="feed sequencer", daemon=True)
        self._url, self._settings = url, settings
        self._loop_ready = threading.Event()
        self._own_loop: asyncio.AbstractEventLoop | None = None
        self._halt: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._own_loop, self._halt = asyncio.get_running_loop(), asyncio.Event()
        self._loop_ready.set()
        engine = create_engine(
            self._url, pool_size=2, max_overflow=0, statement_timeout_ms=self._settings.db_statement_timeout_ms
        )
        try:
            await lead(engine, self._halt, options_from(self._settings))
        finally:
            await engine.dispose()

    def request_stop(self) -> None:
        """Ask the loop to finish its batch and return (from any thread)."""
        self._loop_ready.wait(timeout=STOP_SECONDS)
        if self._own_loop is not None and self._halt is not None and not self._own_loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                self._own_loop.call_soon_threadsafe(self._halt.set)


async def _run_leader(
    connection: AsyncConnection,
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    options: SequencerOptions,
) -> None:
    # The lock connection is checked now and then: a leader whose connection broke has lost the lock and steps
    # down rather than keep sequencing beside the next leader (which would be correct, only wasted work).
    next_check = time.monotonic() + options.follower_retry_seconds
    # A new leader first brings the tree up to the feed (events loaded or restored without their tree, as the bench's
    # seeded million are): a long catch-up then happens at election, not inside the first batch under load.
    async with transaction(sessionmaker) as session:
        await log_repo.integrate(session)
    while not stop.is_set():
        async with transaction(sessionmaker) as session:
            moved = await sequence_once(session, batch=options.batch)
        if time.monotonic() >= next_check:
            await connection.execute(text("SELECT 1"))
            next_check = time.monotonic() + options.follower_retry_seconds
        if moved < options.batch:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=options.poll_seconds)
    # Stopping (the process shuts down after its requests finished): sequence what is queued before stepping down,
    # so a stopped service leaves no event waiting for the next leader.
    await drain(sessionmaker, batch=options.batch)


def options_from(settings: Settings) -> SequencerOptions:
    """The sequencer's options from the TIC_SEQUENCER_* settings."""
    return SequencerOptions(
        batch=settings.sequencer_batch,
        poll_seconds=settings.sequencer_poll_seconds,
        follower_retry_seconds=settings.sequencer_retry_seconds,
    )
