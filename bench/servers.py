"""Starting and stopping the servers under test, and reading CPU time from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.config import AUTH_SECRET, ROOT

APPS = ("service", "floor", "orm")
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    app: str
    workers: int
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command(app: str, port: int, workers: int) -> list[str]:
    if app == "service":
        # The service's own CLI: uvicorn with loop="auto" and http="auto", i.e. uvloop and httptools when installed.
        return [
            sys.executable,
            "-m",
            "app",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"bench.baselines.{app}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def start(app: str, database_url: str, workers: int, log_dir: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "TIC_DATABASE_URL": database_url,
        "TIC_AUTH_SECRET": AUTH_SECRET,
        "TIC_LOG_LEVEL": "WARNING",
        # The service keeps 20 connections, as the floor's asyncpg pool does: with the default 10 + 10 overflow, the
        # overflow connections are closed when returned and opened again under load (TLS attempt included).
        "TIC_DB_POOL_SIZE": "20",
        "TIC_DB_MAX_OVERFLOW": "0",
        "BENCH_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{app}-{workers}w-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command(app, port, workers), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(app, workers, port, process, log, log_path)
    try:
        wait_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def wait_ready(server: Server, timeout: float = 90.0) -> None:
    path = "/readyz" if server.app == "service" else "/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.app} exited with {server.process.returncode}; see {server.log_path}")
        try:
            with urllib.request.urlopen(server.base + path, timeout=2) as response:
                if response.status == 200 and _workers_up(server):
                    if server.workers > 1:
                        time.sleep(3)  # every worker has started; let the slowest finish importing the app
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{server.app} not ready after {timeout:.0f}s; see {server.log_path}")


def _workers_up(server: Server) -> bool:
    """With several workers, every worker process has to exist before the load starts."""
    if server.workers == 1:
        return True
    return len(process_tree(server.process.pid)) - 1 >= server.workers


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    server.log.close()


# --- CPU accounting ---------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses


def _cpu_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parents[int(entry)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        tree += children
        frontier += children
    return tree


def tree_cpu_seconds(root: int) -> float:
    return sum(_cpu_ticks(pid) for pid in process_tree(root)) / _TICK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def machine_busy(seconds: float) -> float:
    """CPUs busy over the next `seconds` (1.0 = one whole CPU)."""
    busy0, total0 = machine_ticks()
    time.sleep(seconds)
    busy1, total1 = machine_ticks()
    return (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)
