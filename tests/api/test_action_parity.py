"""Refusing and explaining are one call (issue 11 §1): for every action of every lifecycle and every role that
reaches the resource, a refused POST carries exactly the `blocked_by` that `GET …/actions` lists for it, and the
same `allowed_actions` as the resource shows. And, through HTTP on real PostgreSQL, random sequences of actions by
random roles keep every lifecycle in a declared state with each transition in its history and the feed."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.lifecycles import APPLICATION, APPLICATION_FAST_TRACK
from tests.api.helpers import World, draft, expert, make_world, recommended, reviewed, submitted, under_review
from tests.api.test_assessment import open_cycle, recognized_centers
from tests.api.test_centers import accepted_report, import_center, orgs

ROLES = ("province", "supervisor", "applicant", "expert")


async def assert_parity(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    """POST every action that GET …/actions marks blocked; each refusal must be what the listing said."""
    listing = await client.get(f"{path}/actions", headers=headers)
    if listing.status_code == 404:
        return 0
    assert listing.status_code == 200, listing.text
    allowed = [a["action"] for a in listing.json() if a["allowed"]]
    checked = 0
    for entry in listing.json():
        if entry["allowed"]:
            continue
        refused = await client.post(f"{path}/{entry['action']}", headers=headers)
        assert refused.status_code in (404, 409), (entry["action"], refused.text)
        if refused.status_code == 404:  # roles that never write (observers) are answered as outsiders
            continue
        body = refused.json()
        assert body["blocked_by"] == entry["blocked_by"], (path, entry["action"], body)
        assert body["allowed_actions"] == allowed, (path, entry["action"], body)
        checked += 1
    return checked


async def test_every_application_refusal_is_what_its_actions_listed(client: httpx.AsyncClient, auth: Any) -> None:
    # One world (lead, call) per application: a lead has one live application per call.
    checked = 0
    for build in ("ineligible", "submitted", "recommended", "under_review", "reviewed"):
        world = await make_world(client, auth)
        if build == "ineligible":
            application = await draft(client, world, facts={"rd_staff": 1, "staff_total": 1000})
        elif build == "submitted":
            application = await submitted(client, world)
        elif build == "recommended":
            application = await recommended(client, world)
        elif build == "under_review":
            application, _ = await under_review(client, world, auth)
        else:
            application, _ = await reviewed(client, world, auth)
        tokens = [world.province, world.supervisor, world.applicant, auth("observer")]
        for headers in tokens:
            checked += await assert_parity(client, f"/api/v1/applications/{application['id']}", headers)
    assert checked > 40


async def test_every_center_report_and_change_refusal_is_what_its_actions_listed(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await orgs(client, auth)
    tokens = {role: w[role] for role in ("province", "supervisor", "applicant", "third_party")}
    tokens["observer"] = auth("observer")
    building = await import_center(client, w)
    recognized = await import_center(client, w, status="recognized", recognized_on="2026-01-05")
    report = await accepted_report(client, w, building["id"], 2022)
    draft_report = (
        await client.post(
            f"/api/v1/centers/{building['id']}/annual-reports",
            json={"period_year": 2023, "summary": "s", "plan_next_year": "p"},
            headers=w["applicant"],
        )
    ).json()
    change = (
        await client.post(
            f"/api/v1/centers/{recognized['id']}/change-requests",
            json={"kind": "name", "new_value": "新名称", "reason": "更名"},
            headers=w["applicant"],
        )
    ).json()
    paths = [
        f"/api/v1/centers/{building['id']}",
        f"/api/v1/centers/{recognized['id']}",
        f"/api/v1/centers/{building['id']}/annual-reports/{report['id']}",
        f"/api/v1/centers/{building['id']}/annual-reports/{draft_report['id']}",
        f"/api/v1/centers/{recognized['id']}/change-requests/{change['id']}",
    ]
    checked = 0
    for path in paths:
        for headers in tokens.values():
            checked += await assert_parity(client, path, headers)
    assert checked > 50


async def test_every_assessment_cycle_refusal_is_what_its_actions_listed(client: httpx.AsyncClient, auth: Any) -> None:
    w, _ = await recognized_centers(client, auth, 2)
    cycle = await open_cycle(client, w["province"])
    checked = await assert_parity(client, f"/api/v1/assessment-cycles/{cycle['id']}", w["province"])
    assert checked == 1  # finalize waits for the results


# --- liveness through HTTP ----------------------------------------------------------------------------------------

ACTIONS = tuple(dict.fromkeys(t.action for t in (*APPLICATION.transitions, *APPLICATION_FAST_TRACK.transitions)))
BODIES: dict[str, dict[str, Any]] = {
    "return": {"reason": "请补充材料"},
    "reject": {"reason": "不予支持"},
    "request_revision": {"reason": "请修改建设方案"},
    "approve": {"decision_date": "2026-08-11", "document_no": "豫科〔2026〕1号"},
}


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(steps=st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(ACTIONS)), min_size=4, max_size=10))
async def test_random_actions_by_random_roles_keep_an_application_declared_and_recorded(
    client: httpx.AsyncClient, auth: Any, steps: list[tuple[str, str]]
) -> None:
    world: World = await make_world(client, auth)
    start_in_review = steps[0][0] == "expert"
    application, panel = await under_review(client, world, auth) if start_in_review else (None, [])
    application = application or await draft(client, world)
    outsider = await expert(client, world.province)
    tokens = {
        "province": world.province,
        "supervisor": world.supervisor,
        "applicant": world.applicant,
        "expert": auth("expert", expert_id=(panel[0] if panel else outsider)["id"]),
    }
    path = f"/api/v1/applications/{application['id']}"
    history = len((await client.get(f"{path}/history", headers=world.province)).json())
    for role, action in steps:
        listing = await client.get(f"{path}/actions", headers=tokens[role])
        response = await client.post(f"{path}/{action}", json=BODIES.get(action), headers=tokens[role])
        if response.status_code == 200:
            history += 1
            assert listing.status_code == 200
            assert next(a for a in listing.json() if a["action"] == action)["allowed"]
        elif response.status_code == 409 and listing.status_code == 200:
            listed = next(a for a in listing.json() if a["action"] == action)
            assert response.json()["blocked_by"] == listed["blocked_by"]
        else:
            assert response.status_code in (404, 422), response.text
        now = (await client.get(path, headers=world.province)).json()
        assert now["status"] in APPLICATION.states
        recorded = (await client.get(f"{path}/history", headers=world.province)).json()
        assert len(recorded) == history
        if response.status_code == 200:
            assert recorded[-1]["action"] == action
        if action == "approve" and response.status_code == 200:
            break
    feed = (await client.get("/api/v1/events", params={"limit": 200}, headers=world.province)).json()
    recorded_types = [e["type"] for e in feed["items"] if e["subject_id"] == application["id"]]
    assert len(recorded_types) >= history - 1  # every transition of the application is in the feed


async def test_an_entrusted_agency_is_refused_with_what_its_listing_says(client: httpx.AsyncClient, auth: Any) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    await client.patch(
        f"/api/v1/centers/{center['id']}",
        json={"acceptance_agency_org_id": w["agency"]["id"]},
        headers=w["province"],
    )
    assert await assert_parity(client, f"/api/v1/centers/{center['id']}", w["third_party"]) >= 1
