"""The worker (`python -m app worker`): dispatches the event feed to webhook deliveries and sends them, and emits
the inbox's reminders onto the feed (app/services/reminders.py).

It runs on procrastinate, a task queue kept in this service's own PostgreSQL: jobs are rows, workers fetch them with
`FOR UPDATE SKIP LOCKED` and wake on NOTIFY, so any number of workers on any number of machines share the work with
no broker to run. Each worker also runs the dispatch loop; webhooks are locked one at a time with SKIP LOCKED, so
loops on many workers split the webhooks instead of repeating one another. Every worker, like every service process,
is also a candidate for the feed's one sequencer (app/services/sequencer.py). Like app.main, this module wires layers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import procrastinate
import structlog
from procrastinate.exceptions import ProcrastinateException
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.session import (
    create_engine,
    create_sessionmaker,
    psycopg_conninfo,
    resolve_database_url,
    transaction,
)
from app.domain.draws import ReviewTerms
from app.domain.webhooks import TargetPolicy, retry_delay
from app.services import draws, reminders, sequencer, webhook_targets, webhooks
from app.services.clock import Clock
from app.services.secret_box import SecretBox
from app.settings import Settings

log = structlog.get_logger("app.worker")

# A job whose worker stopped sending heartbeats this long ago is handed back to the queue.
STALLED_AFTER_SECONDS = 60.0
# How often a worker lapses panel invitations past their reply deadline (deadlines are days; a minute is plenty).
INVITATION_SWEEP_SECONDS = 60.0


class DeliveryFailed(Exception):
    """The receiver did not take the event; the queue runs the job again at `retry_at`."""

    def __init__(self, retry_at: datetime, error: str | None) -> None:
        super().__init__(error or "delivery failed")
        self.retry_at = retry_at


@dataclass(frozen=True)
class DeliveryRetry(BaseRetryStrategy):
    """When to run a delivery job again. A failed delivery says when itself (its attempts are counted on the
    delivery row); any other error (a database outage, say) backs off on the job's own count and gives up after
    as many attempts. procrastinate's RetryStrategy computes `exponential_wait ** attempt` from an integer, which
    cannot express "5 s, doubling" or the sub-second waits tests need."""

    policy: webhooks.RetryPolicy

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, DeliveryFailed):
            return RetryDecision(retry_at=exception.retry_at)
        attempt = job.attempts + 1
        if attempt >= self.policy.max_attempts:
            return None
        delay = retry_delay(attempt, base_seconds=self.policy.base_seconds, max_seconds=self.policy.max_seconds)
        return RetryDecision(retry_at=datetime.now(UTC) + timedelta(seconds=delay))


@dataclass(frozen=True)
class Runtime:
    """What the tasks and the dispatch loop share in one worker process."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    targets: TargetPolicy
    box: SecretBox
    # The engine behind `sessionmaker` (the sequencer connects to its database).
    engine: AsyncEngine | None = None

    @property
    def policy(self) -> webhooks.RetryPolicy:
        return retry_policy(self.settings)


