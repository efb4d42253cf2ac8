"""The traceback gate: a class of unexpected error shows its traceback at most once per window (issue 12)."""

from __future__ import annotations

import pytest

from app.logging import TracebackGate, error_class


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_class_shows_its_traceback_once_per_window_and_counts_what_it_held_back() -> None:
    clock = Clock()
    gate = TracebackGate(60, clock=clock)
    assert gate.admit("RuntimeError") == (True, 0)
    assert gate.admit("RuntimeError") == (False, 0)
    clock.now += 59.9
    assert gate.admit("RuntimeError") == (False, 0)
    assert gate.admit("KeyError") == (True, 0)
    clock.now += 0.1
    assert gate.admit("RuntimeError") == (True, 2)
    assert gate.admit("RuntimeError") == (False, 0)


def test_the_gate_forgets_everything_rather_than_grow_without_bound() -> None:
    gate = TracebackGate(60, clock=Clock(), max_classes=3)
    assert [gate.admit(f"E{n}")[0] for n in range(3)] == [True, True, True]
    assert gate.admit("E0") == (False, 0)
    assert gate.admit("E3") == (True, 0)  # a fourth class clears the table
    assert gate.admit("E0") == (True, 0)


def test_an_error_class_is_named_by_module_and_qualified_name() -> None:
    class Local(Exception):
        pass

    assert error_class(RuntimeError("x")) == "builtins.RuntimeError"
    assert error_class(Local()).endswith("test_an_error_class_is_named_by_module_and_qualified_name.<locals>.Local")


def test_logs_follow_stderr_when_it_is_replaced_after_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import structlog

    from app.logging import configure_logging

    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging("INFO")
    first.close()  # the stream logging was configured with is gone, as a finished test's capture is
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    structlog.get_logger().info("still_logged")
    assert '"event": "still_logged"' in second.getvalue()
