"""Organizations (api.md): the province writes; every role reads what it may reach, and 404 hides the rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.domain.credit_code import validate_credit_code
from tests.conftest import TokenFactory
from tests.factories import create_org, credit_code

ORGS = "/api/v1/organizations"
REAL_CODES = ("91350100M000100Y43", "914403001922038216", "91110108551385082Q")


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


def _with_char(code: str, position: int, char: str) -> str:
    return code[: position - 1] + char + code[position:]


def _other_check_char(code: str) -> str:
    replacement = "1" if code[-1] != "1" else "2"
    return code[:-1] + replacement


# --- create, read, update ----------------------------------------------------------------------------------------


async def test_the_province_registers_an_organization_and_reads_it_back(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    body = {
        "name": "郑州智能装备研究院有限公司",
        "credit_code": "91350100M000100Y43",
        "kind": "enterprise",
        "region": "郑州市",
        "is_leading_enterprise": True,
        "zones": ["zhengluoxin"],
        "registered_on": "2015-03-01",
    }
    response = await client.post(ORGS, json=body, headers=province)
    assert response.status_code == 201, response.text
    created = response.json()
    assert {key: created[key] for key in body} == body
    assert created["supervisor_id"] is None
    assert created["version"] == 1
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{ORGS}/{created['id']}"

    read = await client.get(response.headers["location"], headers=province)
    assert read.status_code == 200
    assert read.json() == created


async def test_the_province_changes_an_organization(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    org = await create_org(client, province)
    response = await client.patch(
        f"{ORGS}/{org['id']}",
        json={"name": "新名称", "region": None, "zones": ["national_hitech_zone"]},
        headers=province,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "新名称"
    assert changed["region"] is None
    assert changed["zones"] == ["national_hitech_zone"]
    assert changed["credit_code"] == org["credit_code"]
    assert changed["version"] == 2


@pytest.mark.parametrize("field", ["name", "credit_code", "kind", "is_leading_enterprise", "zones"])
async def test_a_required_field_cannot_be_patched_to_null(
    client: httpx.AsyncClient, province: dict[str, str], field: str
) -> None:
    org = await create_org(client, province)
    response = await client.patch(f"{ORGS}/{org['id']}", json={field: None}, headers=province)
    body = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in body["errors"]] == [["body", field]]


async def test_patching_an_unknown_organization_answers_404(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    response = await client.patch(f"{ORGS}/{uuid.uuid4()}", json={"name": "x"}, headers=province)
    assert_problem(response, 404, "not-found")


# --- credit codes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_CODES)
async def test_a_real_credit_code_is_accepted(client: httpx.AsyncClient, province: dict[str, str], code: str) -> None:
    assert validate_credit_code(code) is None
    org = await create_org(client, province, credit_code=code)
    assert org["credit_code"] == code


async def test_a_lower_case_credit_code_is_stored_upper_case(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province, credit_code=" 91350100m000100y43 ")
    assert org["credit_code"] == "91350100M000100Y43"


BAD_CODES = [
    pytest.param(_other_check_char("91350100M000100Y43"), id="changed check character"),
    pytest.param("91350100M000100Y4", id="17 characters"),
    pytest.param("91350100M000100Y433", id="19 characters"),
    pytest.param(_with_char("91350100M000100Y43", 10, "1"), id="changed body character"),
    *(pytest.param(_with_char("91350100M000100Y43", 9, letter), id=f"letter {letter}") for letter in "IOSVZ"),
    pytest.param("9135010AM000100Y43", id="letter in the region code"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("code", BAD_CODES)
async def test_a_bad_credit_code_is_refused_at_its_field(
    client: httpx.AsyncClient, province: dict[str, str], code: str
) -> None:
    response = await client.post(ORGS, json={"name": "x", "kind": "enterprise", "credit_code": code}, headers=province)
    body = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in body["errors"]] == [["body", "credit_code"]]


async def test_a_bad_credit_code_is_refused_on_patch_too(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    org = await create_org(client, province)
    response = await client.patch(
        f"{ORGS}/{org['id']}", json={"credit_code": _other_check_char(org["credit_code"])}, headers=province
    )
    body = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in body["errors"]] == [["body", "credit_code"]]


@pytest.mark.parametrize("spelling", [str.upper, str.lower])
async def test_a_duplicate_credit_code_answers_409(
    client: httpx.AsyncClient, province: dict[str, str], spelling: Any
) -> None:
    code = credit_code()
    await create_org(client, province, credit_code=code)
    response = await client.post(
        ORGS, json={"name": "另一家", "kind": "enterprise", "credit_code": spelling(code)}, headers=province
    )
    body = assert_problem(response, 409, "already-exists")
    assert body["field"] == "credit_code"


async def test_patching_to_another_organizations_credit_code_answers_409(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    first = await create_org(client, province)
    second = await create_org(client, province)
    response = await client.patch(
        f"{ORGS}/{second['id']}", json={"credit_code": first["credit_code"]}, headers=province
    )
    assert_problem(response, 409, "already-exists")


async def test_patching_an_organization_to_its_own_credit_code_is_fine(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province)
    response = await client.patch(
        f"{ORGS}/{org['id']}", json={"credit_code": org["credit_code"].lower()}, headers=province
    )
    assert response.status_code == 200, response.text
    assert response.json()["credit_code"] == org["credit_code"]


# --- supervisors ---------------------------------------------------------------------------------------------------


async def test_an_organization_may_be_supervised_by_a_department(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    department = await create_org(client, province, kind="department")
    org = await create_org(client, province, supervisor_id=department["id"])
    assert org["supervisor_id"] == department["id"]


@pytest.mark.parametrize("kind", ["enterprise", "university", "agency", None])
async def test_a_supervisor_that_is_not_a_department_answers_422(
    client: httpx.AsyncClient, province: dict[str, str], kind: str | None
) -> None:
    supervisor_id = (await create_org(client, province, kind=kind))["id"] if kind else str(uuid.uuid4())
    body = {"name": "x", "kind": "enterprise", "credit_code": credit_code(), "supervisor_id": supervisor_id}
    problem = assert_problem(await client.post(ORGS, json=body, headers=province), 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["body", "supervisor_id"]]


async def test_an_organization_cannot_supervise_itself(client: httpx.AsyncClient, province: dict[str, str]) -> None:
    department = await create_org(client, province, kind="department")
    response = await client.patch(
        f"{ORGS}/{department['id']}", json={"supervisor_id": department["id"]}, headers=province
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["body", "supervisor_id"]]


async def test_a_patch_to_a_non_department_supervisor_answers_422(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    org = await create_org(client, province)
    other = await create_org(client, province)
    response = await client.patch(f"{ORGS}/{org['id']}", json={"supervisor_id": other["id"]}, headers=province)
    problem = assert_problem(response, 422, "validation-failed")
    assert [error["loc"] for error in problem["errors"]] == [["body", "supervisor_id"]]


async def test_a_department_that_supervises_cannot_become_another_kind(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    department = await create_org(client, province, kind="department")
    await create_org(client, province, supervisor_id=department["id"])
    response = await client.patch(f"{ORGS}/{department['id']}", json={"kind": "enterprise"}, headers=province)
    body = assert_problem(response, 409, "rule-violation")
    assert body["rule"] == "supervisor-must-be-department"
    assert body["supervised_count"] == 1
    assert (await client.get(f"{ORGS}/{department['id']}", headers=province)).json()["kind"] == "department"


async def test_a_department_that_supervises_nobody_may_become_another_kind(
    client: httpx.AsyncClient, province: dict[str, str]
) -> None:
    department = await create_org(client, province, kind="department")
    response = await client.patch(f"{ORGS}/{department['id']}", json={"kind": "agency"}, headers=province)
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "agency"


# --- who may write -------------------------------------------------------------------------------------------------

OTHER_ROLES = ["supervisor", "applicant", "third_party", "observer", "expert"]


def headers_for(auth: TokenFactory, role: str, org_id: str | None = None) -> dict[str, str]:
    if role == "expert":
        return auth("expert", expert_id=uuid.uuid4())
    if role in {"supervisor", "applicant", "third_party"}:
        return auth(role, org_id=org_id or uuid.uuid4())
    return auth(role)


@pytest.mark.parametrize("role", OTHER_ROLES)
async def test_only_the_province_may_register_an_organization(
    client: httpx.AsyncClient, auth: TokenFactory, province: dict[str, str], role: str
) -> None:
    body = {"name": "x", "kind": "enterprise", "credit_code": credit_code()}
    assert_problem(await client.post(ORGS, json=body, headers=headers_for(auth, role)), 404, "not-found")
    listed = await client.get(ORGS, params={"limit": 200}, headers=province)
    assert body["credit_code"] not in {item["credit_code"] for item in listed.json()["items"]}


@pytest.mark.parametrize("role", OTHER_ROLES)
async def test_only_the_province_may_change_an_organization_even_its_own(
    client: httpx.AsyncClient, auth: TokenFactory, province: dict[str, str], role: str
) -> None:
    org = await create_org(client, province)
    response = await client.patch(
        f"{ORGS}/{org['id']}", json={"name": "改名"}, headers=headers_for(auth, role, org["id"])
    )
    assert_problem(response, 404, "not-found")
    assert (await client.get(f"{ORGS}/{org['id']}", headers=province)).json()["name"] == org["name"]


# --- who may read ----------------------------------------------------------------------------------------------------


@dataclass
class World:
    """Department D supervises A and B; department E supervises F; C (an agency) has no supervisor."""

    ids: dict[str, str]


@pytest.fixture
async def world(client: httpx.AsyncClient, province: dict[str, str]) -> World:
    d = await create_org(client, province, kind="department", name="省工信厅")
    e = await create_org(client, province, kind="department", name="省农业农村厅")
    a = await create_org(client, province, supervisor_id=d["id"], name="A")
    b = await create_org(client, province, supervisor_id=d["id"], kind="university", name="B")
    c = await create_org(client, province, kind="agency", name="C")
    f = await create_org(client, province, supervisor_id=e["id"], name="F")
    return World({"D": d["id"], "E": e["id"], "A": a["id"], "B": b["id"], "C": c["id"], "F": f["id"]})


EVERYONE = set("DEABCF")

REACH = [
    pytest.param("province", None, EVERYONE, id="province sees all"),
    pytest.param("observer", None, EVERYONE, id="observer sees all"),
    pytest.param("supervisor", "D", {"D", "A", "B"}, id="supervisor sees itself and whom it supervises"),
    pytest.param("supervisor", "E", {"E", "F"}, id="another supervisor sees its own"),
    pytest.param("applicant", "A", {"A", "D"}, id="applicant sees itself and its supervisor"),
    pytest.param("applicant", "C", {"C"}, id="an unsupervised applicant sees itself"),
    pytest.param("third_party", "C", {"C"}, id="third party sees itself"),
    pytest.param("expert", None, set(), id="expert sees none"),
]


def _caller(auth: TokenFactory, world: World, role: str, org: str | None) -> dict[str, str]:
    if role == "expert":
        return auth("expert", expert_id=uuid.uuid4())
    return auth(role, org_id=world.ids[org]) if org else auth(role)


@pytest.mark.parametrize(("role", "org", "visible"), REACH)
async def test_each_role_reads_one_organization_only_within_its_reach(
    client: httpx.AsyncClient, auth: TokenFactory, world: World, role: str, org: str | None, visible: set[str]
) -> None:
    headers = _caller(auth, world, role, org)
    for name, org_id in world.ids.items():
        response = await client.get(f"{ORGS}/{org_id}", headers=headers)
        if name in visible:
            assert response.status_code == 200, (name, response.text)
            assert response.json()["id"] == org_id
        else:
            assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(("role", "org", "visible"), REACH)
async def test_each_role_lists_only_the_organizations_within_its_reach(
    client: httpx.AsyncClient, auth: TokenFactory, world: World, role: str, org: str | None, visible: set[str]
) -> None:
    response = await client.get(ORGS, params={"limit": 200}, headers=_caller(auth, world, role, org))
    assert response.status_code == 200, response.text
    names = {name for name, org_id in world.ids.items() if org_id in {item["id"] for item in response.json()["items"]}}
    assert names == visible
    if role not in {"province", "observer"}:
        assert len(response.json()["items"]) == len(visible)


async def test_a_token_naming_an_unknown_organization_sees_nothing(
    client: httpx.AsyncClient, auth: TokenFactory, world: World
) -> None:
    for role in ("supervisor", "applicant", "third_party"):
        response = await client.get(ORGS, headers=auth(role, org_id=uuid.uuid4()))
        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "department"}, {"D", "E"}),
        ({"kind": "agency"}, {"C"}),
        ({"supervisor_id": "D"}, {"A", "B"}),
        ({"kind": "university", "supervisor_id": "D"}, {"B"}),
        ({"region": "开封市"}, set()),
    ],
)
async def test_lists_filter_by_field(
    client: httpx.AsyncClient,
    province: dict[str, str],
    world: World,
    params: dict[str, str],
    expected: set[str],
) -> None:
    query = {name: world.ids.get(value, value) for name, value in params.items()}
    response = await client.get(ORGS, params={**query, "limit": 200}, headers=province)
    assert response.status_code == 200, response.text
    ids = {item["id"] for item in response.json()["items"]}
    assert {name for name, org_id in world.ids.items() if org_id in ids} == expected


async def test_a_supervisor_filter_does_not_widen_reach(
    client: httpx.AsyncClient, auth: TokenFactory, world: World
) -> None:
    response = await client.get(
        ORGS, params={"supervisor_id": world.ids["E"]}, headers=auth("supervisor", org_id=world.ids["D"])
    )
    assert response.json()["items"] == []
