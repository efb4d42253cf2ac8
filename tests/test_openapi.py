"""The committed contract (`openapi/openapi.json`) is what the code serves, and it documents its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
