"""Cross-cutting mechanics (api.md): ETag / If-Match, Idempotency-Key and cursor pagination."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.factories import create_org, credit_code

ORGS = "/api/v1/organizations"
EXPERTS = "/api/v1/experts"


@pytest.fixture
def province(auth: TokenFactory) -> dict[str, str]:
    return auth("province")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/{code}")
    return body


# --- ETag / If-Match -----------------------------------------------------------------------------------------------


async def test_a_single_resource_answers_its_version_as_etag(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province)
    response = await client.get(f"{ORGS}/{org['id']}", headers=province)
    assert response.headers["etag"] == '"1"'


async def test_a_patch_with_the_current_etag_applies_and_answers_the_next_one(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province)
    url = f"{ORGS}/{org['id']}"
    etag = (await client.get(url, headers=province)).headers["etag"]
    response = await client.patch(url, json={"name": "第二版"}, headers={**province, "If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["version"] == 2
    after = await client.get(url, headers=province)
    assert after.headers["etag"] == '"2"'
    assert after.json()["name"] == "第二版"


async def test_a_patch_with_a_stale_etag_answers_412_and_changes_nothing(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province)
    url = f"{ORGS}/{org['id']}"
    assert (
        await client.patch(url, json={"name": "第二版"}, headers={**province, "If-Match": '"1"'})
    ).status_code == 200
    stale = await client.patch(url, json={"name": "迟到的修改"}, headers={**province, "If-Match": '"1"'})
    body = assert_problem(stale, 412, "version-mismatch")
    assert body["current_version"] == 2
    after = await client.get(url, headers=province)
    assert after.json()["name"] == "第二版"
    assert after.headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ["garbage", '"abc"', '"1.0"', '""', '"-1"', '"*"'])
async def test_a_patch_with_a_garbage_if_match_answers_412(
    client: httpx.AsyncClient, province: dict[str, str], if_match: str
) -> None:
    org = await create_org(client, province)
    response = await client.patch(f"{ORGS}/{org['id']}", json={"name": "x"}, headers={**province, "If-Match": if_match})
    assert_problem(response, 412, "version-mismatch")
    assert (await client.get(f"{ORGS}/{org['id']}", headers=province)).json()["name"] == org["name"]


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "1", ' "1" '])
async def test_the_etag_may_be_sent_weak_or_unquoted(
    client: httpx.AsyncClient, province: dict[str, str], if_match: str
) -> None:
    org = await create_org(client, province)
    response = await client.patch(f"{ORGS}/{org['id']}", json={"name": "x"}, headers={**province, "If-Match": if_match})
    assert response.status_code == 200, response.text


async def test_a_patch_without_if_match_applies(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    org = await create_org(client, province)
    url = f"{ORGS}/{org['id']}"
    for expected, name in ((2, "二"), (3, "三")):
        response = await client.patch(url, json={"name": name}, headers=province)
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{expected}"'


async def test_an_expert_patch_honours_if_match_too(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    created = await client.post(EXPERTS, json={"name": "王", "category": "technical"}, headers=province)
    url = f"{EXPERTS}/{created.json()['id']}"
    assert_problem(
        await client.patch(url, json={"name": "李"}, headers={**province, "If-Match": '"7"'}), 412, "version-mismatch"
    )
    response = await client.patch(url, json={"name": "李"}, headers={**province, "If-Match": created.headers["etag"]})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'


@pytest.mark.race
async def test_of_two_concurrent_patches_with_the_same_etag_exactly_one_wins(
    committed_client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(committed_client, province)
    url = f"{ORGS}/{org['id']}"
    responses = await asyncio.gather(
        *(
            committed_client.patch(url, json={"name": f"赛跑{n}"}, headers={**province, "If-Match": '"1"'})
            for n in range(4)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 412, 412, 412], [response.text for response in responses]
    winner = next(response for response in responses if response.status_code == 200)
    after = await committed_client.get(url, headers=province)
    assert after.json()["name"] == winner.json()["name"]
    assert after.headers["etag"] == '"2"'


# --- Idempotency-Key -----------------------------------------------------------------------------------------------


def org_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "幂等单位", "credit_code": credit_code(), "kind": "enterprise", **overrides}


async def count_orgs(client: httpx.AsyncClient, province: dict[str, str], name: str) -> int:
    response = await client.get(ORGS, params={"limit": 200}, headers=province)
    return sum(1 for item in response.json()["items"] if item["name"] == name)


async def test_the_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    headers = {**province, "Idempotency-Key": "create-org-1"}
    body = org_body(name="只建一次")
    first = await client.post(ORGS, json=body, headers=headers)
    second = await client.post(ORGS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["etag"] == first.headers["etag"]
    assert await count_orgs(client, province, "只建一次") == 1


async def test_the_same_key_with_another_body_answers_422(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    headers = {**province, "Idempotency-Key": "create-org-2"}
    assert (await client.post(ORGS, json=org_body(name="第一个"), headers=headers)).status_code == 201
    response = await client.post(ORGS, json=org_body(name="第二个"), headers=headers)
    assert_problem(response, 422, "idempotency-key-reused")
    assert await count_orgs(client, province, "第二个") == 0


async def test_the_same_key_on_another_path_answers_422(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    headers = {**province, "Idempotency-Key": "shared-key"}
    assert (await client.post(ORGS, json=org_body(), headers=headers)).status_code == 201
    response = await client.post(EXPERTS, json={"name": "王", "category": "technical"}, headers=headers)
    assert_problem(response, 422, "idempotency-key-reused")


async def test_different_principals_use_the_same_key_independently(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    body = {"name": "同名专家", "category": "technical"}
    first = await client.post(EXPERTS, json=body, headers=auth("province", sub="alice", **{"Idempotency-Key": "k"}))
    second = await client.post(EXPERTS, json=body, headers=auth("province", sub="bob", **{"Idempotency-Key": "k"}))
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in second.headers
    listed = await client.get(EXPERTS, headers=auth("province"))
    assert sum(1 for item in listed.json()["items"] if item["name"] == "同名专家") == 2


async def test_a_failed_create_does_not_use_up_its_key(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    taken = await create_org(client, province)
    headers = {**province, "Idempotency-Key": "retry-after-fix"}
    body = org_body(credit_code=taken["credit_code"])
    assert_problem(await client.post(ORGS, json=body, headers=headers), 409, "already-exists")
    # The failed request rolled back with its reservation, so the same key is free for the corrected body.
    fixed = await client.post(ORGS, json={**body, "credit_code": credit_code()}, headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers


@pytest.mark.race
async def test_concurrent_retries_with_one_key_create_one_record(
    committed_client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    headers = {**province, "Idempotency-Key": "concurrent-retry"}
    body = org_body(name="并发重试")
    responses = await asyncio.gather(*(committed_client.post(ORGS, json=body, headers=headers) for _ in range(4)))
    assert [response.status_code for response in responses] == [201] * 4, [response.text for response in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum("idempotent-replayed" in response.headers for response in responses) == 3
    assert await count_orgs(committed_client, province, "并发重试") == 1


async def test_creates_without_a_key_are_not_deduplicated(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    body = {"name": "重复专家", "category": "management"}
    ids = {(await client.post(EXPERTS, json=body, headers=province)).json()["id"] for _ in range(2)}
    assert len(ids) == 2


async def test_an_overlong_idempotency_key_answers_422(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    response = await client.post(ORGS, json=org_body(), headers={**province, "Idempotency-Key": "k" * 201})
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["header", "Idempotency-Key"]]


# --- pagination ----------------------------------------------------------------------------------------------------


async def walk(client: httpx.AsyncClient, headers: dict[str, str], limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(ORGS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10, "the cursor never ends"


async def test_walking_the_cursor_visits_every_item_once_in_a_stable_order(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    created = {(await create_org(client, province))["id"] for _ in range(7)}
    pages = await walk(client, province, limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    walked = [org_id for page in pages for org_id in page]
    assert len(walked) == len(set(walked)) == 7
    assert set(walked) == created
    assert await walk(client, province, limit=3) == pages
    everything = (await client.get(ORGS, params={"limit": 200}, headers=province)).json()
    assert [item["id"] for item in everything["items"]] == walked
    assert everything["next_cursor"] is None


async def test_a_page_that_ends_exactly_at_the_last_item_has_no_next_cursor(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    for _ in range(3):
        await create_org(client, province)
    pages = await walk(client, province, limit=3)
    assert [len(page) for page in pages] == [3]


async def test_a_cursor_survives_inserts_behind_it(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    for _ in range(4):
        await create_org(client, province)
    first = (await client.get(ORGS, params={"limit": 2}, headers=province)).json()
    rest_before = (
        await client.get(ORGS, params={"limit": 200, "cursor": first["next_cursor"]}, headers=province)
    ).json()
    newcomer = await create_org(client, province)
    rest_after = (
        await client.get(ORGS, params={"limit": 200, "cursor": first["next_cursor"]}, headers=province)
    ).json()
    seen_first = {item["id"] for item in first["items"]}
    assert not seen_first & {item["id"] for item in rest_after["items"]}
    ids_before = [item["id"] for item in rest_before["items"]]
    assert [item["id"] for item in rest_after["items"] if item["id"] != newcomer["id"]] == ids_before


async def test_the_default_page_size_is_50(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    response = await client.get(ORGS, headers=province)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
async def test_a_limit_outside_1_to_200_answers_422(
    client: httpx.AsyncClient, province: dict[str, str], limit: str
) -> None:
    response = await client.get(ORGS, params={"limit": limit}, headers=province)
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["query", "limit"]]


@pytest.mark.parametrize("limit", [1, 200])
async def test_the_limits_1_and_200_are_accepted(
    client: httpx.AsyncClient, province: dict[str, str], limit: int
) -> None:
    assert (await client.get(ORGS, params={"limit": limit}, headers=province)).status_code == 200


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


GARBAGE_CURSORS = [
    pytest.param("garbage!", id="not base64"),
    pytest.param("游标", id="not ascii"),
    pytest.param(_b64("just a string"), id="a json string"),
    pytest.param(_b64(42), id="a json number"),
    pytest.param(_b64([1, 2]), id="numbers"),
    pytest.param(_b64([None, None]), id="nulls"),
    pytest.param(_b64(["2026-01-01T00:00:00+00:00"]), id="one part"),
    pytest.param(_b64(["2026-01-01T00:00:00+00:00", "not-a-uuid"]), id="bad uuid"),
    pytest.param(_b64(["yesterday", str(uuid.uuid4())]), id="bad timestamp"),
    pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not utf-8"),
]


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
async def test_a_garbage_cursor_answers_422_at_the_cursor(
    client: httpx.AsyncClient, province: dict[str, str], cursor: str
) -> None:
    response = await client.get(ORGS, params={"cursor": cursor}, headers=province)
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["query", "cursor"]]


async def test_a_handmade_cursor_without_a_time_zone_still_pages(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province)
    cursor = _b64(["2000-01-01T00:00:00", str(uuid.uuid4())])
    response = await client.get(ORGS, params={"cursor": cursor}, headers=province)
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [org["id"]]


async def test_expert_lists_paginate_the_same_way(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    for index in range(5):
        await client.post(EXPERTS, json={"name": f"专家{index}", "category": "technical"}, headers=province)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(EXPERTS, params=params, headers=province)).json()
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert len(seen) == len(set(seen)) == 5
