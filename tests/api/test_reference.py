"""Reference data and the lifecycles as data (api.md: GET /api/v1/reference, /reference/state-machines)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TokenFactory

TABLES = (
    "roles",
    "fields",
    "zones",
    "organization_kinds",
    "formation_modes",
    "plan_sections",
    "expert_categories",
    "grades",
    "revocation_reasons",
    "project_levels",
    "review_criteria",
)


@pytest.fixture
async def reference(client: httpx.AsyncClient, auth: TokenFactory) -> dict[str, Any]:
    response = await client.get("/api/v1/reference", headers=auth("observer"))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def codes(reference: dict[str, Any], table: str) -> list[str]:
    return [item["code"] for item in reference[table]]


@pytest.mark.parametrize("table", TABLES)
async def test_every_reference_table_has_codes_with_chinese_and_english_labels(
    reference: dict[str, Any], table: str
) -> None:
    items = reference[table]
    assert items
    for item in items:
        assert set(item) == {"code", "label_zh", "label_en"}
        assert all(item.values())
        assert item["label_zh"] != item["label_en"]
    assert len(set(codes(reference, table))) == len(items)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "fields",
            {
                "equipment_manufacturing",
                "green_food",
                "bio_breeding",
                "modern_agriculture",
                "biomedicine",
                "smart_sensors",
                "next_gen_it",
                "resource_energy_efficiency",
                "frontier",
            },
        ),
        ("expert_categories", {"technical", "financial", "management"}),
        ("grades", {"excellent", "good", "qualified", "unqualified"}),
        ("zones", {"zhengluoxin", "national_hitech_zone"}),
        ("formation_modes", {"enterprise_led", "enterprise_alliance", "academic_led"}),
        ("roles", {"province", "supervisor", "applicant", "expert", "third_party", "observer"}),
    ],
)
async def test_a_reference_table_holds_exactly_its_codes(
    reference: dict[str, Any], table: str, expected: set[str]
) -> None:
    assert set(codes(reference, table)) == expected
    assert len(reference[table]) == len(expected)


async def test_the_seven_plan_sections_come_in_the_outline_order(reference: dict[str, Any]) -> None:
    assert codes(reference, "plan_sections") == [
        "background",
        "foundation",
        "goals_and_tasks",
        "organization",
        "governance",
        "funding",
        "schedule",
    ]
    assert reference["plan_sections"][0]["label_zh"] == "建设背景与意义"


async def test_there_are_nine_revocation_reasons(reference: dict[str, Any]) -> None:
    assert len(reference["revocation_reasons"]) == 9
    assert {"fraud", "failed_acceptance", "voluntary_exit"} <= set(codes(reference, "revocation_reasons"))


async def test_the_rule_sets_are_published_by_name(reference: dict[str, Any]) -> None:
    names = {rule_set["name"] for rule_set in reference["rule_sets"]}
    assert "henan-2021" in names


async def test_the_state_machines_include_the_application_lifecycle(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    response = await client.get("/api/v1/reference/state-machines", headers=auth("expert", expert_id=uuid.uuid4()))
    assert response.status_code == 200, response.text
    machines = {machine["name"]: machine for machine in response.json()}
    assert "application" in machines
    application = machines["application"]
    assert application["initial"] in application["states"]
    assert set(application["terminal"]) <= set(application["states"])
    actions = {transition["action"] for transition in application["transitions"]}
    assert {"submit", "withdraw", "recommend", "return", "reject", "approve"} <= actions
    for transition in application["transitions"]:
        assert set(transition) == {"action", "from", "to", "roles"}
        assert transition["from"] in application["states"]
        assert transition["to"]
        assert set(transition["to"]) <= set(application["states"])
        assert transition["roles"]
    assert {"action": "submit", "from": "draft", "to": ["submitted"], "roles": ["applicant"]} in application[
        "transitions"
    ]
    assert {
        "action": "recommend",
        "from": "submitted",
        "to": ["recommended"],
        "roles": ["province", "supervisor"],
    } in application["transitions"]


@pytest.mark.parametrize("path", ["/api/v1/reference", "/api/v1/reference/state-machines"])
async def test_reference_data_needs_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
