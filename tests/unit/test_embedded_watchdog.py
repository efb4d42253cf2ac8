"""The embedded database's watchdog and the liveness it reports (issue 12), with a fake server and clock: restarts,
giving up, and /healthz answering from the watchdog's view only."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import ValidationError

from app.api.problems import PROBLEM_MEDIA_TYPE
from app.db.embedded import DatabaseWatch, Watchdog
from app.main import create_app
from app.services.health import liveness
from app.settings import Settings


class FakeServer:
    def __init__(self, *, failing_restarts: int = 0) -> None:
        self.up = True
        self.failing_restarts = failing_restarts
        self.restart_calls = 0

    def alive(self) -> bool:
        return self.up

    def restart(self) -> None:
        self.restart_calls += 1
        if self.restart_calls <= self.failing_restarts:
            raise RuntimeError("pg_ctl: could not start server")
        self.up = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answering(answers: list[bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return answers.pop(0) if answers else True

    return probe


def watchdog(server: FakeServer, *, attempts: int = 3, probe: list[bool] | None = None) -> tuple[Watchdog, list[int]]:
    lost: list[int] = []
    dog = Watchdog(
        server,
        DatabaseWatch(),
        interval=0.01,
        attempts=attempts,
        probe=answering(probe or []),
        on_lost=lambda: lost.append(1),
        clock=Clock(),
        backoff=(0.0,),
    )
    return dog, lost


async def test_a_live_answering_database_is_recorded_as_reachable() -> None:
    dog, lost = watchdog(FakeServer())
    assert await dog.check()
    assert dog.state.down_since is None
    assert dog.state.last_ok == 1000.0
    assert not lost


async def test_a_dead_postmaster_is_restarted_and_the_database_is_reachable_again() -> None:
    server = FakeServer()
    dog, lost = watchdog(server)
    server.up = False
    assert await dog.check()
    assert server.restart_calls == 1
    assert dog.state.restarts == 1
    assert dog.state.down_since is None
    assert not lost


async def test_a_restart_that_succeeds_on_the_last_attempt_does_not_give_up() -> None:
    server = FakeServer(failing_restarts=2)
    dog, lost = watchdog(server, attempts=3)
    server.up = False
    assert await dog.check()
    assert server.restart_calls == 3
    assert not dog.state.gave_up
    assert not lost


async def test_the_watchdog_gives_up_after_its_attempts_and_reports_the_database_lost() -> None:
    server = FakeServer(failing_restarts=10)
    dog, lost = watchdog(server, attempts=2)
    server.up = False
    assert not await dog.check()
    assert server.restart_calls == 2
    assert dog.state.gave_up
    assert lost == [1]


async def test_the_watchdog_loop_ends_once_it_has_given_up() -> None:
    server = FakeServer(failing_restarts=10)
    dog, lost = watchdog(server, attempts=1)
    server.up = False
    await dog.run()  # returns instead of watching forever
    assert lost == [1]


async def test_a_live_postmaster_that_does_not_answer_counts_as_unreachable_but_is_not_restarted() -> None:
    server = FakeServer()
    dog, _ = watchdog(server, probe=[False, False, True])
    clock = dog.clock
    assert isinstance(clock, Clock)
    assert await dog.check()
    clock.now += 10
    assert await dog.check()
    assert dog.state.down_since == 1000.0
    assert dog.state.unreachable_for(clock.now) == 10
    assert server.restart_calls == 0
    assert await dog.check()
    assert dog.state.down_since is None


@pytest.mark.parametrize(
    ("down_for", "gave_up", "alive"),
    [
        (None, False, True),
        (0.0, False, True),
        (30.0, False, True),  # exactly the grace: still alive
        (30.1, False, False),
        (None, True, False),  # the watchdog gave up: the process is on its way out
    ],
)
def test_liveness_fails_only_after_the_database_was_unreachable_longer_than_the_grace(
    down_for: float | None, gave_up: bool, alive: bool
) -> None:
    watch = DatabaseWatch(down_since=None if down_for is None else 100.0 - down_for, gave_up=gave_up)
    assert liveness(watch, grace_seconds=30.0, now=100.0).alive is alive


def test_with_an_external_database_liveness_never_depends_on_it() -> None:
    assert liveness(None, grace_seconds=0.0).alive


async def _healthz(watch: DatabaseWatch | None, grace: float) -> httpx.Response:
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:1/none", environment="test", health_db_grace_seconds=grace
    )
    application = create_app(settings)
    application.state.database_watch = watch
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as client:
        return await client.get("/healthz")


async def test_healthz_answers_a_503_problem_once_the_embedded_database_is_unreachable_past_the_grace() -> None:
    response = await _healthz(DatabaseWatch(down_since=time.monotonic() - 45), grace=30)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["code"] == "database-unavailable"
    assert body["unreachable_seconds"] >= 45


async def test_healthz_stays_ok_while_the_embedded_database_is_down_within_the_grace() -> None:
    response = await _healthz(DatabaseWatch(down_since=time.monotonic() - 5), grace=30)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_watchdog_settings_default_to_a_30_second_grace_1_second_looks_and_3_restarts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HEALTH_DB_GRACE_SECONDS", "EMBEDDED_WATCHDOG_INTERVAL_SECONDS", "EMBEDDED_RESTART_ATTEMPTS"):
        monkeypatch.delenv(f"TIC_{name}", raising=False)
    settings = Settings()
    assert settings.health_db_grace_seconds == 30
    assert settings.embedded_watchdog_interval_seconds == 1
    assert settings.embedded_restart_attempts == 3


@pytest.mark.parametrize(
    "overrides",
    [{"health_db_grace_seconds": -1}, {"embedded_watchdog_interval_seconds": 0}, {"embedded_restart_attempts": 0}],
)
def test_watchdog_settings_that_make_no_sense_are_refused(overrides: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Settings(**overrides)  # type: ignore[arg-type]
