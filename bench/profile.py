"""py-spy, attached to a running server while a scenario drives it, and a summary of where the CPU time went."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

CATEGORIES = (
    ("app (service code)", "/app/"),
    ("sqlalchemy", "sqlalchemy/"),
    ("asyncpg", "asyncpg/"),
    ("pydantic", "pydantic"),
    ("fastapi", "fastapi/"),
    ("starlette", "starlette/"),
    ("uvicorn/uvloop/httptools", "uvicorn/"),
    ("jwt/cryptography", "jwt/"),
    ("structlog/prometheus", "structlog/"),
    ("structlog/prometheus", "prometheus_client/"),
    ("json", "json/"),
    ("threadpool hand-off (sync dependencies)", "threading.py"),
    ("threadpool hand-off (sync dependencies)", "queue.py"),
    ("threadpool hand-off (sync dependencies)", "to_thread.py"),
    ("event loop (uvloop, C)", "asyncio/runners.py"),
    ("asyncio/stdlib", "/lib/python3"),
)


def py_spy() -> str:
    """The py-spy binary, installed into this environment from PyPI on first use (it ships as a wheel)."""
    binary = Path(sys.executable).with_name("py-spy")
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
    return str(binary)


def record(pid: int, output: Path, duration: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--nonblocking",
            "--subprocesses",
            "--format",
            "raw",
            "--duration",
            str(max(1, round(duration))),
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _frame_file(frame: str) -> str:
    start = frame.rfind("(")
    return frame[start + 1 :] if start >= 0 else frame


def _short(frame: str) -> str:
    """`function (…/site-packages/pkg/mod.py:12)` → `function (pkg/mod.py:12)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def category(frame: str) -> str:
    path = _frame_file(frame)
    for name, marker in CATEGORIES:
        if marker in path:
            return name
    return "other"


def summarize(path: Path, top: int = 25) -> str:
    """Self time by package, then the heaviest frames inclusive (each counted once per stack) and by self time."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    total = sum(count for _, count in stacks) or 1
    by_category: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        real = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not real:
            continue
        by_category[category(real[-1])] += count
        leaf[_short(real[-1])] += count
        for frame in {_short(f) for f in real}:
            inclusive[frame] += count
    lines = [f"{total} samples (CPU only, 200 Hz)", "", "self time by package:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in by_category.most_common()]
    lines += ["", "inclusive (service code, SQLAlchemy session/ORM, FastAPI, pydantic entry points):"]
    interesting = ("app/", "sqlalchemy/orm/", "sqlalchemy/engine/", "fastapi/", "pydantic", "asyncpg/", "jwt/")
    shown = [(f, c) for f, c in inclusive.most_common() if any(k in f for k in interesting)][: top * 2]
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in shown]
    lines += ["", "self (leaf frames):"]
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in leaf.most_common(top)]
    return "\n".join(lines)
