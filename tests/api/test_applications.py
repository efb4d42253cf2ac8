"""Applications (申报, issue 3): drafting, editing, listing, the fast track and the lifecycle up to `recommended`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.deps import get_clock
from tests.api.helpers import (
    FACTS,
    PLAN,
    FixedClock,
    World,
    act,
    application_body,
    draft,
    fast_track,
    locs,
    make_world,
    open_call,
    other_lead,
    problem,
    reviewed,
    submitted,
)
from tests.conftest import TokenFactory
from tests.factories import create_org

APPS = "/api/v1/applications"


@pytest.fixture
def set_today(app: FastAPI) -> Iterator[Callable[[date], None]]:
    """set_today(day) stops the applications' clock on `day` (noon, Beijing) for the rest of the test."""

    def stop_at(day: date) -> None:
        app.dependency_overrides[get_clock] = lambda: FixedClock.on(day)

    yield stop_at
    app.dependency_overrides.pop(get_clock, None)


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: TokenFactory) -> World:
    return await make_world(client, auth)


# --- create ------------------------------------------------------------------------------------------------------


async def test_an_applicant_drafts_for_its_own_organization_by_default(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(APPS, json=application_body(world), headers=world.applicant)
    assert response.status_code == 201, response.text
    application = response.json()
    assert response.headers["location"] == f"{APPS}/{application['id']}"
    assert response.headers["etag"] == f'"{application["version"]}"'
    assert application["lead_org_id"] == world.lead["id"]
    assert application["status"] == "draft"
    assert application["allowed_actions"] == ["submit", "withdraw"]
    assert application["rule_set"] == "henan-2021"
    assert application["fast_track"] is False
    assert application["participants"] == [{"org_id": world.university["id"], "role": "参建单位"}]
    assert application["plan"] == PLAN
    assert application["facts"]["rd_spend_wan"] == ["4000.00", "4000.00", "4000.00"]


async def test_an_applicant_may_name_its_own_organization_as_lead(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world, lead_org_id=world.lead["id"])
    assert application["lead_org_id"] == world.lead["id"]


async def test_an_applicant_cannot_apply_for_another_organization(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        APPS, json=application_body(world, lead_org_id=world.university["id"]), headers=world.applicant
    )
    assert locs(problem(response, 422, "validation-failed")) == [["body", "lead_org_id"]]


async def test_an_application_takes_the_rule_set_of_its_call(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    call = await open_call(client, world.province, rule_set="henan-2025")
    assert (await draft(client, world, call_id=call["id"]))["rule_set"] == "henan-2025"


@pytest.mark.parametrize("call_state", ["draft", "closed", "unknown"])
async def test_an_application_needs_a_published_call(client: httpx.AsyncClient, world: World, call_state: str) -> None:
    if call_state == "unknown":
        call_id = str(uuid.uuid4())
    else:
        response = await client.post(
            "/api/v1/calls",
            json={"year": 2026, "title": "通知", "opens_on": "2026-01-01", "closes_on": "2026-12-31"},
            headers=world.province,
        )
        call_id = response.json()["id"]
        if call_state == "closed":
            for step in ("publish", "close"):
                assert (await client.post(f"/api/v1/calls/{call_id}/{step}", headers=world.province)).is_success
    response = await client.post(APPS, json=application_body(world, call_id=call_id), headers=world.applicant)
    if call_state == "closed":
        assert problem(response, 409, "rule-violation")["rule"] == "call-closed"
    else:
        assert locs(problem(response, 422, "validation-failed")) == [["body", "call_id"]]


@pytest.mark.parametrize(
    ("participants", "loc"),
    [
        ([{"org_id": "UNKNOWN"}], ["body", "participants", 0, "org_id"]),
        ([{"org_id": "LEAD"}], ["body", "participants", 0, "org_id"]),
        ([{"org_id": "UNIVERSITY"}, {"org_id": "UNIVERSITY"}], ["body", "participants", 1, "org_id"]),
        ([{"org_id": "UNIVERSITY"}, {"org_id": "UNKNOWN"}], ["body", "participants", 1, "org_id"]),
        ([{"org_id": "not-a-uuid"}], ["body", "participants", 0, "org_id"]),
        ([{"org_id": "UNIVERSITY", "role": ""}], ["body", "participants", 0, "role"]),
    ],
    ids=["unknown-org", "the-lead", "duplicate", "unknown-second", "malformed", "empty-role"],
)
async def test_bad_participants_are_refused_with_their_loc(
    client: httpx.AsyncClient, world: World, participants: list[dict[str, str]], loc: list[str | int]
) -> None:
    names = {"UNKNOWN": str(uuid.uuid4()), "LEAD": world.lead["id"], "UNIVERSITY": world.university["id"]}
    resolved = [{**p, "org_id": names.get(p["org_id"], p["org_id"])} for p in participants]
    response = await client.post(APPS, json=application_body(world, participants=resolved), headers=world.applicant)
    assert loc in locs(problem(response, 422, "validation-failed"))
    # The same check guards an edit.
    application = await draft(client, world)
    response = await client.patch(
        f"{APPS}/{application['id']}", json={"participants": resolved}, headers=world.applicant
    )
    assert loc in locs(problem(response, 422, "validation-failed"))


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"field": "space_travel"}, ["body", "field"]),
        ({"formation_mode": "solo"}, ["body", "formation_mode"]),
        ({"zones": ["anywhere"]}, ["body", "zones", 0]),
        ({"proposed_name": ""}, ["body", "proposed_name"]),
        ({"plan": {**PLAN, "appendix": "…"}}, ["body", "plan", "appendix"]),
        ({"facts": {**FACTS, "rd_spend_wan": [4000.5, 4000.5, 4000.5]}}, ["body", "facts", "rd_spend_wan"]),
        ({"facts": {**FACTS, "staff_total": -1}}, ["body", "facts", "staff_total"]),
    ],
    ids=["field", "formation-mode", "zone", "name", "plan-extra-section", "float-money", "negative-count"],
)
async def test_a_malformed_application_is_refused_with_422(
    client: httpx.AsyncClient, world: World, overrides: dict[str, Any], loc: list[str | int]
) -> None:
    response = await client.post(APPS, json=application_body(world, **overrides), headers=world.applicant)
    assert loc in locs(problem(response, 422, "validation-failed"))


