"""The worker's wiring: the queue's connection string, its frozen schema and its retry decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg.conninfo
import pytest
from procrastinate.jobs import Job
from procrastinate.schema import SchemaManager

from app.__main__ import main
from app.db.session import psycopg_conninfo
from app.services.webhooks import RetryPolicy
from app.worker import DeliveryFailed, DeliveryRetry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/tic",
            {"host": "127.0.0.1", "port": "5432", "dbname": "tic", "user": "postgres"},
        ),
        (
            "postgresql+asyncpg://app:s3cr%27t%20x@db.internal/tic",
            {"host": "db.internal", "dbname": "tic", "user": "app", "password": "s3cr't x"},
        ),
        (
            "postgresql://postgres:@/tic_test?host=/tmp/pg%20socket",
            {"host": "/tmp/pg socket", "dbname": "tic_test", "user": "postgres"},
        ),
    ],
)
def test_the_queue_gets_a_libpq_connection_string_from_every_url_form(url: str, expected: dict[str, str]) -> None:
    assert psycopg.conninfo.conninfo_to_dict(psycopg_conninfo(url)) == expected


def test_the_queue_connection_string_names_the_worker() -> None:
    parsed = psycopg.conninfo.conninfo_to_dict(psycopg_conninfo("postgresql://h/db", application_name="w"))
    assert parsed["application_name"] == "w"


def test_the_migrated_queue_schema_is_the_installed_procrastinate_schema() -> None:
    frozen = (ROOT / "alembic" / "sql" / "procrastinate-3.10.0.sql").read_text(encoding="utf-8")
    assert SchemaManager.get_schema() == frozen, (
        "procrastinate's schema changed: add an Alembic revision that applies the new files of procrastinate's "
        "sql/migrations/ (in order), and point this test at a fresh snapshot of its schema.sql; keep the 3.10.0 "
        "snapshot, revision 872de9637444 installs it."
    )


POLICY = RetryPolicy(max_attempts=3, base_seconds=2, max_seconds=60)


def job(attempts: int) -> Job:
    return Job(id=1, queue="webhooks", lock=None, queueing_lock=None, task_name="webhooks.deliver", attempts=attempts)


def test_a_failed_delivery_is_retried_when_it_says() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    decision = DeliveryRetry(policy=POLICY).get_retry_decision(exception=DeliveryFailed(at, "HTTP 500"), job=job(7))
    assert decision is not None
    assert decision.retry_at == at


@pytest.mark.parametrize(("attempts", "retried"), [(0, True), (1, True), (2, False)])
def test_an_unexpected_error_backs_off_on_the_job_count_and_gives_up(attempts: int, retried: bool) -> None:
    before = datetime.now(UTC)
    decision = DeliveryRetry(policy=POLICY).get_retry_decision(exception=RuntimeError("db down"), job=job(attempts))
    assert (decision is not None) is retried
    if decision is not None:
        assert decision.retry_at is not None
        wait = POLICY.base_seconds * 2**attempts
        assert before + timedelta(seconds=wait) <= decision.retry_at <= datetime.now(UTC) + timedelta(seconds=wait)


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_the_worker_command_refuses_a_concurrency_below_one(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["worker", "--concurrency", value])
    assert exit.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_the_delivery_statuses_agree_across_domain_table_and_contract() -> None:
    from typing import get_args

    from app.api.v1.webhooks.schemas import DeliveryStatus
    from app.db.models import WEBHOOK_DELIVERY_STATUSES
    from app.domain.webhooks import DELIVERY_STATUSES

    assert WEBHOOK_DELIVERY_STATUSES == DELIVERY_STATUSES == get_args(DeliveryStatus)
