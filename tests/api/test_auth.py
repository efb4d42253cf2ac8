"""Bearer tokens (api.md "Auth"): every bad token is a 401 problem with `WWW-Authenticate: Bearer`."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from app.__main__ import main as cli
from app.api.auth import issue_token
from app.settings import Settings
from tests.conftest import SECRET, AppFactory

REFERENCE = "/api/v1/reference"
ORG = str(uuid.uuid4())
EXPERT = str(uuid.uuid4())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "someone", "role": "province", "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _hs256(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), secret, algorithm="HS256")


def _unsigned() -> str:
    # Crafted by hand: PyJWT will not produce an `alg: none` token with a province role for us.
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    return f"{header}.{payload}."


def assert_unauthenticated(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].split()[0] == "Bearer"
    body: dict[str, Any] = response.json()
    assert body["code"] == "unauthenticated"
    assert body["status"] == 401
    assert body["type"].endswith("/unauthenticated")
    return body


async def test_a_request_without_a_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    assert_unauthenticated(await client.get(REFERENCE))


@pytest.mark.parametrize(
    ("case", "authorization"),
    [
        ("garbage", "Bearer not-a-jwt"),
        ("three garbage segments", "Bearer aaa.bbb.ccc"),
        ("expired", f"Bearer {_hs256(exp=int(time.time()) - 60)}"),
        ("wrong signature", f"Bearer {_hs256(secret='another-secret-0123456789abcdef0123')}"),
        ("alg none", f"Bearer {_unsigned()}"),
        ("alg none without the trailing dot", f"Bearer {_unsigned().rstrip('.')}"),
        ("unknown role", f"Bearer {_hs256(role='admin')}"),
        ("no role", f"Bearer {_hs256(role=None)}"),
        ("no sub", f"Bearer {_hs256(sub=None)}"),
        ("no exp", f"Bearer {_hs256(exp=None)}"),
        ("org_id not a uuid", f"Bearer {_hs256(role='applicant', org_id='org-1')}"),
        ("applicant without org_id", f"Bearer {_hs256(role='applicant')}"),
        ("supervisor without org_id", f"Bearer {_hs256(role='supervisor')}"),
        ("third_party without org_id", f"Bearer {_hs256(role='third_party')}"),
        ("expert without expert_id", f"Bearer {_hs256(role='expert')}"),
        ("expert with only an org_id", f"Bearer {_hs256(role='expert', org_id=ORG)}"),
        ("basic scheme", "Basic dXNlcjpwYXNz"),
        ("token without a scheme", _hs256()),
        ("bearer without a token", "Bearer "),
    ],
)
async def test_a_bad_token_is_refused_with_401(client: httpx.AsyncClient, case: str, authorization: str) -> None:
    body = assert_unauthenticated(await client.get(REFERENCE, headers={"Authorization": authorization}))
    assert body["detail"]


async def test_an_expired_token_is_refused_with_401_saying_it_expired(client: httpx.AsyncClient) -> None:
    token = issue_token(SECRET, role="province", ttl_seconds=-60)
    body = assert_unauthenticated(await client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"}))
    assert "expired" in body["detail"]


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "province"},
        {"role": "observer"},
        {"role": "supervisor", "org_id": ORG},
        {"role": "applicant", "org_id": ORG},
        {"role": "third_party", "org_id": ORG},
        {"role": "expert", "expert_id": EXPERT},
    ],
    ids=lambda claims: claims["role"],
)
async def test_a_good_token_of_every_role_is_accepted(client: httpx.AsyncClient, claims: dict[str, str]) -> None:
    response = await client.get(REFERENCE, headers={"Authorization": f"Bearer {_hs256(**claims)}"})
    assert response.status_code == 200, response.text


async def test_the_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await client.get(REFERENCE, headers={"Authorization": f"bearer {_hs256()}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "argv",
    [
        ["--role", "province"],
        ["--role", "applicant", "--org-id", ORG],
        ["--role", "expert", "--expert-id", EXPERT],
    ],
)
async def test_a_token_printed_by_the_cli_is_accepted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.setenv("TIC_AUTH_SECRET", SECRET)
    assert cli(["token", *argv]) == 0
    token = capsys.readouterr().out.strip()
    response = await client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


async def test_operations_endpoints_need_no_token(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code == 200, path


# --- RS256 against a JWKS URL ------------------------------------------------------------------------------------

KID = "test-key-1"


class _JwksServer:
    def __init__(self, jwks: dict[str, Any]) -> None:
        payload = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    server = _JwksServer({"keys": [jwk]})
    server.thread.start()
    try:
        yield server.url
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
async def jwks_client(app_factory: AppFactory, settings: Settings, jwks_url: str) -> AsyncIterator[httpx.AsyncClient]:
    application = app_factory(settings.model_copy(update={"auth_jwks_url": jwks_url}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as c:
        yield c


def _rs256(key: rsa.RSAPrivateKey, *, kid: str | None = KID, **overrides: Any) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(_claims(**overrides), key, algorithm="RS256", headers=headers)


async def test_an_rs256_token_signed_by_the_jwks_key_is_accepted(
    jwks_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = _rs256(rsa_key, role="applicant", org_id=ORG)
    response = await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


async def test_an_rs256_token_signed_by_another_key_is_refused_with_401(jwks_client: httpx.AsyncClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = _rs256(stranger)
    assert_unauthenticated(await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"}))


async def test_an_rs256_token_with_an_unknown_kid_is_refused_with_401(
    jwks_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = _rs256(rsa_key, kid="no-such-key")
    assert_unauthenticated(await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"}))


@pytest.mark.parametrize(
    "headers",
    [None, {"kid": KID}],
    ids=["without kid", "with the jwks kid"],
)
async def test_an_hs256_token_is_refused_with_401_in_jwks_mode(
    jwks_client: httpx.AsyncClient, headers: dict[str, str] | None
) -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS256", headers=headers)
    assert_unauthenticated(await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"}))


async def test_an_expired_rs256_token_is_refused_with_401(
    jwks_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = _rs256(rsa_key, exp=int(time.time()) - 60)
    assert_unauthenticated(await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"}))


async def test_an_unsigned_token_is_refused_with_401_in_jwks_mode(jwks_client: httpx.AsyncClient) -> None:
    assert_unauthenticated(await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {_unsigned()}"}))


async def test_an_rs256_token_still_needs_the_claims_of_its_role(
    jwks_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = _rs256(rsa_key, role="supervisor")
    assert_unauthenticated(await jwks_client.get(REFERENCE, headers={"Authorization": f"Bearer {token}"}))
