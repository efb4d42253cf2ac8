"""Reach (domain.md §1): who may read and act on an application, and on the center its approval creates.

Anything out of reach answers 404 (never 403), so existence does not leak. Observers read everything that is not
confidential but may act on nothing: their `allowed_actions` are empty and an action answers 409
invalid-transition with an empty `allowed_actions`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    APPROVAL,
    FACTS,
    PLAN,
    World,
    act,
    criteria_for_total,
    expert,
    experts,
    make_world,
    problem,
    put_panel,
    recommended,
    reviewed,
    score,
    under_review,
)
from tests.conftest import TokenFactory
from tests.factories import create_org

APPS = "/api/v1/applications"

ROLES = [
    "owner",
    "other_applicant",
    "supervisor",
    "other_supervisor",
    "province",
    "observer",
    "panel_expert",
    "other_expert",
    "third_party",
]


@dataclass
class Cast:
    world: World
    application: dict[str, Any]
    panel: list[dict[str, Any]]
    headers: dict[str, dict[str, str]]


async def cast(client: httpx.AsyncClient, auth: TokenFactory) -> Cast:
    """An application under review, and a caller for every role."""
    world = await make_world(client, auth)
    application, panel = await under_review(client, world, auth)
    other_department = await create_org(client, world.province, kind="department", name="洛阳市科学技术局")
    other_lead = await create_org(client, world.province, kind="enterprise", supervisor_id=other_department["id"])
    agency = await create_org(client, world.province, kind="agency")
    outsider = await expert(client, world.province)
    headers = {
        "owner": world.applicant,
        "other_applicant": auth("applicant", org_id=other_lead["id"]),
        "supervisor": world.supervisor,
        "other_supervisor": auth("supervisor", org_id=other_department["id"]),
        "province": world.province,
        "observer": auth("observer"),
        "panel_expert": auth("expert", expert_id=panel[0]["id"]),
        "other_expert": auth("expert", expert_id=outsider["id"]),
        "third_party": auth("third_party", org_id=agency["id"]),
    }
    return Cast(world=world, application=application, panel=panel, headers=headers)


# What each role may do with an application under review: (GET one, listed, eligibility, history).
READS = {
    "owner": (200, True, 200, 200),
    "other_applicant": (404, False, 404, 404),
    "supervisor": (200, True, 200, 200),
    "other_supervisor": (404, False, 404, 404),
    "province": (200, True, 200, 200),
    "observer": (200, True, 404, 200),
    "panel_expert": (200, True, 404, 200),
    "other_expert": (404, False, 404, 404),
    "third_party": (404, False, 404, 404),
}


@pytest.fixture
async def actors(client: httpx.AsyncClient, auth: TokenFactory) -> Cast:
    return await cast(client, auth)


@pytest.mark.parametrize("role", ROLES)
async def test_reading_an_application_under_review(client: httpx.AsyncClient, actors: Cast, role: str) -> None:
    get_one, listed, eligibility, history = READS[role]
    headers = actors.headers[role]
    application_id = actors.application["id"]

    response = await client.get(f"{APPS}/{application_id}", headers=headers)
    if get_one == 200:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "under_review"
    else:
        problem(response, 404, "not-found")

    page = await client.get(APPS, headers=headers)
    assert page.status_code == 200, page.text
    assert (application_id in [item["id"] for item in page.json()["items"]]) is listed

    response = await client.get(f"{APPS}/{application_id}/eligibility", headers=headers)
    if eligibility == 200:
        assert response.status_code == 200, response.text
        assert response.json()["recorded"] is True
    else:
        problem(response, 404, "not-found")

    response = await client.get(f"{APPS}/{application_id}/history", headers=headers)
    if history == 200:
        assert response.status_code == 200, response.text
        assert [h["action"] for h in response.json()["items"]][-1] == "open_review"
    else:
        problem(response, 404, "not-found")

    response = await client.get(f"{APPS}/{application_id}/review", headers=headers)
    if get_one == 200:
        assert response.status_code == 200, response.text
    else:
        problem(response, 404, "not-found")


# What each role gets for an edit and for an action it may not take: 404 out of reach, 409 within it. Observers read
# within reach but never write anything: 404 (issue 12).
WRITES = {
    "owner": 409,
    "other_applicant": 404,
    "supervisor": 409,
    "other_supervisor": 404,
    "province": 409,
    "observer": 404,
    "panel_expert": 409,
    "other_expert": 404,
    "third_party": 404,
}


@pytest.mark.parametrize("role", ROLES)
async def test_editing_and_acting_on_an_application_under_review(
    client: httpx.AsyncClient, actors: Cast, role: str
) -> None:
    headers = actors.headers[role]
    application_id = actors.application["id"]
    expected = WRITES[role]

    edit = await client.patch(f"{APPS}/{application_id}", json={"proposed_name": "改名"}, headers=headers)
    action = await client.post(f"{APPS}/{application_id}/withdraw", headers=headers)
    for response in (edit, action):
        if expected == 404:
            problem(response, 404, "not-found")
        else:
            body = problem(response, 409, "invalid-transition")
            # No panel member has scored yet, so even the province may do nothing now: the refusal lists exactly
            # what GET lists (guards included), not merely what the state table permits.
            assert body["allowed_actions"] == []
            shown = (await client.get(f"{APPS}/{application_id}", headers=headers)).json()
            assert body["allowed_actions"] == shown["allowed_actions"]

    seen = (await client.get(f"{APPS}/{application_id}", headers=actors.headers["province"])).json()
    assert (seen["proposed_name"], seen["status"]) == (actors.application["proposed_name"], "under_review")


@pytest.mark.parametrize("role", [r for r, reads in READS.items() if reads[0] == 200])
async def test_allowed_actions_are_the_callers_own_and_only_those_it_may_take_now(
    client: httpx.AsyncClient, actors: Cast, auth: TokenFactory, role: str
) -> None:
    path = f"{APPS}/{actors.application['id']}"
    # Under review without scores nobody may act: the province's conclude_review waits for every score.
    assert (await client.get(path, headers=actors.headers[role])).json()["allowed_actions"] == []
    for member in actors.panel:
        await score(client, actors.application["id"], auth, member, criteria_for_total(80), expected=201)
    expected = ["conclude_review"] if role == "province" else []
    assert (await client.get(path, headers=actors.headers[role])).json()["allowed_actions"] == expected


async def test_the_owner_and_its_supervisor_act_and_others_do_not(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """On a draft and a submitted application: each action by each role, within reach or not."""
    world = await make_world(client, auth)
    other_department = await create_org(client, world.province, kind="department")
    stranger = await create_org(client, world.province, kind="enterprise", supervisor_id=other_department["id"])
    callers = {
        "other_applicant": auth("applicant", org_id=stranger["id"]),
        "other_supervisor": auth("supervisor", org_id=other_department["id"]),
        "observer": auth("observer"),
        "expert": auth("expert", expert_id=uuid.uuid4()),
        "third_party": auth("third_party", org_id=uuid.uuid4()),
    }
    application = await act(
        client,
        (await client.post(APPS, json=_body(world), headers=world.applicant)).json()["id"],
        "submit",
        world.applicant,
    )
    for headers in callers.values():
        for action in ("recommend", "return", "reject", "withdraw"):
            response = await client.post(f"{APPS}/{application['id']}/{action}", json={"reason": "x"}, headers=headers)
            problem(response, 404, "not-found")
    # The supervisor of the lead may; the owner may not recommend its own application.
    body = problem(
        await client.post(f"{APPS}/{application['id']}/recommend", headers=world.applicant), 409, "invalid-transition"
    )
    assert body["allowed_actions"] == ["withdraw"]
    assert (await act(client, application["id"], "recommend", world.supervisor))["status"] == "recommended"


def _body(world: World) -> dict[str, Any]:
    return {
        "call_id": world.call["id"],
        "proposed_name": "河南省智能装备技术创新中心",
        "field": "equipment_manufacturing",
        "formation_mode": "enterprise_led",
        "participants": [{"org_id": world.university["id"]}],
        "plan": PLAN,
        "facts": FACTS,
    }


@pytest.mark.parametrize("stage", ["recommended", "reviewed"])
async def test_an_expert_sees_the_application_only_while_it_is_under_review(
    client: httpx.AsyncClient, auth: TokenFactory, stage: str
) -> None:
    world = await make_world(client, auth)
    if stage == "reviewed":
        application, panel = await reviewed(client, world, auth)
    else:
        application = await recommended(client, world)
        panel = await experts(client, world.province, 5)
        assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    headers = auth("expert", expert_id=panel[0]["id"])
    problem(await client.get(f"{APPS}/{application['id']}", headers=headers), 404, "not-found")
    problem(await client.get(f"{APPS}/{application['id']}/review", headers=headers), 404, "not-found")
    assert (await client.get(APPS, headers=headers)).json()["items"] == []


async def test_an_observer_reads_no_confidential_field(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    world = await make_world(client, auth)
    application, panel = await under_review(client, world, auth)
    for member, total in zip(panel, (95, 60, 80, 75, 70), strict=True):
        await score(client, application["id"], auth, member, criteria_for_total(total), expected=201)
    observer = auth("observer")
    texts = [
        (await client.get(f"{APPS}/{application['id']}", headers=observer)).text,
        (await client.get(APPS, headers=observer)).text,
        (await client.get(f"{APPS}/{application['id']}/history", headers=observer)).text,
        (await client.get(f"{APPS}/{application['id']}/review", headers=observer)).text,
    ]
    for member in panel:
        assert all(member["id"] not in text and member["name"] not in text for text in texts)


# --- the center an approval creates ------------------------------------------------------------------------------

CENTER_READERS = {
    "owner": 200,
    "other_applicant": 404,
    "supervisor": 200,
    "other_supervisor": 404,
    "province": 200,
    "observer": 200,
    "panel_expert": 404,
    "other_expert": 404,
    "third_party": 404,
}


@pytest.mark.parametrize("role", ROLES)
async def test_reading_a_center(client: httpx.AsyncClient, auth: TokenFactory, role: str) -> None:
    world = await make_world(client, auth)
    application, panel = await reviewed(client, world, auth)
    approved = await act(client, application["id"], "approve", world.province, **APPROVAL)
    other_department = await create_org(client, world.province, kind="department")
    stranger = await create_org(client, world.province, kind="enterprise", supervisor_id=other_department["id"])
    headers = {
        "owner": world.applicant,
        "other_applicant": auth("applicant", org_id=stranger["id"]),
        "supervisor": world.supervisor,
        "other_supervisor": auth("supervisor", org_id=other_department["id"]),
        "province": world.province,
        "observer": auth("observer"),
        "panel_expert": auth("expert", expert_id=panel[0]["id"]),
        "other_expert": auth("expert", expert_id=uuid.uuid4()),
        "third_party": auth("third_party", org_id=uuid.uuid4()),
    }[role]
    response = await client.get(f"/api/v1/centers/{approved['center_id']}", headers=headers)
    listed = [c["id"] for c in (await client.get("/api/v1/centers", headers=headers)).json()["items"]]
    if CENTER_READERS[role] == 200:
        assert response.status_code == 200, response.text
        assert response.json()["code"] == "HNTIC-2026-001"
        assert listed == [approved["center_id"]]
    else:
        problem(response, 404, "not-found")
        assert listed == []
