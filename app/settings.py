"""Typed settings from `TIC_*` environment variables. Nothing reads them at import time."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.domain.checkpoints import NoteError, Signer
from app.domain.documents import DEFAULT_PREFIX as DOCUMENT_PREFIX
from app.domain.documents import prefix_problem
from app.domain.webhooks import TargetPolicy
from app.domain.workdays import OFFICIAL, Arrangement, WorkdayCalendar, arrangements_from

DEV_SECRET = "dev-secret-change-me-0123456789abcdef"
# Derived rather than random, so a development database stays readable across restarts; refused in production.
DEV_WEBHOOK_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"henan-tic development webhook secret key").digest()
).decode()


def _comma_separated(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _read_arrangements(path: Path) -> dict[int, Arrangement]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"TIC_WORKDAY_CALENDAR_FILE {path}: {exc}") from None
    try:
        return arrangements_from(data)
    except ValueError as exc:
        raise ValueError(f"TIC_WORKDAY_CALENDAR_FILE {path}: {exc}") from None


class Settings(BaseSettings):
    # Errors must not echo the values: some are secrets.
    model_config = SettingsConfigDict(env_prefix="TIC_", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "test", "production"] = "development"
    # Plain postgresql:// URL (or ?host=/socket/dir); empty means "start the embedded server".
    database_url: str | None = None
    data_dir: Path = Path(".data")
    # The embedded database (no database_url): how often its watchdog looks at it, how often in a row it tries to
    # restart a dead postmaster before the process exits non-zero, and how long it may stay unreachable before
    # /healthz fails (so an orchestrator restarts the process).
    embedded_watchdog_interval_seconds: float = Field(default=1.0, gt=0)
    embedded_restart_attempts: int = Field(default=3, ge=1)
    health_db_grace_seconds: float = Field(default=30.0, ge=0)
    auth_secret: SecretStr = SecretStr(DEV_SECRET)
    auth_jwks_url: str | None = None
    auth_audience: str | None = None
    token_ttl_seconds: int = 3600
    timezone: str = "Asia/Shanghai"
    # The rule set a fast-track application is judged by (domain.md §3: "the set current on its creation").
    current_rule_set: str = "henan-2021"
    # The prefix of the numbers the document register issues: 豫科〔2026〕17号 (issue 16 §4).
    document_prefix: str = DOCUMENT_PREFIX
    max_body_bytes: int = 1024 * 1024
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_statement_timeout_ms: int = 15000
    log_level: str = "INFO"
    log_json: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    # Webhook deliveries and the worker that makes them (`python -m app worker`).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=12, ge=1)
    # A failed attempt n waits base * 2**(n-1) seconds, at most webhook_retry_max_seconds (5 s, 10 s, ... 1 h).
    webhook_retry_base_seconds: float = Field(default=5.0, ge=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, ge=0)
    # How often a worker looks for feed events no delivery has been made for yet.
    webhook_dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    worker_concurrency: int = Field(default=10, ge=1)
    # The feed's sequencer (issue 14): whether this process takes part in electing the one leader that moves appended
    # events into the feed; how many events one batch moves; how long the leader waits when the queue is empty; how
    # often a follower tries to take over (the longest a dead leader's work waits, plus one batch).
    sequencer_enabled: bool = True
    sequencer_batch: int = Field(default=1000, ge=1, le=10000)
    sequencer_poll_seconds: float = Field(default=0.05, gt=0)
    sequencer_retry_seconds: float = Field(default=1.0, gt=0)
    # Where the sequencer connects, when not to the service's database URL: its leader lock is session-level, so behind
    # PgBouncer in transaction mode it must reach PostgreSQL directly (or through a session-mode pool).
    sequencer_database_url: str | None = None
    # Panel draws (issue 17 §1): an expert sits on at most this many panels of one call; a drawn expert answers the
    # invitation within this many days; the panel scores within this many days of the review opening.
    expert_panel_cap: int = Field(default=3, ge=1, le=100)
    expert_reply_days: int = Field(default=3, ge=1, le=60)
    score_days: int = Field(default=14, ge=1, le=365)
    # The longest a worker waits before polling for jobs (it is also woken by NOTIFY on new jobs; retries are polled).
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    # How often a worker computes the inbox's due and overdue items and emits the reminders not yet emitted
    # (`reminder.due`, `reminder.overdue` on the feed); each is emitted once whatever the interval.
    reminder_interval_seconds: float = Field(default=300.0, gt=0)
    # The province's own receivers, which may sit on addresses webhooks are otherwise refused (private, loopback, ...):
    # host names, IP addresses or CIDR networks, comma-separated.
    webhook_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # Fernet keys, comma-separated, that encrypt webhook secrets at rest: the first encrypts, every one decrypts.
    webhook_secret_keys: SecretStr | None = None
    # The Ed25519 key that signs the feed's checkpoints, as golang.org/x/mod/sumdb/note writes a signer key
    # (PRIVATE+KEY+<name>+<key id>+<base64>): `python -m app log keygen` prints one. Required in production; in
    # development a key is generated once into TIC_DATA_DIR.
    log_signing_key: SecretStr | None = None
    # Attachments (issue 16 §1): stored under their SHA-256 in a local folder (TIC_DATA_DIR/objects) unless
    # TIC_STORAGE_URL names an S3-compatible bucket (s3://bucket or s3://bucket/prefix). The endpoint, region and
    # keys are for S3; without keys the usual AWS_* environment and instance credentials apply.
    storage_url: str | None = None
    storage_endpoint: str | None = None
    storage_region: str | None = None
    storage_access_key_id: str | None = None
    storage_secret_access_key: SecretStr | None = None
    attachment_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    attachment_subject_max_bytes: int = Field(default=500 * 1024 * 1024, gt=0)
    # Working-day arrangements the department enters itself (a JSON file, app/domain/workdays.py `arrangements_from`):
    # a year the chinesecalendar package does not cover yet (its data ends with 2026), or a correction. A year given
    # there is taken from there; a 公示 counted in a year neither covers is refused with `calendar-unavailable`.
    workday_calendar_file: Path | None = None

    _split_allowed_hosts = field_validator("webhook_allowed_hosts", mode="before")(_comma_separated)

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _check_allowed_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        TargetPolicy.build(https_only=False, allowed=value)  # ValueError names the entry that is not a host or network
        return value

    @field_validator("workday_calendar_file")
    @classmethod
    def _check_workday_calendar(cls, value: Path | None) -> Path | None:
        if value is not None:
            _read_arrangements(value)  # a file that is missing or wrong stops the service at start, naming the problem
        return value

    @field_validator("document_prefix")
    @classmethod
    def _check_document_prefix(cls, value: str) -> str:
        if (problem := prefix_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("webhook_secret_keys")
    @classmethod
    def _check_secret_keys(cls, value: SecretStr | None) -> SecretStr | None:
        for key in _comma_separated(value.get_secret_value() if value else ""):
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(
                    "TIC_WEBHOOK_SECRET_KEYS holds Fernet keys (32 url-safe base64-encoded bytes), comma-separated"
                ) from None
        return value

    @field_validator("log_signing_key")
    @classmethod
    def _check_log_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Signer.parse(value.get_secret_value())
            except NoteError:
                raise ValueError(
                    "TIC_LOG_SIGNING_KEY is an Ed25519 signer key in note format (PRIVATE+KEY+name+id+key)"
                ) from None
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str | None) -> str | None:
        if value and not value.startswith("s3://"):
            raise ValueError("TIC_STORAGE_URL names an S3-compatible bucket: s3://bucket[/prefix]")
        return value or None

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production":
            secret = self.auth_secret.get_secret_value()
            if self.auth_jwks_url is None and (secret == DEV_SECRET or len(secret) < 32):
                raise ValueError("TIC_AUTH_SECRET must be set to a strong secret (>= 32 chars) in production")
            if not self.database_url:
                raise ValueError("TIC_DATABASE_URL must be set in production (no embedded PostgreSQL)")
            keys = self.webhook_fernet_keys() if self.webhook_secret_keys else []
            if not keys or DEV_WEBHOOK_KEY in keys:
                raise ValueError("TIC_WEBHOOK_SECRET_KEYS must be set to a Fernet key of your own in production")
            if self.log_signing_key is None:
                raise ValueError("TIC_LOG_SIGNING_KEY must be set in production (python -m app log keygen)")
        return self

    def webhook_fernet_keys(self) -> list[str]:
        """The keys for webhook secrets, the encrypting one first; the development key when none is set."""
        keys = _comma_separated(self.webhook_secret_keys.get_secret_value() if self.webhook_secret_keys else "")
        return list(keys) or [DEV_WEBHOOK_KEY]

    def webhook_target_policy(self) -> TargetPolicy:
        """Where webhooks may deliver: https only in production, public addresses unless allow-listed."""
        return TargetPolicy.build(https_only=self.environment == "production", allowed=self.webhook_allowed_hosts)

    @cached_property
    def workday_calendar(self) -> WorkdayCalendar:
        if self.workday_calendar_file is None:
            return OFFICIAL
        return WorkdayCalendar(_read_arrangements(self.workday_calendar_file))

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