@pytest.mark.parametrize("role", ["supervisor", "expert", "third_party", "observer"])
async def test_only_applicants_and_the_province_create_applications(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, role: str
) -> None:
    headers = auth(role, org_id=world.department["id"], expert_id=uuid.uuid4())
    problem(await client.post(APPS, json=application_body(world), headers=headers), 404, "not-found")


# --- fast track --------------------------------------------------------------------------------------------------


async def test_an_applicant_cannot_create_a_fast_track_application(client: httpx.AsyncClient, world: World) -> None:
    body = application_body(world, fast_track=True, fast_track_basis="省政府专题会议纪要")
    del body["call_id"]
    response = await client.post(APPS, json=body, headers=world.applicant)
    assert locs(problem(response, 422, "validation-failed")) == [["body", "fast_track"]]


async def test_the_province_creates_a_fast_track_application_without_a_call(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await fast_track(client, world)
    assert application["fast_track"] is True
    assert application["call_id"] is None
    assert application["fast_track_basis"] == "省政府专题会议纪要〔2026〕12号"
    assert application["lead_org_id"] == world.lead["id"]
    assert application["rule_set"] == "henan-2021"  # the set current on its creation
    assert application["status"] == "draft"
    assert "submit" in application["allowed_actions"]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"fast_track_basis": None}, ["body", "fast_track_basis"]),
        ({"fast_track_basis": ""}, ["body", "fast_track_basis"]),
        ({"lead_org_id": None}, ["body", "lead_org_id"]),
        ({"lead_org_id": "00000000-0000-4000-8000-000000000000"}, ["body", "lead_org_id"]),
        ({"call_id": "CALL"}, ["body", "call_id"]),
    ],
    ids=["no-basis", "empty-basis", "no-lead", "unknown-lead", "with-a-call"],
)
async def test_a_fast_track_application_needs_a_basis_and_a_lead_and_no_call(
    client: httpx.AsyncClient, world: World, overrides: dict[str, Any], loc: list[str | int]
) -> None:
    body = application_body(world)
    del body["call_id"]
    body.update(fast_track=True, fast_track_basis="省政府专题会议纪要", lead_org_id=world.lead["id"])
    body.update({k: (world.call["id"] if v == "CALL" else v) for k, v in overrides.items()})
    body = {k: v for k, v in body.items() if v is not None}
    response = await client.post(APPS, json=body, headers=world.province)
    assert loc in locs(problem(response, 422, "validation-failed"))


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"call_id": None}, ["body", "call_id"]),
        ({"fast_track_basis": "省政府专题会议纪要"}, ["body", "fast_track_basis"]),
    ],
    ids=["no-call", "a-basis-without-fast-track"],
)
async def test_an_ordinary_application_names_a_call_and_no_basis(
    client: httpx.AsyncClient, world: World, overrides: dict[str, Any], loc: list[str]
) -> None:
    body = {k: v for k, v in application_body(world, **overrides).items() if v is not None}
    response = await client.post(APPS, json=body, headers=world.applicant)
    assert locs(problem(response, 422, "validation-failed")) == [loc]


