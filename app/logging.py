"""Structured JSON logs (structlog over the standard library), one line per event."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import structlog


class _CurrentStderr:
    """`sys.stderr` as it is when a line is written, not when logging was configured: whatever swaps the stream later
    (a test harness capturing output, a daemonising wrapper) must not leave the logs writing to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", *, json_output: bool = True) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json_output else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


class TracebackGate:
    """Lets the full traceback of an unexpected error through once per error class and `window_seconds`.

    A 500 is logged every time (one line with the request id the problem told the client to quote), but its 6 KB
    traceback only when that class of error has not shown one within the window: a client that can trigger a 500 at
    will must not be able to flood the logs. The next traceback says how many were held back in between.
    """

    def __init__(
        self, window_seconds: float = 60.0, *, clock: Callable[[], float] = time.monotonic, max_classes: int = 1000
    ) -> None:
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_classes = max_classes
        self._shown_at: dict[str, float] = {}
        self._held_back: dict[str, int] = {}

    def admit(self, error_class: str) -> tuple[bool, int]:
        """(show the traceback now?, tracebacks of this class held back since the last one shown)."""
        now = self._clock()
        shown_at = self._shown_at.get(error_class)
        if shown_at is not None and now - shown_at < self.window_seconds:
            self._held_back[error_class] = self._held_back.get(error_class, 0) + 1
            return False, 0
        if shown_at is None and len(self._shown_at) >= self._max_classes:
            # Error classes are finite in practice; the bound only keeps a pathological stream from growing this.
            self._shown_at.clear()
            self._held_back.clear()
        self._shown_at[error_class] = now
        return True, self._held_back.pop(error_class, 0)


def error_class(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"
