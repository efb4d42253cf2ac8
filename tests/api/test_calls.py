"""Calls for applications (申报通知, issue 3): the province drafts, publishes, closes; everyone reads published ones."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.helpers import locs, problem
from tests.conftest import TokenFactory

CALLS = "/api/v1/calls"


def call_body(**overrides: Any) -> dict[str, Any]:
    return {
        "year": 2026,
        "title": "2026年度河南省技术创新中心申报通知",
        "fields": ["equipment_manufacturing", "biomedicine"],
        "opens_on": "2026-03-01",
        "closes_on": "2026-04-30",
        **overrides,
    }


async def create(client: httpx.AsyncClient, auth: TokenFactory, **overrides: Any) -> dict[str, Any]:
    response = await client.post(CALLS, json=call_body(**overrides), headers=auth("province"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_province_drafts_publishes_and_closes_a_call(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    province = auth("province")
    response = await client.post(CALLS, json=call_body(), headers=province)
    assert response.status_code == 201, response.text
    call = response.json()
    assert response.headers["location"] == f"{CALLS}/{call['id']}"
    assert response.headers["etag"] == f'"{call["version"]}"'
    assert call["status"] == "draft"
    assert call["allowed_actions"] == ["publish"]
    assert call["rule_set"] == "henan-2021"
    assert call["fields"] == ["equipment_manufacturing", "biomedicine"]
    assert (call["year"], call["opens_on"], call["closes_on"]) == (2026, "2026-03-01", "2026-04-30")

    published = await client.post(f"{CALLS}/{call['id']}/publish", headers=province)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["allowed_actions"] == ["close"]

    closed = await client.post(f"{CALLS}/{call['id']}/close", json={"reason": "申报截止"}, headers=province)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["allowed_actions"] == []

    fetched = await client.get(f"{CALLS}/{call['id']}", headers=province)
    assert fetched.json()["status"] == "closed"


async def test_a_call_without_fields_opens_every_layout_field(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    body = call_body()
    del body["fields"]
    response = await client.post(CALLS, json=body, headers=auth("province"))
    assert response.status_code == 201, response.text
    assert "frontier" in response.json()["fields"]
    assert len(response.json()["fields"]) == 9


@pytest.mark.parametrize("rule_set", ["henan-2021", "henan-2025"])
async def test_a_call_names_its_rule_set(client: httpx.AsyncClient, auth: TokenFactory, rule_set: str) -> None:
    assert (await create(client, auth, rule_set=rule_set))["rule_set"] == rule_set


async def test_a_one_day_window_is_accepted(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    call = await create(client, auth, opens_on="2026-03-01", closes_on="2026-03-01")
    assert call["opens_on"] == call["closes_on"] == "2026-03-01"


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"opens_on": "2026-04-30", "closes_on": "2026-04-29"}, ["body", "closes_on"]),
        ({"rule_set": "henan-2099"}, ["body", "rule_set"]),
        ({"year": 1999}, ["body", "year"]),
        ({"title": ""}, ["body", "title"]),
        ({"fields": ["space_travel"]}, ["body", "fields", 0]),
        ({"opens_on": "2026-02-30"}, ["body", "opens_on"]),
        ({"status": "published"}, ["body", "status"]),
    ],
    ids=["inverted-window", "unknown-rule-set", "year", "empty-title", "unknown-field", "bad-date", "extra-field"],
)
async def test_a_bad_call_is_refused_with_422_naming_the_field(
    client: httpx.AsyncClient, auth: TokenFactory, overrides: dict[str, Any], loc: list[str | int]
) -> None:
    response = await client.post(CALLS, json=call_body(**overrides), headers=auth("province"))
    body = problem(response, 422, "validation-failed")
    assert loc in locs(body)


@pytest.mark.parametrize("role", ["supervisor", "applicant", "expert", "third_party", "observer"])
async def test_only_the_province_creates_calls(client: httpx.AsyncClient, auth: TokenFactory, role: str) -> None:
    headers = auth(role, org_id=uuid.uuid4()) if role != "expert" else auth(role, expert_id=uuid.uuid4())
    problem(await client.post(CALLS, json=call_body(), headers=headers), 404, "not-found")


@pytest.mark.parametrize("role", ["supervisor", "applicant", "expert", "third_party"])
async def test_others_see_published_and_closed_calls_but_not_drafts(
    client: httpx.AsyncClient, auth: TokenFactory, role: str
) -> None:
    province = auth("province")
    drafted = await create(client, auth, title="草稿通知")
    published = await create(client, auth, title="已发布通知")
    closed = await create(client, auth, title="已关闭通知")
    for call in (published, closed):
        assert (await client.post(f"{CALLS}/{call['id']}/publish", headers=province)).status_code == 200
    assert (await client.post(f"{CALLS}/{closed['id']}/close", headers=province)).status_code == 200
    headers = auth(role, org_id=uuid.uuid4()) if role != "expert" else auth(role, expert_id=uuid.uuid4())

    listed = await client.get(CALLS, headers=headers)
    assert listed.status_code == 200, listed.text
    ids = {c["id"] for c in listed.json()["items"]}
    assert ids == {published["id"], closed["id"]}
    problem(await client.get(f"{CALLS}/{drafted['id']}", headers=headers), 404, "not-found")
    shown = await client.get(f"{CALLS}/{published['id']}", headers=headers)
    assert shown.status_code == 200
    assert shown.json()["allowed_actions"] == []
    # Acting on a draft one cannot see is a 404 too, not a hint that it exists.
    problem(await client.post(f"{CALLS}/{drafted['id']}/publish", headers=headers), 404, "not-found")


@pytest.mark.parametrize("role", ["province", "observer"])
async def test_the_province_and_observers_see_drafts(client: httpx.AsyncClient, auth: TokenFactory, role: str) -> None:
    drafted = await create(client, auth)
    listed = await client.get(CALLS, params={"status": "draft"}, headers=auth(role))
    assert [c["id"] for c in listed.json()["items"]] == [drafted["id"]]
    shown = await client.get(f"{CALLS}/{drafted['id']}", headers=auth(role))
    assert shown.status_code == 200
    assert shown.json()["allowed_actions"] == (["publish"] if role == "province" else [])


async def test_an_observer_cannot_publish(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    drafted = await create(client, auth)
    problem(await client.post(f"{CALLS}/{drafted['id']}/publish", headers=auth("observer")), 404, "not-found")


@pytest.mark.parametrize(
    ("setup", "action", "allowed"),
    [
        (["publish"], "publish", ["close"]),
        ([], "close", ["publish"]),
        (["publish", "close"], "publish", []),
        (["publish", "close"], "close", []),
    ],
    ids=["double-publish", "close-a-draft", "publish-closed", "double-close"],
)
async def test_an_action_not_allowed_now_is_409_with_allowed_actions(
    client: httpx.AsyncClient, auth: TokenFactory, setup: list[str], action: str, allowed: list[str]
) -> None:
    province = auth("province")
    call = await create(client, auth)
    for step in setup:
        assert (await client.post(f"{CALLS}/{call['id']}/{step}", headers=province)).status_code == 200
    body = problem(await client.post(f"{CALLS}/{call['id']}/{action}", headers=province), 409, "invalid-transition")
    assert body["allowed_actions"] == allowed
    assert body["action"] == action


async def test_an_unknown_call_is_404(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    problem(await client.get(f"{CALLS}/{uuid.uuid4()}", headers=auth("province")), 404, "not-found")
    problem(await client.post(f"{CALLS}/{uuid.uuid4()}/publish", headers=auth("province")), 404, "not-found")


async def test_publish_honours_if_match(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    province = auth("province")
    created = await client.post(CALLS, json=call_body(), headers=province)
    stale = '"999"'
    response = await client.post(f"{CALLS}/{created.json()['id']}/publish", headers={**province, "If-Match": stale})
    problem(response, 412, "version-mismatch")
    response = await client.post(
        f"{CALLS}/{created.json()['id']}/publish", headers={**province, "If-Match": created.headers["etag"]}
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] != created.headers["etag"]


async def test_calls_list_filters_by_year_and_pages_by_cursor(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    province = auth("province")
    made = [await create(client, auth, year=2026, title=f"通知{i}") for i in range(3)]
    other = await create(client, auth, year=2025)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "year": 2026}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(CALLS, params=params, headers=province)).json()
        assert len(page["items"]) <= 2
        seen.extend(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c["id"] for c in made)
    assert other["id"] not in seen