async def test_creation_honours_the_idempotency_key(client: httpx.AsyncClient, world: World) -> None:
    headers = {**world.applicant, "Idempotency-Key": "draft-2026-001"}
    first = await client.post(APPS, json=application_body(world), headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(APPS, json=application_body(world), headers=headers)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post(APPS, json=application_body(world, proposed_name="另一个"), headers=headers)
    problem(other, 422, "idempotency-key-reused")
    listed = (await client.get(APPS, headers=world.applicant)).json()["items"]
    assert [item["id"] for item in listed] == [first.json()["id"]]


async def test_an_unknown_application_is_404(client: httpx.AsyncClient, world: World) -> None:
    problem(await client.get(f"{APPS}/{uuid.uuid4()}", headers=world.province), 404, "not-found")
    problem(await client.post(f"{APPS}/{uuid.uuid4()}/submit", headers=world.applicant), 404, "not-found")
    problem(
        await client.patch(f"{APPS}/{uuid.uuid4()}", json={"proposed_name": "x"}, headers=world.applicant),
        404,
        "not-found",
    )


async def test_the_province_cannot_create_an_ordinary_application(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        APPS, json=application_body(world, lead_org_id=world.lead["id"]), headers=world.province
    )
    assert locs(problem(response, 422, "validation-failed")) == [["body", "fast_track"]]


@pytest.mark.parametrize("submitter", ["province", "applicant"])
async def test_a_fast_track_submission_goes_straight_to_recommended(
    client: httpx.AsyncClient, world: World, submitter: str
) -> None:
    application = await fast_track(client, world)
    headers = world.province if submitter == "province" else world.applicant
    result = await act(client, application["id"], "submit", headers)
    assert result["status"] == "recommended"
    assert result["submitted_at"] is not None
    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.province)).json()["items"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("create", None, "draft"),
        ("submit", "draft", "recommended"),
    ]
    # No supervisor step: there is nothing to recommend.
    body = problem(
        await client.post(f"{APPS}/{application['id']}/recommend", headers=world.supervisor), 409, "invalid-transition"
    )
    assert body["allowed_actions"] == []


