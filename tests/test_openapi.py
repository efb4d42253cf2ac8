"""The committed contract (`openapi/openapi.json`) is what the code serves, and it documents its errors."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.access import ACCESS, describe
from app.api.openapi import DOCS_ASSETS
from app.main import create_app
from app.settings import Settings

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
VERBS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings(environment="test")).openapi()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, verb, operation)
        for path, item in spec["paths"].items()
        for verb, operation in item.items()
        if verb in VERBS
    ]


def test_the_committed_openapi_document_is_current(spec: dict[str, Any]) -> None:
    committed = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    # Round-trip the generated one through JSON so tuples and lists compare alike.
    assert committed == json.loads(json.dumps(spec)), "openapi/openapi.json is stale: run `python -m app openapi`"


def test_every_operation_has_a_unique_operation_id(spec: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    assert all(ids), [
        f"{verb} {path}" for path, verb, operation in operations(spec) if not operation.get("operationId")
    ]
    assert len(ids) == len(set(ids))


def test_every_api_operation_documents_a_4xx_problem(spec: dict[str, Any]) -> None:
    # /healthz, /readyz and /metrics need no token and take no input, so they have no 4xx to document.
    missing = []
    for path, verb, operation in operations(spec):
        if not path.startswith("/api/") or _public_without_input(operation):
            continue
        problems = [
            status
            for status, response in operation.get("responses", {}).items()
            if status.startswith("4") and "application/problem+json" in response.get("content", {})
        ]
        if not problems:
            missing.append(f"{verb.upper()} {path}")
    assert missing == []


def _public(operation: dict[str, Any]) -> bool:
    """An operation that declares it needs no token (`security: []`), such as the log's checkpoint and key."""
    return operation.get("security") == []


def _public_without_input(operation: dict[str, Any]) -> bool:
    return _public(operation) and not operation.get("parameters") and "requestBody" not in operation


def test_every_api_operation_documents_401_and_422(spec: dict[str, Any]) -> None:
    """401 unless the operation is public; 422 unless it takes no input at all."""
    for path, verb, operation in operations(spec):
        if path.startswith("/api/"):
            expected = ({"422"} if not _public_without_input(operation) else set()) | (
                set() if _public(operation) else {"401"}
            )
            assert expected <= set(operation["responses"]), f"{verb.upper()} {path}"


def test_the_problem_schemas_are_published(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert {"type", "title", "status", "code"} <= set(schemas["ProblemDetail"]["required"])
    assert "errors" in schemas["ValidationProblem"]["properties"]


# --- what a front-end team needs from the document (issue 15) ---------------------------------------------------


def test_the_bearer_scheme_is_declared_and_each_operation_says_whether_it_needs_it(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for path, verb, operation in operations(spec):
        # Under /api/v1 every operation depends on the caller but the log's public ones (app/api/access.py); the
        # operations endpoints answer anyone.
        needs_token = path.startswith("/api/") and not ACCESS[(verb.upper(), path.removeprefix("/api/v1"))].public
        expected = [{"bearerAuth": []}] if needs_token else []
        assert operation["security"] == expected, f"{verb.upper()} {path}"


def test_every_api_operation_says_which_roles_may_call_it(spec: dict[str, Any]) -> None:
    for path, verb, operation in operations(spec):
        if not path.startswith("/api/"):
            continue
        access = ACCESS[(verb.upper(), path.removeprefix("/api/v1"))]
        assert operation["description"].endswith(describe(access)), f"{verb.upper()} {path}"
        if access.public:
            assert "no token is needed" in operation["description"]
            continue
        listed = operation["description"].split("**Roles / 可调用角色:** ", 1)[1].split(".", 1)[0]
        assert {role.strip("` ") for role in listed.split(",")} == set(access.roles), f"{verb.upper()} {path}"


def test_every_operation_documents_a_4xx(spec: dict[str, Any]) -> None:
    # The operations endpoints included: the middleware refuses a body over the limit (413) before any route runs.
    for path, verb, operation in operations(spec):
        assert any(status.startswith("4") for status in operation["responses"]), f"{verb.upper()} {path}"


def test_servers_contact_license_and_described_tags(spec: dict[str, Any]) -> None:
    assert spec["servers"][0]["url"] == "/"  # Swagger UI tries calls on the service that served it
    assert spec["info"]["contact"]["name"]
    assert spec["info"]["license"]["name"]
    used = {tag for _, _, operation in operations(spec) for tag in operation["tags"]}
    described = {tag["name"]: tag["description"] for tag in spec["tags"]}
    assert used == set(described)
    for name, description in described.items():
        assert re.search(r"[\u4e00-\u9fff]", description), f"tag {name!r} has no Chinese description"
        assert re.search(r"[A-Za-z]{3}", description), f"tag {name!r} has no English description"


async def test_the_public_operations_answer_without_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    for path in ("/api/v1/log/checkpoint", "/api/v1/log/key", "/api/v1/log/proof/consistency?from=1"):
        assert (await client.get(path)).status_code in (200, 422), path  # 422 only: the log may still be empty


async def test_the_operations_endpoints_answer_the_documented_413(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"Content-Length": str(10**9)})
    assert response.status_code == 413
    assert response.json()["code"] == "payload-too-large"


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
async def test_the_docs_pages_load_their_scripts_from_this_service(
    client: httpx.AsyncClient, page: str, script: str
) -> None:
    html = (await client.get(page)).text
    assert f'src="{DOCS_ASSETS}/{script}"' in html
    # Nothing from outside: the pages work on a machine without internet access.
    assert "cdn." not in html
    assert "fonts.googleapis" not in html
    asset = await client.get(f"{DOCS_ASSETS}/{script}")
    assert asset.status_code == 200
    assert "javascript" in asset.headers["content-type"]
    assert len(asset.content) > 100_000


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt"], ids=["no token", "bad token"])
async def test_every_operation_that_declares_the_bearer_scheme_enforces_it(
    spec: dict[str, Any], client: httpx.AsyncClient, authorization: str | None
) -> None:
    """What the contract's `security` promises: without a valid token, every protected operation answers 401 (the
    check schemathesis's `ignored_auth` would make, done here on the test's own client)."""
    headers = {"Authorization": authorization} if authorization else {}
    answered = {}
    for path, verb, operation in operations(spec):
        if not operation["security"]:
            continue
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        response = await client.request(verb.upper(), url, headers=headers, json={} if verb != "get" else None)
        answered[f"{verb.upper()} {path}"] = (response.status_code, response.json().get("code"))
    assert answered
    assert answered == dict.fromkeys(answered, (401, "unauthenticated"))
