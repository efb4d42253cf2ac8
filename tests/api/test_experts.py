"""Experts (api.md): the province keeps the pool; to every other role the pool does not exist (404)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory
from tests.factories import create_org

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


async def create_expert(client: httpx.AsyncClient, province: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "王教授", "category": "technical", "fields": ["equipment_manufacturing"]}
    body.update(overrides)
    response = await client.post(EXPERTS, json=body, headers=province)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_province_adds_reads_lists_and_changes_an_expert(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    employer = await create_org(client, province, kind="university")
    conflict = await create_org(client, province)
    body = {
        "name": "李研究员",
        "category": "financial",
        "fields": ["biomedicine", "green_food"],
        "affiliation_org_id": employer["id"],
        "declared_conflict_org_ids": [conflict["id"]],
    }
    response = await client.post(EXPERTS, json=body, headers=province)
    assert response.status_code == 201, response.text
    expert = response.json()
    assert {key: expert[key] for key in body} == body
    assert expert["version"] == 1
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{EXPERTS}/{expert['id']}"

    read = await client.get(f"{EXPERTS}/{expert['id']}", headers=province)
    assert read.status_code == 200
    assert read.json() == expert
    assert read.headers["etag"] == '"1"'

    listed = await client.get(EXPERTS, headers=province)
    assert [item["id"] for item in listed.json()["items"]] == [expert["id"]]

    changed = await client.patch(
        f"{EXPERTS}/{expert['id']}",
        json={"category": "management", "affiliation_org_id": None, "declared_conflict_org_ids": []},
        headers={**province, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    after = changed.json()
    assert after["category"] == "management"
    assert after["affiliation_org_id"] is None
    assert after["declared_conflict_org_ids"] == []
    assert after["fields"] == body["fields"]
    assert after["version"] == 2


async def test_declared_conflicts_are_kept_once_each(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    org = await create_org(client, province)
    expert = await create_expert(client, province, declared_conflict_org_ids=[org["id"], org["id"]])
    assert expert["declared_conflict_org_ids"] == [org["id"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "technical"}, {"tech-bio"}),
        ({"category": "financial"}, {"fin"}),
        ({"field": "biomedicine"}, {"tech-bio", "fin"}),
        ({"field": "frontier"}, set()),
        ({}, {"tech-bio", "fin"}),
    ],
)
async def test_experts_filter_by_category_and_field(
    client: httpx.AsyncClient, province: dict[str, str], params: dict[str, str], expected: set[str]
) -> None:
    await create_expert(client, province, name="tech-bio", category="technical", fields=["biomedicine"])
    await create_expert(client, province, name="fin", category="financial", fields=["biomedicine", "green_food"])
    response = await client.get(EXPERTS, params=params, headers=province)
    assert response.status_code == 200, response.text
    assert {item["name"] for item in response.json()["items"]} == expected


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"affiliation_org_id": str(uuid.uuid4())}, ["body", "affiliation_org_id"]),
        ({"declared_conflict_org_ids": [str(uuid.uuid4())]}, ["body", "declared_conflict_org_ids", 0]),
        ({"category": "astrologer"}, ["body", "category"]),
        ({"fields": ["alchemy"]}, ["body", "fields", 0]),
        ({"name": ""}, ["body", "name"]),
    ],
)
async def test_a_bad_expert_answers_422_at_its_field(
    client: httpx.AsyncClient, province: dict[str, str], overrides: dict[str, Any], loc: list[str | int]
) -> None:
    body = {"name": "王教授", "category": "technical", **overrides}
    problem = assert_problem(await client.post(EXPERTS, json=body, headers=province), 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [loc]


async def test_a_patch_naming_an_unknown_affiliation_answers_422(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    expert = await create_expert(client, province)
    response = await client.patch(
        f"{EXPERTS}/{expert['id']}", json={"affiliation_org_id": str(uuid.uuid4())}, headers=province
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["body", "affiliation_org_id"]]


@pytest.mark.parametrize("field", ["name", "category", "fields", "declared_conflict_org_ids"])
async def test_a_required_expert_field_cannot_be_patched_to_null(
    client: httpx.AsyncClient, province: dict[str, str], field: str
) -> None:
    expert = await create_expert(client, province)
    response = await client.patch(f"{EXPERTS}/{expert['id']}", json={field: None}, headers=province)
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]


async def test_an_unknown_expert_answers_404(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    assert_problem(await client.get(f"{EXPERTS}/{uuid.uuid4()}", headers=province), 404, "not-found")
    response = await client.patch(f"{EXPERTS}/{uuid.uuid4()}", json={"name": "x"}, headers=province)
    assert_problem(response, 404, "not-found")


OTHER_ROLES = ["supervisor", "applicant", "third_party", "observer", "expert"]


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("route", ["create", "list", "get", "patch"])
async def test_every_other_role_gets_404_on_every_expert_route(
    client: httpx.AsyncClient, auth: TokenFactory, province: dict[str, str], role: str, route: str
) -> None:
    expert = await create_expert(client, province)
    if role == "expert":
        # Even an expert reading its own record: identities are the province's to see.
        headers = auth("expert", expert_id=expert["id"])
    elif role == "observer":
        headers = auth("observer")
    else:
        headers = auth(role, org_id=uuid.uuid4())
    one = f"{EXPERTS}/{expert['id']}"
    response = {
        "create": lambda: client.post(EXPERTS, json={"name": "x", "category": "technical"}, headers=headers),
        "list": lambda: client.get(EXPERTS, headers=headers),
        "get": lambda: client.get(one, headers=headers),
        "patch": lambda: client.patch(one, json={"name": "改"}, headers=headers),
    }[route]
    assert_problem(await response(), 404, "not-found")
    still = await client.get(EXPERTS, headers=province)
    assert [(item["id"], item["name"]) for item in still.json()["items"]] == [(expert["id"], expert["name"])]
