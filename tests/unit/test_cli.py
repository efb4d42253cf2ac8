"""The command line (`python -m app ...`): the dev token printer and the OpenAPI writer."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jwt
import pytest

from app.__main__ import main
from app.main import create_app
from app.settings import Settings

SECRET = "cli-secret-0123456789abcdef0123456789"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIC_AUTH_SECRET", SECRET)


def decode(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, SECRET, algorithms=["HS256"])
    return claims


def test_token_prints_a_jwt_whose_claims_decode(capsys: pytest.CaptureFixture[str]) -> None:
    org_id = str(uuid.uuid4())
    assert main(["token", "--role", "applicant", "--org-id", org_id]) == 0
    out = capsys.readouterr().out.strip()
    claims = decode(out)
    assert claims["role"] == "applicant"
    assert claims["org_id"] == org_id
    assert claims["sub"]
    assert isinstance(claims["exp"], int)
    assert isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 3600


def test_token_takes_an_expert_id_a_subject_and_a_lifetime(capsys: pytest.CaptureFixture[str]) -> None:
    expert_id = str(uuid.uuid4())
    assert main(["token", "--role", "expert", "--expert-id", expert_id, "--sub", "wang", "--ttl", "60"]) == 0
    claims = decode(capsys.readouterr().out.strip())
    assert (claims["role"], claims["expert_id"], claims["sub"]) == ("expert", expert_id, "wang")
    assert claims["exp"] - claims["iat"] == 60  # type: ignore[operator]


def test_a_province_token_needs_no_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "province"]) == 0
    claims = decode(capsys.readouterr().out.strip())
    assert claims["role"] == "province"
    assert "org_id" not in claims
    assert "expert_id" not in claims


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "--role", "admin"],
        ["token"],
        ["token", "--role", "applicant"],
        ["token", "--role", "supervisor"],
        ["token", "--role", "third_party"],
        ["token", "--role", "expert"],
        ["token", "--role", "applicant", "--org-id", "not-a-uuid"],
        ["token", "--role", "expert", "--expert-id", "42"],
        ["frobnicate"],
    ],
)
def test_a_bad_token_request_exits_non_zero_without_a_token(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code not in (0, None)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err


def test_openapi_writes_the_document_the_app_serves(tmp_path: Path) -> None:
    output = tmp_path / "openapi.json"
    assert main(["openapi", "--output", str(output)]) == 0
    assert json.loads(output.read_text(encoding="utf-8")) == json.loads(
        json.dumps(create_app(Settings(environment="test")).openapi())
    )


def test_serve_runs_uvicorn_without_a_server_header(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setenv("TIC_DATABASE_URL", "postgresql://tic@127.0.0.1:5432/tic")
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    assert main(["serve", "--port", "8123"]) == 0
    assert calls[0]["server_header"] is False
    assert calls[0]["port"] == 8123


def test_the_image_serves_through_the_cli() -> None:
    """The Dockerfile's CMD is `python -m app serve`, so the image inherits serve's options (no server header)."""
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD "))[:4] == ["python", "-m", "app", "serve"]