def retry_policy(settings: Settings) -> webhooks.RetryPolicy:
    return webhooks.RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_seconds=settings.webhook_retry_base_seconds,
        max_seconds=settings.webhook_retry_max_seconds,
    )


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, *, engine: AsyncEngine | None = None, concurrency: int | None = None
) -> AsyncIterator[Runtime]:
    """The guarded HTTP client, the secret box and, unless one is given, an engine sized for `concurrency` jobs and
    the dispatch loop."""
    own_engine = engine is None
    if engine is None:
        url = resolve_database_url(settings.database_url, settings.data_dir)
        engine = create_engine(
            url,
            pool_size=(concurrency or settings.worker_concurrency) + 2,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
    targets = settings.webhook_target_policy()
    http = webhook_targets.delivery_client(
        targets, timeout=settings.webhook_timeout_seconds, user_agent="henan-tic-webhooks/1"
    )
    try:
        yield Runtime(
            settings=settings,
            sessionmaker=create_sessionmaker(engine),
            http=http,
            targets=targets,
            box=SecretBox(settings.webhook_fernet_keys()),
            engine=engine,
        )
    finally:
        await http.aclose()
        if own_engine:
            await engine.dispose()


# --- the delivery task ---------------------------------------------------------------------------------------------


async def deliver(runtime: Runtime, delivery_id: str) -> None:
    """Send one delivery once; raise DeliveryFailed when it is to be tried again."""
    ident = uuid.UUID(delivery_id)
    async with transaction(runtime.sessionmaker) as session:
        request = await webhooks.prepare_delivery(session, ident, runtime.box)
    if request is None:
        return
    attempt = await webhooks.send(runtime.http, request, timestamp=int(time.time()), policy=runtime.targets)
    async with transaction(runtime.sessionmaker) as session:
        retry_at = await webhooks.record_attempt(session, ident, attempt, now=datetime.now(UTC), policy=runtime.policy)
    log.info(
        "webhook_attempt",
        delivery_id=delivery_id,
        ok=attempt.ok,
        status_code=attempt.status_code,
        error=attempt.error,
        cause=attempt.cause,
        retry_at=retry_at.isoformat() if retry_at else None,
    )
    if retry_at is not None:
        raise DeliveryFailed(retry_at, attempt.error)


def create_queue(settings: Settings, runtime: Runtime, *, concurrency: int | None = None) -> procrastinate.App:
    """The procrastinate app on the service's database, with the delivery task bound to `runtime`."""
    url = resolve_database_url(settings.database_url, settings.data_dir)
    workers = concurrency or settings.worker_concurrency
    connector = procrastinate.PsycopgConnector(
        conninfo=psycopg_conninfo(url, application_name="henan-tic-worker"),
        min_size=1,
        # Jobs, the fetch loop and the LISTEN connection each need one.
        max_size=workers + 3,
    )
    queue = procrastinate.App(connector=connector)

    @queue.task(name=webhooks.DELIVER_TASK, queue=webhooks.QUEUE, retry=DeliveryRetry(policy=retry_policy(settings)))
    async def deliver_task(delivery_id: str) -> None:
        await deliver(runtime, delivery_id)

    return queue


# --- the dispatch loop ---------------------------------------------------------------------------------------------


async def dispatch_once(runtime: Runtime) -> int:
    """One pass over the webhooks behind the feed; answers how many deliveries it created."""
    async with transaction(runtime.sessionmaker) as session:
        due = await webhooks.due_webhooks(session)
    created = 0
    for webhook_id in due:
        more = True
        while more:
            async with transaction(runtime.sessionmaker) as session:
                result = await webhooks.dispatch(session, webhook_id)
            created += result.deliveries
            more = result.more
    return created


async def expire_invitations_once(runtime: Runtime) -> int:
    """Lapse panel invitations past their reply deadline, calling in the backups (issue 17 §1); one transaction per
    application, so one failure does not hold back the others. Answers how many invitations lapsed."""
    settings = runtime.settings
    terms = ReviewTerms(
        panel_cap=settings.expert_panel_cap, reply_days=settings.expert_reply_days, score_days=settings.score_days
    )
    today = Clock(settings.tz).today()
    async with transaction(runtime.sessionmaker) as session:
        due = await draws.overdue_applications(session, today)
    lapsed = 0
    for application_id in due:
        async with transaction(runtime.sessionmaker) as session:
            lapsed += await draws.sweep(session, application_id, today, terms)
    return lapsed


async def recover_stalled(queue: procrastinate.App) -> int:
    """Hand back the jobs of workers that died mid-job; without this their subject's later jobs would wait forever
    (a job holds its lock while it is `doing`)."""
    stalled = await queue.job_manager.get_stalled_jobs(
        queue=webhooks.QUEUE, seconds_since_heartbeat=STALLED_AFTER_SECONDS
    )
    recovered = 0
    for job in stalled:
        with contextlib.suppress(ProcrastinateException):  # another worker got to it first
            await queue.job_manager.retry_job(job)
            recovered += 1
    return recovered


async def dispatch_forever(runtime: Runtime, queue: procrastinate.App | None, stop: asyncio.Event) -> None:
    interval = runtime.settings.webhook_dispatch_interval_seconds
    next_recovery = time.monotonic() + STALLED_AFTER_SECONDS
    next_expiry = time.monotonic()
    while not stop.is_set():
        try:
            if time.monotonic() >= next_expiry:
                next_expiry = time.monotonic() + INVITATION_SWEEP_SECONDS
                if lapsed := await expire_invitations_once(runtime):
                    log.info("panel_invitations_lapsed", invitations=lapsed)
            await dispatch_once(runtime)
            if queue is not None and time.monotonic() >= next_recovery:
                next_recovery = time.monotonic() + STALLED_AFTER_SECONDS
                if recovered := await recover_stalled(queue):
                    log.warning("webhook_jobs_recovered", jobs=recovered)
        except Exception as exc:  # a database blip must not end the loop; the next round retries
            log.warning("webhook_dispatch_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


# --- the reminder loop ---------------------------------------------------------------------------------------------


async def remind_once(runtime: Runtime, as_of: date | None = None) -> int:
    """Emit the reminders due today (Asia/Shanghai) or on `as_of`, in one transaction; answers how many."""
    day = as_of or Clock(runtime.settings.tz).today()
    async with transaction(runtime.sessionmaker) as session:
        return await reminders.emit(session, day)


async def remind_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    interval = runtime.settings.reminder_interval_seconds
    while not stop.is_set():
        try:
            if emitted := await remind_once(runtime):
                log.info("reminders_emitted", reminders=emitted)
        except Exception as exc:  # a database blip must not end the loop; the next round retries
            log.warning("reminders_failed", error=f"{type(exc).__name__}: {exc}"[:300])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


# --- running -------------------------------------------------------------------------------------------------------


async def run(
    settings: Settings,
    *,
    stop: asyncio.Event,
    concurrency: int | None = None,
    name: str | None = None,
    engine: AsyncEngine | None = None,
) -> None:
    """Run the delivery worker, the dispatch and reminder loops and (unless TIC_SEQUENCER_ENABLED=false) a candidate
    for the feed's sequencer until `stop` is set; running jobs are finished first."""
    async with open_runtime(settings, engine=engine, concurrency=concurrency) as runtime:
        queue = create_queue(settings, runtime, concurrency=concurrency)
        url = (
            runtime.engine.url.render_as_string(hide_password=False)
            if runtime.engine is not None
            else resolve_database_url(settings.database_url, settings.data_dir)
        )
        async with queue.open_async(), sequencer.candidate(url, settings):
            options: dict[str, Any] = {
                "queues": [webhooks.QUEUE],
                "concurrency": concurrency or settings.worker_concurrency,
                "fetch_job_polling_interval": settings.worker_poll_seconds,
                "delete_jobs": "successful",  # the delivery log is webhook_deliveries; failed jobs stay for ops
                "install_signal_handlers": False,  # the caller owns signals and sets `stop`
            }
            if name:
                options["name"] = name
            worker = asyncio.create_task(queue.run_worker_async(**options), name="procrastinate worker")
            dispatcher = asyncio.create_task(dispatch_forever(runtime, queue, stop), name="webhook dispatch")
            reminder = asyncio.create_task(remind_forever(runtime, stop), name="reminders")
            stopped = asyncio.create_task(stop.wait(), name="stop")
            loops = {worker, dispatcher, reminder, stopped}
            try:
                await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.set()
                # Cancelling procrastinate's worker asks it to stop and waits for the jobs in progress.
                worker.cancel()
                results = await asyncio.gather(*loops, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    raise result