async def test_a_fast_track_application_is_edited_by_the_province_not_the_lead(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await fast_track(client, world)
    response = await client.patch(
        f"{APPS}/{application['id']}", json={"fast_track_basis": "新的依据"}, headers=world.province
    )
    assert response.status_code == 200, response.text
    assert response.json()["fast_track_basis"] == "新的依据"
    problem(
        await client.patch(f"{APPS}/{application['id']}", json={"proposed_name": "x"}, headers=world.applicant),
        409,
        "invalid-transition",
    )


async def test_a_fast_track_application_is_still_judged_for_eligibility(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await fast_track(client, world, facts={**FACTS, "rd_staff": 99})
    body = problem(await client.post(f"{APPS}/{application['id']}/submit", headers=world.province), 409, "ineligible")
    assert [c["rule"] for c in body["checks"]] == ["rd_staff_ratio"]


# --- edit --------------------------------------------------------------------------------------------------------


async def test_a_draft_is_edited_and_answers_a_new_etag(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    response = await client.patch(
        f"{APPS}/{application['id']}",
        json={"proposed_name": "河南省高端装备技术创新中心", "plan": {**PLAN, "schedule": "三年建成"}},
        headers={**world.applicant, "If-Match": f'"{application["version"]}"'},
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["proposed_name"] == "河南省高端装备技术创新中心"
    assert edited["plan"]["schedule"] == "三年建成"
    assert edited["version"] == application["version"] + 1
    assert response.headers["etag"] == f'"{edited["version"]}"'
    stale = await client.patch(
        f"{APPS}/{application['id']}",
        json={"proposed_name": "又一个名字"},
        headers={**world.applicant, "If-Match": f'"{application["version"]}"'},
    )
    problem(stale, 412, "version-mismatch")


async def test_an_edit_refuses_null_for_a_required_field(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    response = await client.patch(f"{APPS}/{application['id']}", json={"field": None}, headers=world.applicant)
    assert locs(problem(response, 422, "validation-failed")) == [["body", "field"]]


async def test_an_ordinary_application_has_no_fast_track_basis(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    response = await client.patch(
        f"{APPS}/{application['id']}", json={"fast_track_basis": "x"}, headers=world.applicant
    )
    assert locs(problem(response, 422, "validation-failed")) == [["body", "fast_track_basis"]]


async def test_edits_are_allowed_in_draft_and_returned_but_not_once_sent(
    client: httpx.AsyncClient, world: World
) -> None:
    async def patch(application_id: str) -> httpx.Response:
        return await client.patch(f"{APPS}/{application_id}", json={"proposed_name": "改名"}, headers=world.applicant)

    drafted = await draft(client, world)
    assert (await patch(drafted["id"])).status_code == 200

    sent = await act(client, drafted["id"], "submit", world.applicant)
    body = problem(await patch(sent["id"]), 409, "invalid-transition")
    assert body["allowed_actions"] == ["withdraw"]
    assert body["current_status"] == "submitted"

    await act(client, sent["id"], "return", world.supervisor, reason="请补充材料")
    assert (await patch(sent["id"])).status_code == 200

    await act(client, sent["id"], "submit", world.applicant)
    await act(client, sent["id"], "recommend", world.supervisor)
    problem(await patch(sent["id"]), 409, "invalid-transition")

    await act(client, sent["id"], "withdraw", world.applicant, expected=409)


@pytest.mark.parametrize(("revise", "editable"), [(False, False), (True, True)], ids=["reviewed", "revising"])
async def test_a_reviewed_application_is_editable_only_once_revision_is_requested(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, revise: bool, editable: bool
) -> None:
    application, _ = await reviewed(client, world, auth, totals=(80, 80, 80, 80, 80))
    if revise:
        await act(client, application["id"], "request_revision", world.province, reason="请完善经费方案")
    response = await client.patch(
        f"{APPS}/{application['id']}", json={"proposed_name": "改名"}, headers=world.applicant
    )
    if editable:
        assert response.status_code == 200, response.text
    else:
        assert problem(response, 409, "invalid-transition")["allowed_actions"] == []


# --- list --------------------------------------------------------------------------------------------------------


async def test_the_list_filters_by_each_named_field(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    second_call = await open_call(client, world.province, title="第二批")
    enterprise, enterprise_applicant = await other_lead(client, world, auth)
    a = await draft(client, world)  # equipment, enterprise_led, call 1, lead
    b = await submitted(client, world, call_id=second_call["id"])  # call 2, submitted
    c = await draft(
        client,
        world,
        enterprise_applicant,
        field="biomedicine",
        formation_mode="enterprise_alliance",
        participants=[{"org_id": world.university["id"]}, {"org_id": world.lead["id"]}],
    )

    async def ids(**params: Any) -> set[str]:
        response = await client.get(APPS, params=params, headers=world.province)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids() == {a["id"], b["id"], c["id"]}
    assert await ids(status="submitted") == {b["id"]}
    assert await ids(status="draft") == {a["id"], c["id"]}
    assert await ids(field="biomedicine") == {c["id"]}
    assert await ids(call_id=second_call["id"]) == {b["id"]}
    assert await ids(call_id=world.call["id"]) == {a["id"], c["id"]}
    assert await ids(lead_org_id=enterprise["id"]) == {c["id"]}
    assert await ids(formation_mode="enterprise_alliance") == {c["id"]}
    assert await ids(formation_mode="enterprise_alliance", lead_org_id=world.lead["id"]) == set()
    assert await ids(status="draft", call_id=world.call["id"], field="equipment_manufacturing") == {a["id"]}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"field": "space"}, ["query", "field"]),
        ({"formation_mode": "solo"}, ["query", "formation_mode"]),
        ({"call_id": "nope"}, ["query", "call_id"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 201}, ["query", "limit"]),
        ({"cursor": "!!"}, ["query", "cursor"]),
    ],
)
async def test_bad_list_parameters_are_422(
    client: httpx.AsyncClient, world: World, params: dict[str, Any], loc: list[str]
) -> None:
    response = await client.get(APPS, params=params, headers=world.province)
    assert loc in locs(problem(response, 422, "validation-failed"))


async def test_the_list_pages_by_cursor_without_repeats_or_gaps(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    made = {(await draft(client, world, proposed_name=f"中心{i}"))["id"] for i in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(APPS, params=params, headers=world.applicant)).json()
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == made


# --- the lifecycle -----------------------------------------------------------------------------------------------


async def test_draft_submitted_returned_submitted_recommended(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    sent = await act(client, application["id"], "submit", world.applicant)
    assert sent["status"] == "submitted"
    assert sent["submitted_at"] is not None
    assert sent["allowed_actions"] == ["withdraw"]
    seen_by_supervisor = (await client.get(f"{APPS}/{application['id']}", headers=world.supervisor)).json()
    assert seen_by_supervisor["allowed_actions"] == ["return", "reject", "recommend"]

    body = problem(
        await client.post(f"{APPS}/{application['id']}/return", headers=world.supervisor), 422, "validation-failed"
    )
    assert locs(body) == [["body", "reason"]]
    body = problem(
        await client.post(f"{APPS}/{application['id']}/return", json={"reason": ""}, headers=world.supervisor),
        422,
        "validation-failed",
    )
    assert locs(body) == [["body", "reason"]]

    returned = await act(client, application["id"], "return", world.supervisor, reason="请补充合作协议")
    assert returned["status"] == "returned"
    assert (await client.get(f"{APPS}/{application['id']}", headers=world.applicant)).json()["allowed_actions"] == [
        "submit",
        "withdraw",
    ]
    again = await act(client, application["id"], "submit", world.applicant)
    assert again["status"] == "submitted"
    done = await act(client, application["id"], "recommend", world.supervisor)
    assert done["status"] == "recommended"
    assert done["allowed_actions"] == []

    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.applicant)).json()["items"]
    assert [(h["action"], h["from_status"], h["to_status"], h["actor_role"]) for h in history] == [
        ("create", None, "draft", "applicant"),
        ("submit", "draft", "submitted", "applicant"),
        ("return", "submitted", "returned", "supervisor"),
        ("submit", "returned", "submitted", "applicant"),
        ("recommend", "submitted", "recommended", "supervisor"),
    ]
    assert history[2]["reason"] == "请补充合作协议"
    assert history[2]["actor_sub"] == f"supervisor-{world.department['id']}"
    assert history[1]["actor_sub"] == f"applicant-{world.lead['id']}"
    assert all(h["occurred_at"] for h in history)


async def test_the_supervisor_rejects_with_a_reason(client: httpx.AsyncClient, world: World) -> None:
    application = await submitted(client, world)
    body = problem(
        await client.post(f"{APPS}/{application['id']}/reject", headers=world.supervisor), 422, "validation-failed"
    )
    assert locs(body) == [["body", "reason"]]
    rejected = await act(client, application["id"], "reject", world.supervisor, reason="不符合布局重点")
    assert rejected["status"] == "not_recommended"
    assert rejected["allowed_actions"] == []
    history = (await client.get(f"{APPS}/{application['id']}/history", headers=world.province)).json()["items"]
    assert (history[-1]["action"], history[-1]["reason"]) == ("reject", "不符合布局重点")


@pytest.mark.parametrize("state", ["draft", "returned", "submitted"])
async def test_the_lead_withdraws_before_recommendation(client: httpx.AsyncClient, world: World, state: str) -> None:
    application = await draft(client, world)
    if state != "draft":
        await act(client, application["id"], "submit", world.applicant)
    if state == "returned":
        await act(client, application["id"], "return", world.supervisor, reason="补充材料")
    withdrawn = await act(client, application["id"], "withdraw", world.applicant)
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["allowed_actions"] == []


async def test_a_recommended_application_can_no_longer_be_withdrawn(client: httpx.AsyncClient, world: World) -> None:
    application = await submitted(client, world)
    await act(client, application["id"], "recommend", world.supervisor)
    body = problem(
        await client.post(f"{APPS}/{application['id']}/withdraw", headers=world.applicant), 409, "invalid-transition"
    )
    assert body["current_status"] == "recommended"
    assert body["allowed_actions"] == []


@pytest.mark.parametrize(
    ("actor", "action", "allowed"),
    [
        ("applicant", "recommend", ["submit", "withdraw"]),
        ("supervisor", "submit", []),
        ("province", "submit", []),
        ("applicant", "approve", ["submit", "withdraw"]),
        ("supervisor", "return", []),
    ],
)
async def test_an_action_not_allowed_on_a_draft_is_409_with_the_callers_allowed_actions(
    client: httpx.AsyncClient, world: World, actor: str, action: str, allowed: list[str]
) -> None:
    application = await draft(client, world)
    headers = {"applicant": world.applicant, "supervisor": world.supervisor, "province": world.province}[actor]
    response = await client.post(f"{APPS}/{application['id']}/{action}", json={"reason": "x"}, headers=headers)
    body = problem(response, 409, "invalid-transition")
    assert body["allowed_actions"] == allowed
    assert body["action"] == action


async def test_an_unknown_action_is_404(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    response = await client.post(f"{APPS}/{application['id']}/teleport", headers=world.applicant)
    assert response.status_code in (404, 405)


async def test_an_action_honours_if_match(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    stale = {**world.applicant, "If-Match": f'"{application["version"] + 5}"'}
    problem(await client.post(f"{APPS}/{application['id']}/submit", headers=stale), 412, "version-mismatch")
    fresh = {**world.applicant, "If-Match": f'"{application["version"]}"'}
    response = await client.post(f"{APPS}/{application['id']}/submit", headers=fresh)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'


# --- submission guards -------------------------------------------------------------------------------------------


async def test_a_closed_call_refuses_submission(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    assert (await client.post(f"/api/v1/calls/{world.call['id']}/close", headers=world.province)).status_code == 200
    body = problem(
        await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant), 409, "rule-violation"
    )
    assert body["rule"] == "call-not-open"
    assert [b["code"] for b in body["blocked_by"]] == ["call-not-open"]
    assert (await client.get(f"{APPS}/{application['id']}", headers=world.applicant)).json()["status"] == "draft"


async def test_a_call_whose_window_has_passed_refuses_submission(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    past = await open_call(client, world.province, opens_on="2021-09-01", closes_on="2021-10-31", year=2021)
    application = await draft(client, world, call_id=past["id"])
    body = problem(
        await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant), 409, "rule-violation"
    )
    assert body["rule"] == "call-not-open"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 2, 28), 409),
        (date(2026, 3, 1), 200),
        (date(2026, 4, 30), 200),
        (date(2026, 5, 1), 409),
    ],
    ids=["day-before-opening", "opening-day", "closing-day", "day-after-closing"],
)
async def test_the_call_window_is_inclusive_on_both_ends(
    client: httpx.AsyncClient,
    world: World,
    set_today: Callable[[date], None],
    today: date,
    expected: int,
) -> None:
    call = await open_call(client, world.province, opens_on="2026-03-01", closes_on="2026-04-30", year=2026)
    application = await draft(client, world, call_id=call["id"])
    set_today(today)
    response = await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant)
    if expected == 200:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "submitted"
    else:
        assert problem(response, 409, "rule-violation")["rule"] == "call-not-open"


