"""Settings: one typed object from `TIC_*` variables; unsafe defaults are refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.domain.checkpoints import Signer
from app.settings import DEV_SECRET, DEV_WEBHOOK_KEY, Settings

STRONG = "a-production-secret-that-is-long-enough-0123456789"
URL = "postgresql://tic:pw@db.internal:5432/tic"
KEY = Fernet.generate_key().decode()
OLD_KEY = Fernet.generate_key().decode()
LOG_KEY = str(Signer.generate())


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("TIC_"):
            monkeypatch.delenv(name)


def test_the_defaults_suit_development() -> None:
    settings = Settings()
    assert settings.environment == "development"
    assert settings.auth_secret.get_secret_value() == DEV_SECRET
    assert settings.database_url is None
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.tz.key == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"database_url": URL, "webhook_secret_keys": KEY}, "TIC_AUTH_SECRET"),
        ({"database_url": URL, "auth_secret": "short-secret", "webhook_secret_keys": KEY}, "TIC_AUTH_SECRET"),
        ({"auth_secret": STRONG, "webhook_secret_keys": KEY}, "TIC_DATABASE_URL"),
        ({"auth_secret": STRONG, "database_url": "", "webhook_secret_keys": KEY}, "TIC_DATABASE_URL"),
        ({"auth_secret": STRONG, "database_url": URL}, "TIC_WEBHOOK_SECRET_KEYS"),
        ({"auth_secret": STRONG, "database_url": URL, "webhook_secret_keys": ""}, "TIC_WEBHOOK_SECRET_KEYS"),
        (
            {"auth_secret": STRONG, "database_url": URL, "webhook_secret_keys": DEV_WEBHOOK_KEY},
            "TIC_WEBHOOK_SECRET_KEYS",
        ),
        (
            {"auth_secret": STRONG, "database_url": URL, "webhook_secret_keys": f"{KEY},{DEV_WEBHOOK_KEY}"},
            "TIC_WEBHOOK_SECRET_KEYS",
        ),
    ],
)
def test_production_refuses_unsafe_defaults(overrides: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(environment="production", **overrides)


def test_production_with_a_strong_secret_a_database_and_a_webhook_key_is_fine() -> None:
    settings = Settings(
        environment="production", auth_secret=STRONG, database_url=URL, webhook_secret_keys=KEY, log_signing_key=LOG_KEY
    )
    assert settings.auth_secret.get_secret_value() == STRONG
    assert settings.webhook_fernet_keys() == [KEY]


def test_production_verifying_against_a_jwks_needs_no_secret() -> None:
    settings = Settings(
        environment="production",
        auth_jwks_url="https://idp.example/jwks.json",
        database_url=URL,
        webhook_secret_keys=KEY,
        log_signing_key=LOG_KEY,
    )
    assert settings.auth_jwks_url == "https://idp.example/jwks.json"


def test_the_secret_is_not_shown_in_a_repr() -> None:
    settings = Settings(auth_secret=STRONG)
    assert STRONG not in repr(settings)
    assert STRONG not in str(settings.model_dump())


def test_settings_come_from_tic_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIC_ENVIRONMENT", "production")
    monkeypatch.setenv("TIC_AUTH_SECRET", STRONG)
    monkeypatch.setenv("TIC_DATABASE_URL", URL)
    monkeypatch.setenv("TIC_WEBHOOK_SECRET_KEYS", KEY)
    monkeypatch.setenv("TIC_LOG_SIGNING_KEY", LOG_KEY)
    monkeypatch.setenv("TIC_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("TIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIC_LOG_JSON", "false")
    monkeypatch.setenv("DATABASE_URL", "postgresql://wrong@elsewhere/db")  # no prefix: ignored
    settings = Settings()
    assert settings.environment == "production"
    assert settings.auth_secret.get_secret_value() == STRONG
    assert settings.database_url == URL
    assert settings.max_body_bytes == 2048
    assert settings.data_dir == tmp_path
    assert settings.log_json is False


def test_production_from_the_environment_refuses_the_dev_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIC_ENVIRONMENT", "production")
    monkeypatch.setenv("TIC_DATABASE_URL", URL)
    with pytest.raises(ValidationError, match="TIC_AUTH_SECRET"):
        Settings()


def test_production_needs_a_log_signing_key_of_the_right_form() -> None:
    base = {"auth_secret": STRONG, "database_url": URL, "webhook_secret_keys": KEY}
    with pytest.raises(ValidationError, match="TIC_LOG_SIGNING_KEY must be set in production"):
        Settings(environment="production", **base)
    with pytest.raises(ValidationError, match="Ed25519 signer key in note format") as refused:
        Settings(environment="production", log_signing_key=LOG_KEY[:-4] + "AAAA", **base)
    assert LOG_KEY[-20:] not in str(refused.value)  # the key itself is never echoed


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="staging")  # type: ignore[arg-type]


def test_development_derives_a_stable_webhook_key_when_none_is_set() -> None:
    assert Settings().webhook_fernet_keys() == [DEV_WEBHOOK_KEY] == Settings().webhook_fernet_keys()
    Fernet(DEV_WEBHOOK_KEY)  # a valid key


def test_webhook_keys_come_comma_separated_the_encrypting_one_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIC_WEBHOOK_SECRET_KEYS", f" {KEY} , {OLD_KEY}")
    settings = Settings()
    assert settings.webhook_fernet_keys() == [KEY, OLD_KEY]
    assert KEY not in repr(settings)


def test_a_webhook_key_that_is_not_a_fernet_key_is_refused_without_being_echoed() -> None:
    with pytest.raises(ValidationError, match="TIC_WEBHOOK_SECRET_KEYS") as refused:
        Settings(webhook_secret_keys=f"{KEY},not-a-key-but-a-secret")
    assert "not-a-key-but-a-secret" not in str(refused.value)
    assert KEY not in str(refused.value)


def test_the_webhook_allow_list_comes_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIC_WEBHOOK_ALLOWED_HOSTS", "hooks.internal, 10.20.0.0/16,127.0.0.1")
    policy = Settings().webhook_target_policy()
    assert policy.allowed_hosts == frozenset({"hooks.internal"})
    assert [str(n) for n in policy.allowed_networks] == ["10.20.0.0/16", "127.0.0.1/32"]


@pytest.mark.parametrize("value", ["*.internal", "10.0.0.1/8", "0.0.0.0/0"])
def test_an_allow_list_entry_that_is_no_host_or_network_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="webhook_allowed_hosts"):
        Settings(webhook_allowed_hosts=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("environment", "https_only"), [("development", False), ("test", False), ("production", True)])
def test_webhooks_need_https_only_in_production(environment: str, https_only: bool) -> None:
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        auth_secret=STRONG,
        database_url=URL,
        webhook_secret_keys=KEY,
        log_signing_key=LOG_KEY,
    )
    assert settings.webhook_target_policy().https_only is https_only


def test_the_document_prefix_is_豫科_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().document_prefix == "豫科"
    monkeypatch.setenv("TIC_DOCUMENT_PREFIX", "豫科技")
    assert Settings().document_prefix == "豫科技"


@pytest.mark.parametrize("prefix", ["", " 豫科", "豫〔科", "K" * 21])
def test_a_document_prefix_that_cannot_make_a_number_is_refused(prefix: str) -> None:
    with pytest.raises(ValidationError, match="document number prefix"):
        Settings(document_prefix=prefix)


def test_a_workday_calendar_file_adds_the_years_it_enters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from app.domain.workdays import OFFICIAL

    assert Settings().workday_calendar is OFFICIAL
    entered = tmp_path / "calendar.json"
    entered.write_text('{"2027": {"holidays": ["2027-01-01"], "make_up_workdays": ["2027-01-02"]}}', encoding="utf-8")
    monkeypatch.setenv("TIC_WORKDAY_CALENDAR_FILE", str(entered))
    calendar = Settings().workday_calendar
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 2))
    assert calendar.is_working_day(date(2026, 12, 31))  # still the package's


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (None, "No such file"),
        ("{not json", "Expecting property name"),
        ('{"2027": {"holidays": [], "make_up_workdays": ["2027-01-04"]}}', "2027-01-04 is a weekday"),
    ],
)
def test_a_missing_or_wrong_workday_calendar_file_stops_the_service_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, complaint: str
) -> None:
    path = tmp_path / "calendar.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("TIC_WORKDAY_CALENDAR_FILE", str(path))
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert f"TIC_WORKDAY_CALENDAR_FILE {path}" in str(refused.value)
    assert complaint in str(refused.value)
