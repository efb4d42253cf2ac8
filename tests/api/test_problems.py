"""RFC 9457 problems (api.md "Errors"): every failure answers `application/problem+json` with a stable `code`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.api.problems import CATALOGUE
from tests.conftest import AppFactory, TokenFactory
from tests.factories import credit_code

ORGS = "/api/v1/organizations"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://tic.kjt.henan.gov.cn/problems/{code}"
    assert body["title"]
    assert body["detail"]
    return body


def locs(body: dict[str, Any]) -> list[list[str | int]]:
    return [error["loc"] for error in body["errors"]]


def org_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "测试单位", "credit_code": credit_code(), "kind": "enterprise"}
    body.update(overrides)
    return body


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/nothing", "/api/v2/organizations"])
async def test_an_unknown_route_answers_a_404_problem(client: httpx.AsyncClient, path: str) -> None:
    body = assert_problem(await client.get(path), 404, "not-found")
    assert body["instance"] == path


async def test_a_wrong_method_answers_a_405_problem_with_allow(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.delete(f"{ORGS}/{uuid.uuid4()}", headers=auth("province"))
    assert_problem(response, 405, "method-not-allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}


async def test_a_malformed_json_body_answers_422_with_errors(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(
        ORGS, content=b'{"name": "x", ', headers=auth("province", **{"Content-Type": "application/json"})
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"]
    assert body["errors"][0]["loc"][0] == "body"
    assert body["errors"][0]["type"] == "json_invalid"


async def test_a_json_body_that_is_not_an_object_answers_422(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(ORGS, json=["not", "an", "object"], headers=auth("province"))
    body = assert_problem(response, 422, "validation-failed")
    assert locs(body) == [["body"]]


@pytest.mark.parametrize("path", [f"{ORGS}/not-a-uuid", "/api/v1/experts/123"])
async def test_a_path_id_that_is_not_a_uuid_answers_422_at_its_path_loc(
    client: httpx.AsyncClient, auth: TokenFactory, path: str
) -> None:
    body = assert_problem(await client.get(path, headers=auth("province")), 422, "validation-failed")
    assert len(body["errors"]) == 1
    assert body["errors"][0]["loc"][0] == "path"
    assert body["errors"][0]["loc"][1] in {"org_id", "expert_id"}
    assert body["errors"][0]["type"] == "uuid_parsing"


async def test_every_bad_field_is_listed_with_its_loc(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(
        ORGS, json=org_body(name="", kind="spaceship", registered_on="yesterday"), headers=auth("province")
    )
    body = assert_problem(response, 422, "validation-failed")
    assert sorted(map(tuple, locs(body))) == [("body", "kind"), ("body", "name"), ("body", "registered_on")]
    assert all(error["msg"] and error["type"] for error in body["errors"])


async def test_bad_items_in_a_list_are_located_by_index(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(
        ORGS, json=org_body(zones=["zhengluoxin", "atlantis", "nowhere"]), headers=auth("province")
    )
    body = assert_problem(response, 422, "validation-failed")
    assert locs(body) == [["body", "zones", 1], ["body", "zones", 2]]


async def test_a_missing_required_field_is_listed(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(ORGS, json={"name": "x", "kind": "enterprise"}, headers=auth("province"))
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [{"loc": ["body", "credit_code"], "msg": "Field required", "type": "missing"}]


async def test_an_unknown_field_answers_422(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(ORGS, json=org_body(colour="red"), headers=auth("province"))
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [
        {"loc": ["body", "colour"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
    ]


async def test_an_unknown_field_in_a_patch_answers_422(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.patch(f"{ORGS}/{uuid.uuid4()}", json={"nmae": "typo"}, headers=auth("province"))
    body = assert_problem(response, 422, "validation-failed")
    assert locs(body) == [["body", "nmae"]]


async def test_a_bad_query_parameter_answers_422_at_its_query_loc(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    response = await client.get(ORGS, params={"kind": "spaceship"}, headers=auth("province"))
    body = assert_problem(response, 422, "validation-failed")
    assert locs(body) == [["query", "kind"]]


# --- body size limit ---------------------------------------------------------------------------------------------

LIMIT = 1024 * 1024


def _big_json(size: int) -> bytes:
    content = b'{"name": "' + b"x" * (size - 12) + b'"}'
    assert len(content) == size
    return content


async def test_a_body_over_one_mib_answers_413_from_its_content_length(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    content = _big_json(LIMIT + 1)
    response = await client.post(
        ORGS, content=content, headers=auth("province", **{"Content-Type": "application/json"})
    )
    body = assert_problem(response, 413, "payload-too-large")
    assert body["limit_bytes"] == LIMIT
    assert response.headers["x-request-id"] == body["request_id"]


async def test_a_chunked_body_over_one_mib_answers_413_without_a_content_length(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    chunk = b" " * (256 * 1024)

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(5):  # 1.25 MiB in all
            yield chunk
        yield b'"}'

    request = client.build_request(
        "POST", ORGS, content=stream(), headers=auth("province", **{"Content-Type": "application/json"})
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await client.send(request)
    assert_problem(response, 413, "payload-too-large")


async def test_a_body_just_under_the_limit_is_read(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    content = _big_json(LIMIT - 100)
    response = await client.post(
        ORGS, content=content, headers=auth("province", **{"Content-Type": "application/json"})
    )
    # Read and validated (the name is too long), not refused for its size.
    body = assert_problem(response, 422, "validation-failed")
    assert ["body", "name"] in locs(body)


# --- unexpected errors -------------------------------------------------------------------------------------------


async def test_an_unexpected_exception_answers_a_500_problem_without_its_text(app_factory: AppFactory) -> None:
    application = app_factory()

    @application.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        response = await c.get("/boom", headers={"X-Request-ID": "req-500-test"})

    body = assert_problem(response, 500, "internal-error")
    assert body["request_id"] == "req-500-test"
    assert response.headers["x-request-id"] == "req-500-test"
    assert "secret detail" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


# --- languages ---------------------------------------------------------------------------------------------------

ZH = CATALOGUE["not-found"].title_zh
EN = CATALOGUE["not-found"].title_en


@pytest.mark.parametrize(
    ("accept_language", "title"),
    [
        ("zh-CN", ZH),
        ("zh", ZH),
        ("zh-Hans-CN", ZH),
        ("en-US", EN),
        (None, EN),
        ("en;q=0.5, zh;q=0.9", ZH),
        ("zh;q=0.5, en;q=0.9", EN),
        ("fr, zh-CN;q=0.8", ZH),
        ("*", EN),
        ("zh;q=0, en", EN),
    ],
)
async def test_the_problem_title_follows_accept_language(
    client: httpx.AsyncClient, auth: TokenFactory, accept_language: str | None, title: str
) -> None:
    headers = auth("province")
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    response = await client.get(f"{ORGS}/{uuid.uuid4()}", headers=headers)
    body = assert_problem(response, 404, "not-found")
    assert body["title"] == title
    assert body["detail"] == (CATALOGUE["not-found"].detail_zh if title == ZH else CATALOGUE["not-found"].detail_en)


async def test_a_chinese_validation_problem_keeps_its_errors(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(ORGS, json=org_body(kind="x"), headers=auth("province", **{"Accept-Language": "zh"}))
    body = assert_problem(response, 422, "validation-failed")
    assert body["title"] == CATALOGUE["validation-failed"].title_zh
    assert locs(body) == [["body", "kind"]]