async def test_an_incomplete_plan_refuses_submission_naming_the_missing_sections(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await draft(client, world, plan={**PLAN, "funding": "", "schedule": "   ", "background": ""})
    body = problem(
        await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant), 409, "rule-violation"
    )
    assert body["rule"] == "plan-incomplete"
    assert body["missing_sections"] == ["background", "funding", "schedule"]
    partial = await draft(client, world, plan={"background": "只有背景"})
    body = problem(await client.post(f"{APPS}/{partial['id']}/submit", headers=world.applicant), 409, "rule-violation")
    assert body["missing_sections"] == [
        "foundation",
        "goals_and_tasks",
        "organization",
        "governance",
        "funding",
        "schedule",
    ]


async def test_a_failing_rule_refuses_submission_with_the_failing_checks(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await draft(
        client, world, facts={**FACTS, "rd_staff": 99, "high_level_talents": [], "cooperation_mechanism": ""}
    )
    body = problem(await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant), 409, "ineligible")
    failing = {c["rule"]: c for c in body["checks"]}
    assert set(failing) == {"cooperation_mechanism", "rd_staff_ratio", "high_level_talents"}
    assert all(c["outcome"] == "fail" for c in body["checks"])
    assert failing["rd_staff_ratio"]["actual"] == "9.90%"
    assert failing["rd_staff_ratio"]["expected"] == "≥ 10%"
    assert failing["high_level_talents"]["actual"] == "0"
    assert all(c["message_zh"] and c["message_en"] for c in body["checks"])
    current = (await client.get(f"{APPS}/{application['id']}", headers=world.applicant)).json()
    assert current["status"] == "draft"
    assert current["submitted_at"] is None


