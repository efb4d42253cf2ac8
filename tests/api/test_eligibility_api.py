"""The eligibility engine through the API (domain.md §3): both rule sets, boundaries inclusive, explained per rule."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    FACTS,
    TEAMS,
    World,
    act,
    application_body,
    draft,
    locs,
    make_world,
    open_call,
    problem,
)
from tests.conftest import TokenFactory
from tests.factories import create_org

APPS = "/api/v1/applications"

RULES_2021 = [
    "major_project_experience",
    "provincial_platform",
    "ip_results",
    "patent_standing",
    "cooperation_mechanism",
    "rd_staff_ratio",
    "high_level_talents",
    "leading_enterprise",
    "rd_spend_3y_avg",
    "formation_mode_consistency",
    "field_in_layout",
    "one_center_one_plan",
    "no_recent_revocation",
]
RULES_2025 = [
    "major_project_experience",
    "provincial_platform",
    "ip_results",
    "patent_standing",
    "cooperation_mechanism",
    "rd_staff_count",
    "high_level_talents",
    "high_level_teams",
    "leading_enterprise",
    "rd_spend_3y_avg",
    "registered_in_henan",
    "formation_mode_consistency",
    "participants_cap",
    "leading_enterprise_participant",
    "field_in_layout",
    "one_center_one_plan",
    "no_recent_revocation",
]

FACTS_2025: dict[str, Any] = {**FACTS, "high_level_teams": TEAMS}
# An academic lead applies in the frontier field only (notice 二（四）3), with its platform there.
FRONTIER_PLATFORMS = [{"name": "河南省重点实验室", "level": "provincial", "field": "frontier"}]


async def world_for(client: httpx.AsyncClient, auth: TokenFactory, rule_set: str) -> World:
    return await make_world(client, auth, rule_set=rule_set)


def facts_for(rule_set: str, **overrides: Any) -> dict[str, Any]:
    return {**(FACTS_2025 if rule_set == "henan-2025" else FACTS), **overrides}


async def explain(client: httpx.AsyncClient, application_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"{APPS}/{application_id}/eligibility", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def check(verdict: dict[str, Any], rule: str) -> dict[str, Any]:
    """A rule's check as the refusal of a submission carries it: the explanation adds the rule's evidence."""
    found = next(c for c in verdict["checks"] if c["rule"] == rule)
    return {key: value for key, value in found.items() if key != "evidence"}


def failing(verdict: dict[str, Any]) -> list[str]:
    return [c["rule"] for c in verdict["checks"] if c["outcome"] == "fail"]


@pytest.mark.parametrize(("rule_set", "rules"), [("henan-2021", RULES_2021), ("henan-2025", RULES_2025)])
async def test_each_rule_set_judges_by_its_own_rules_in_order(
    client: httpx.AsyncClient, auth: TokenFactory, rule_set: str, rules: list[str]
) -> None:
    world = await world_for(client, auth, rule_set)
    application = await draft(client, world, facts=facts_for(rule_set))
    verdict = await explain(client, application["id"], world.applicant)
    assert verdict["rule_set"] == rule_set
    assert [c["rule"] for c in verdict["checks"]] == rules
    assert verdict["eligible"] is True, failing(verdict)


BOUNDARIES = [
    # (rule set, facts overrides, rule, outcome, actual)
    ("henan-2021", {"staff_total": 1000, "rd_staff": 100}, "rd_staff_ratio", "pass", "10.00%"),
    ("henan-2021", {"staff_total": 1000, "rd_staff": 99}, "rd_staff_ratio", "fail", "9.90%"),
    ("henan-2021", {"staff_total": 0, "rd_staff": 0}, "rd_staff_ratio", "fail", "no staff declared"),
    ("henan-2021", {"rd_spend_wan": ["4000.00", "4000.00", "4000.00"]}, "rd_spend_3y_avg", "pass", "4000.00"),
    ("henan-2021", {"rd_spend_wan": ["3999.99", "3999.99", "3999.99"]}, "rd_spend_3y_avg", "fail", "3999.99"),
    ("henan-2021", {"rd_spend_wan": ["3000", "4000", "5000"]}, "rd_spend_3y_avg", "pass", "4000.00"),
    ("henan-2021", {"rd_spend_wan": ["3999.99", "4000.00", "4000.00"]}, "rd_spend_3y_avg", "fail", "3999.99"),
    ("henan-2021", {"rd_spend_wan": ["4000.00", "4000.00"]}, "rd_spend_3y_avg", "fail", "2 years declared"),
    ("henan-2025", {"rd_spend_wan": ["4000.00", "4000.00", "4000.00"]}, "rd_spend_3y_avg", "pass", "4000.00"),
    ("henan-2025", {"rd_spend_wan": ["3999.99", "3999.99", "3999.99"]}, "rd_spend_3y_avg", "fail", "3999.99"),
    ("henan-2025", {"rd_staff": 50}, "rd_staff_count", "pass", "50"),
    ("henan-2025", {"rd_staff": 49}, "rd_staff_count", "fail", "49"),
    ("henan-2025", {"high_level_teams": TEAMS[:2]}, "high_level_teams", "fail", "2"),
    ("henan-2021", {"high_level_talents": FACTS["high_level_talents"][:2]}, "high_level_talents", "fail", "2"),
    ("henan-2021", {"major_projects": []}, "major_project_experience", "fail", "0"),
    ("henan-2021", {"invention_patents": 0, "pct_patents": 1}, "patent_standing", "manual", "invention 0, PCT 1"),
    ("henan-2021", {"invention_patents": 0, "pct_patents": 0}, "patent_standing", "fail", "invention 0, PCT 0"),
]


@pytest.mark.parametrize(
    ("rule_set", "overrides", "rule", "outcome", "actual"),
    BOUNDARIES,
    ids=[f"{b[0]}-{b[2]}-{b[3]}-{b[4]}" for b in BOUNDARIES],
)
async def test_a_boundary_is_explained_and_decides_submission(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    rule_set: str,
    overrides: dict[str, Any],
    rule: str,
    outcome: str,
    actual: str,
) -> None:
    world = await world_for(client, auth, rule_set)
    application = await draft(client, world, facts=facts_for(rule_set, **overrides))
    verdict = await explain(client, application["id"], world.applicant)
    found = check(verdict, rule)
    assert (found["outcome"], found["actual"]) == (outcome, actual), found
    assert found["message_zh"]
    assert found["message_en"]

    response = await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant)
    if outcome == "fail":
        body = problem(response, 409, "ineligible")
        assert [c["rule"] for c in body["checks"]] == [rule]
        assert body["checks"][0] == found
    else:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "submitted"


@pytest.mark.parametrize("rule_set", ["henan-2021", "henan-2025"])
async def test_a_university_lead_is_not_held_to_the_enterprise_spend_rule(
    client: httpx.AsyncClient, auth: TokenFactory, rule_set: str
) -> None:
    world = await world_for(client, auth, rule_set)
    university = await create_org(client, world.province, kind="university", supervisor_id=world.department["id"])
    applicant = auth("applicant", org_id=university["id"])
    # henan-2025 asks a non-enterprise lead for a leading enterprise among its participants; the world's lead is one.
    application = await draft(
        client,
        world,
        applicant,
        field="frontier",
        formation_mode="academic_led",
        participants=[{"org_id": world.lead["id"], "role": "参建单位"}],
        facts=facts_for(rule_set, rd_spend_wan=[], platforms=FRONTIER_PLATFORMS),
    )
    verdict = await explain(client, application["id"], applicant)
    spend = check(verdict, "rd_spend_3y_avg")
    assert (spend["outcome"], spend["actual"]) == ("pass", "not applicable")
    assert check(verdict, "leading_enterprise")["actual"] == "not applicable"
    assert verdict["eligible"] is True, failing(verdict)
    assert (await act(client, application["id"], "submit", applicant))["status"] == "submitted"


async def test_an_academic_lead_without_an_enterprise_participant_fails_its_mode(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await world_for(client, auth, "henan-2021")
    university = await create_org(client, world.province, kind="university", supervisor_id=world.department["id"])
    institute = await create_org(client, world.province, kind="research_institute")
    applicant = auth("applicant", org_id=university["id"])
    application = await draft(
        client,
        world,
        applicant,
        field="frontier",
        formation_mode="academic_led",
        participants=[{"org_id": institute["id"]}],
        facts=facts_for("henan-2021", rd_spend_wan=[], platforms=FRONTIER_PLATFORMS),
    )
    assert failing(await explain(client, application["id"], applicant)) == ["formation_mode_consistency"]


@pytest.mark.parametrize("rule_set", ["henan-2021", "henan-2025"])
async def test_an_academic_lead_outside_the_frontier_field_fails_its_mode_and_cannot_submit(
    client: httpx.AsyncClient, auth: TokenFactory, rule_set: str
) -> None:
    world = await world_for(client, auth, rule_set)
    university = await create_org(client, world.province, kind="university", supervisor_id=world.department["id"])
    applicant = auth("applicant", org_id=university["id"])
    application = await draft(
        client,
        world,
        applicant,
        formation_mode="academic_led",
        participants=[{"org_id": world.lead["id"], "role": "参建单位"}],
        facts=facts_for(rule_set, rd_spend_wan=[]),
    )
    verdict = await explain(client, application["id"], applicant)
    assert failing(verdict) == ["formation_mode_consistency"]
    mode = check(verdict, "formation_mode_consistency")
    assert mode["actual"].endswith("; field equipment_manufacturing")
    assert "申报领域“装备制造”不属于该领域" in mode["message_zh"]
    assert "the applied field is 'equipment_manufacturing'" in mode["message_en"]
    body = problem(await client.post(f"{APPS}/{application['id']}/submit", headers=applicant), 409, "ineligible")
    assert body["checks"] == [mode]

    # Moving the application to the frontier field (with a platform there) is all it takes.
    frontier = {"field": "frontier", "facts": facts_for(rule_set, rd_spend_wan=[], platforms=FRONTIER_PLATFORMS)}
    response = await client.patch(f"{APPS}/{application['id']}", json=frontier, headers=applicant)
    assert response.status_code == 200, response.text
    assert check(await explain(client, application["id"], applicant), "formation_mode_consistency")["outcome"] == "pass"
    assert (await act(client, application["id"], "submit", applicant))["status"] == "submitted"


async def test_henan_2025_wants_a_leading_enterprise_beside_a_non_enterprise_lead(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await world_for(client, auth, "henan-2025")
    university = await create_org(client, world.province, kind="university", supervisor_id=world.department["id"])
    ordinary = await create_org(client, world.province, kind="enterprise", is_leading_enterprise=False)
    applicant = auth("applicant", org_id=university["id"])
    application = await draft(
        client,
        world,
        applicant,
        field="frontier",
        formation_mode="academic_led",
        participants=[{"org_id": ordinary["id"]}],
        facts=facts_for("henan-2025", rd_spend_wan=[], platforms=FRONTIER_PLATFORMS),
    )
    assert failing(await explain(client, application["id"], applicant)) == ["leading_enterprise_participant"]


TALENTS_ONE_TWICE = [
    {"name": "张三", "level": "national", "id_number": "410102199001011234"},
    {"name": "张叁", "level": "provincial", "id_number": "410102199001011234"},
    {"name": "李四", "level": "provincial"},
]
TALENTS_NAMESAKES = [
    {"name": "张伟", "level": "national", "id_number": "410102199001011234"},
    {"name": "张伟", "level": "provincial", "id_number": "410102198502025678"},
    {"name": "张伟", "level": "provincial"},
]


@pytest.mark.parametrize(
    ("talents", "outcome", "actual"),
    [(TALENTS_ONE_TWICE, "fail", "2"), (TALENTS_NAMESAKES, "fail", "2"), (FACTS["high_level_talents"], "pass", "3")],
    ids=["one-id-number-two-names", "namesakes-and-one-without-id", "three-distinct"],
)
async def test_high_level_talents_are_counted_once_each_by_id_number_or_name(
    client: httpx.AsyncClient, auth: TokenFactory, talents: list[dict[str, str]], outcome: str, actual: str
) -> None:
    world = await world_for(client, auth, "henan-2021")
    application = await draft(client, world, facts=facts_for("henan-2021", high_level_talents=talents))
    assert application["facts"]["high_level_talents"][0].get("id_number") == talents[0].get("id_number")
    found = check(await explain(client, application["id"], world.applicant), "high_level_talents")
    assert (found["outcome"], found["actual"]) == (outcome, actual)
    response = await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant)
    if outcome == "fail":
        assert [c["rule"] for c in problem(response, 409, "ineligible")["checks"]] == ["high_level_talents"]
    else:
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("id_number", ["", "4" * 33], ids=["empty", "longer-than-32"])
async def test_a_talents_id_number_is_a_short_non_empty_string(
    client: httpx.AsyncClient, auth: TokenFactory, id_number: str
) -> None:
    world = await world_for(client, auth, "henan-2021")
    talents = [{**FACTS["high_level_talents"][0], "id_number": id_number}, *FACTS["high_level_talents"][1:]]
    body = {**facts_for("henan-2021"), "high_level_talents": talents}
    response = await client.post(APPS, json={**application_body(world), "facts": body}, headers=world.applicant)
    assert locs(problem(response, 422, "validation-failed")) == [
        ["body", "facts", "high_level_talents", 0, "id_number"]
    ]


@pytest.mark.parametrize(("count", "outcome"), [(3, "pass"), (4, "fail")])
async def test_henan_2025_caps_the_participants_at_three(
    client: httpx.AsyncClient, auth: TokenFactory, count: int, outcome: str
) -> None:
    world = await world_for(client, auth, "henan-2025")
    extra = [await create_org(client, world.province, kind="enterprise") for _ in range(count - 1)]
    participants = [{"org_id": world.university["id"]}, *({"org_id": org["id"]} for org in extra)]
    application = await draft(client, world, participants=participants, facts=FACTS_2025)
    verdict = await explain(client, application["id"], world.applicant)
    cap = check(verdict, "participants_cap")
    assert (cap["outcome"], cap["actual"], cap["expected"]) == (outcome, str(count), "≤ 3")
    assert failing(verdict) == ([] if outcome == "pass" else ["participants_cap"])


async def test_henan_2021_has_no_participant_cap(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    world = await world_for(client, auth, "henan-2021")
    extra = [await create_org(client, world.province, kind="enterprise") for _ in range(4)]
    participants = [{"org_id": world.university["id"]}, *({"org_id": org["id"]} for org in extra)]
    application = await draft(client, world, participants=participants)
    verdict = await explain(client, application["id"], world.applicant)
    assert verdict["eligible"] is True
    assert "participants_cap" not in [c["rule"] for c in verdict["checks"]]


@pytest.mark.parametrize(
    ("registered_on", "outcome"),
    [("2025-03-01", "pass"), ("2025-03-02", "fail")],
    ids=["exactly-one-year-before-opening", "a-day-short"],
)
async def test_henan_2025_wants_the_lead_registered_a_year_before_the_call_opens(
    client: httpx.AsyncClient, auth: TokenFactory, registered_on: str, outcome: str
) -> None:
    world = await world_for(client, auth, "henan-2025")
    # Open until next year's end: the latest a call may close is 31 December five years ahead (app.domain.dates).
    closes_on = f"{date.today().year + 1}-12-31"
    call = await open_call(client, world.province, rule_set="henan-2025", opens_on="2026-03-01", closes_on=closes_on)
    lead = await create_org(
        client,
        world.province,
        kind="enterprise",
        is_leading_enterprise=True,
        supervisor_id=world.department["id"],
        registered_on=registered_on,
    )
    applicant = auth("applicant", org_id=lead["id"])
    application = await draft(client, world, applicant, call_id=call["id"], facts=FACTS_2025)
    registered = check(await explain(client, application["id"], applicant), "registered_in_henan")
    assert (registered["outcome"], registered["actual"], registered["expected"]) == (
        outcome,
        registered_on,
        "≤ 2025-03-01",
    )


async def test_a_call_that_names_fields_refuses_another_field(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    world = await make_world(client, auth, fields=["biomedicine"])
    application = await draft(client, world)
    verdict = await explain(client, application["id"], world.applicant)
    assert failing(verdict) == ["field_in_layout"]
    assert check(verdict, "field_in_layout")["expected"] == "one of biomedicine"


# --- one center, one plan ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule_set", ["henan-2021", "henan-2025"])
async def test_a_second_live_application_in_the_same_call_fails_until_the_first_is_withdrawn(
    client: httpx.AsyncClient, auth: TokenFactory, rule_set: str
) -> None:
    world = await world_for(client, auth, rule_set)
    first = await draft(client, world, facts=facts_for(rule_set))
    await act(client, first["id"], "submit", world.applicant)
    second = await draft(client, world, facts=facts_for(rule_set), proposed_name="第二个方案")

    verdict = await explain(client, second["id"], world.applicant)
    plan = check(verdict, "one_center_one_plan")
    assert (plan["outcome"], plan["expected"], plan["actual"]) == ("fail", "none", first["id"])
    assert first["id"] in plan["message_zh"]
    assert first["id"] in plan["message_en"]
    body = problem(await client.post(f"{APPS}/{second['id']}/submit", headers=world.applicant), 409, "ineligible")
    assert body["checks"] == [plan]

    await act(client, first["id"], "withdraw", world.applicant)
    verdict = await explain(client, second["id"], world.applicant)
    assert check(verdict, "one_center_one_plan")["outcome"] == "pass"
    assert (await act(client, second["id"], "submit", world.applicant))["status"] == "submitted"


@pytest.mark.parametrize(
    ("ending", "frees"),
    [("withdraw", True), ("reject", True), ("recommend", False), ("return", False)],
    ids=["withdrawn", "not-recommended", "recommended", "returned"],
)
async def test_only_a_live_first_application_blocks_a_second(
    client: httpx.AsyncClient, auth: TokenFactory, ending: str, frees: bool
) -> None:
    world = await world_for(client, auth, "henan-2021")
    first = await draft(client, world)
    await act(client, first["id"], "submit", world.applicant)
    headers = world.applicant if ending == "withdraw" else world.supervisor
    await act(client, first["id"], ending, headers, reason="理由" if ending in ("reject", "return") else None)
    second = await draft(client, world, proposed_name="第二个方案")
    plan = check(await explain(client, second["id"], world.applicant), "one_center_one_plan")
    assert (plan["outcome"], plan["actual"]) == (("pass", "none") if frees else ("fail", first["id"]))


async def test_drafts_do_not_count_so_either_of_two_drafts_may_be_submitted_and_then_blocks_the_other(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await world_for(client, auth, "henan-2021")
    first = await draft(client, world)
    second = await draft(client, world, proposed_name="第二个方案")
    for application in (first, second):
        plan = check(await explain(client, application["id"], world.applicant), "one_center_one_plan")
        assert (plan["outcome"], plan["actual"]) == ("pass", "none")

    # The later draft goes first; the earlier one, still a draft, does not stand in its way.
    assert (await act(client, second["id"], "submit", world.applicant))["status"] == "submitted"

    plan = check(await explain(client, first["id"], world.applicant), "one_center_one_plan")
    assert (plan["outcome"], plan["actual"]) == ("fail", second["id"])
    body = problem(await client.post(f"{APPS}/{first['id']}/submit", headers=world.applicant), 409, "ineligible")
    assert body["checks"] == [plan]


async def test_the_failure_names_the_live_application_and_neither_drafts_nor_withdrawn_ones(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await world_for(client, auth, "henan-2021")
    withdrawn = await draft(client, world, proposed_name="放弃的方案")
    await act(client, withdrawn["id"], "withdraw", world.applicant)
    other_draft = await draft(client, world, proposed_name="另一份草稿")
    live = await draft(client, world, proposed_name="已提交的方案")
    await act(client, live["id"], "submit", world.applicant)
    latest = await draft(client, world, proposed_name="最新的方案")

    plan = check(await explain(client, latest["id"], world.applicant), "one_center_one_plan")
    assert (plan["outcome"], plan["actual"]) == ("fail", live["id"])
    for quiet in (withdrawn, other_draft):
        assert quiet["id"] not in plan["message_zh"]
        assert quiet["id"] not in plan["message_en"]


async def test_the_same_lead_may_apply_once_in_each_call(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    world = await world_for(client, auth, "henan-2021")
    other_call = await open_call(client, world.province, title="另一批次")
    first = await draft(client, world)
    await act(client, first["id"], "submit", world.applicant)
    second = await draft(client, world, call_id=other_call["id"])
    assert check(await explain(client, second["id"], world.applicant), "one_center_one_plan")["outcome"] == "pass"
