"""Settings: one typed object from `TIC_*` variables; unsafe defaults are refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import DEV_SECRET, Settings

STRONG = "a-production-secret-that-is-long-enough-0123456789"
URL = "postgresql://tic:pw@db.internal:5432/tic"


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
        ({"database_url": URL}, "TIC_AUTH_SECRET"),
        ({"database_url": URL, "auth_secret": "short-secret"}, "TIC_AUTH_SECRET"),
        ({"auth_secret": STRONG}, "TIC_DATABASE_URL"),
        ({"auth_secret": STRONG, "database_url": ""}, "TIC_DATABASE_URL"),
    ],
)
def test_production_refuses_unsafe_defaults(overrides: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(environment="production", **overrides)


def test_production_with_a_strong_secret_and_a_database_is_fine() -> None:
    settings = Settings(environment="production", auth_secret=STRONG, database_url=URL)
    assert settings.auth_secret.get_secret_value() == STRONG


def test_production_verifying_against_a_jwks_needs_no_secret() -> None:
    settings = Settings(environment="production", auth_jwks_url="https://idp.example/jwks.json", database_url=URL)
    assert settings.auth_jwks_url == "https://idp.example/jwks.json"


def test_the_secret_is_not_shown_in_a_repr() -> None:
    settings = Settings(auth_secret=STRONG)
    assert STRONG not in repr(settings)
    assert STRONG not in str(settings.model_dump())


def test_settings_come_from_tic_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIC_ENVIRONMENT", "production")
    monkeypatch.setenv("TIC_AUTH_SECRET", STRONG)
    monkeypatch.setenv("TIC_DATABASE_URL", URL)
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


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="staging")  # type: ignore[arg-type]