# --- eligibility: live and recorded ------------------------------------------------------------------------------


async def test_eligibility_of_a_draft_is_explained_live(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    response = await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.applicant)
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["eligible"] is True
    assert verdict["recorded"] is False
    assert verdict["rule_set"] == "henan-2021"
    assert verdict["judged_on"]
    assert [c["rule"] for c in verdict["checks"]] == [
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
    outcomes = {c["rule"]: c["outcome"] for c in verdict["checks"]}
    assert outcomes["ip_results"] == outcomes["patent_standing"] == "manual"
    assert set(outcomes.values()) == {"pass", "manual"}
    assert set(verdict["checks"][0]) == {
        "rule",
        "outcome",
        "expected",
        "actual",
        "message_zh",
        "message_en",
        "evidence",
    }

    # Live: an edit changes the explanation at once.
    await client.patch(
        f"{APPS}/{application['id']}", json={"facts": {**FACTS, "rd_staff": 50}}, headers=world.applicant
    )
    verdict = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.applicant)).json()
    assert verdict["eligible"] is False
    assert [c["rule"] for c in verdict["checks"] if c["outcome"] == "fail"] == ["rd_staff_ratio"]


async def test_the_verdict_recorded_at_submission_is_kept(client: httpx.AsyncClient, world: World) -> None:
    application = await submitted(client, world)
    recorded = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.supervisor)).json()
    assert recorded["recorded"] is True
    assert recorded["eligible"] is True
    assert recorded["rule_set"] == "henan-2021"
    assert len(recorded["checks"]) == 13
    assert {c["rule"]: c["outcome"] for c in recorded["checks"]}["leading_enterprise"] == "pass"

    # The lead stops being a leading enterprise afterwards: a live judgement would fail, the record does not change.
    response = await client.patch(
        f"/api/v1/organizations/{world.lead['id']}", json={"is_leading_enterprise": False}, headers=world.province
    )
    assert response.status_code == 200, response.text
    for headers in (world.applicant, world.supervisor, world.province):
        again = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=headers)).json()
        assert again == recorded

    # Recommendation keeps it too.
    await act(client, application["id"], "recommend", world.supervisor)
    again = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.province)).json()
    assert again == recorded

    # A fresh draft of the same lead is judged live, and now fails.
    other = await draft(client, world, call_id=(await open_call(client, world.province))["id"])
    live = (await client.get(f"{APPS}/{other['id']}/eligibility", headers=world.applicant)).json()
    assert live["recorded"] is False
    assert {c["rule"] for c in live["checks"] if c["outcome"] == "fail"} == {"leading_enterprise"}


async def test_a_returned_application_is_judged_live_again(client: httpx.AsyncClient, world: World) -> None:
    application = await submitted(client, world)
    await act(client, application["id"], "return", world.supervisor, reason="补充")
    verdict = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.applicant)).json()
    assert verdict["recorded"] is False


@pytest.mark.parametrize("role", ["observer", "expert", "third_party"])
async def test_eligibility_is_404_for_observers_experts_and_third_parties(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, role: str
) -> None:
    application = await submitted(client, world)
    headers = auth(role, org_id=uuid.uuid4(), expert_id=uuid.uuid4())
    problem(await client.get(f"{APPS}/{application['id']}/eligibility", headers=headers), 404, "not-found")


async def test_eligibility_of_an_unknown_application_is_404(client: httpx.AsyncClient, world: World) -> None:
    problem(await client.get(f"{APPS}/{uuid.uuid4()}/eligibility", headers=world.province), 404, "not-found")


async def test_history_of_an_unknown_application_is_404(client: httpx.AsyncClient, world: World) -> None:
    problem(await client.get(f"{APPS}/{uuid.uuid4()}/history", headers=world.province), 404, "not-found")


async def test_the_supervisor_of_a_lead_sees_its_applications_in_reach(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    # A lead without a supervisor is invisible to every department.
    orphan = await create_org(client, world.province, kind="enterprise", is_leading_enterprise=True)
    application = await draft(client, world, auth("applicant", org_id=orphan["id"]))
    problem(await client.get(f"{APPS}/{application['id']}", headers=world.supervisor), 404, "not-found")
    assert (await client.get(f"{APPS}/{application['id']}", headers=world.province)).status_code == 200


async def test_submission_keeps_the_judging_date(
    client: httpx.AsyncClient, world: World, set_today: Callable[[date], None]
) -> None:
    call = await open_call(client, world.province, opens_on="2026-03-01", closes_on="2026-04-30", year=2026)
    application = await draft(client, world, call_id=call["id"])
    set_today(date(2026, 3, 15))
    await act(client, application["id"], "submit", world.applicant)
    set_today(date(2026, 3, 15) + timedelta(days=400))
    verdict = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.province)).json()
    assert verdict["judged_on"] == "2026-03-15"
    assert verdict["recorded"] is True


async def test_dates_are_iso_text_and_patch_fields_are_not_nullable(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    application = await draft(client, world)
    base = f"/api/v1/applications/{application['id']}"
    numeric = await client.post(
        f"{base}/approve", json={"decision_date": 0, "document_no": "豫科〔2026〕1号"}, headers=world.province
    )
    assert numeric.status_code == 422
    assert numeric.json()["errors"][0]["loc"] == ["body", "decision_date"]
    visit = await client.post(
        f"{base}/site-visits", json={"visited_on": 86400, "members": ["甲"], "findings": "好"}, headers=world.province
    )
    assert visit.status_code == 422
    assert visit.json()["errors"][0]["loc"] == ["body", "visited_on"]
    nulled = await client.patch(base, json={"proposed_name": None}, headers=world.applicant)
    assert nulled.status_code == 422
    assert nulled.json()["errors"][0]["loc"] == ["body", "proposed_name"]
