"""Expert review, site visits and approval (issue 4, domain.md §5): the panel, scores, the verdict and who sees what."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.api.helpers import (
    APPROVAL,
    CRITERIA_GOOD,
    FACTS,
    PLAN,
    SHANGHAI,
    World,
    act,
    attach_evidence,
    criteria_for_total,
    draft,
    expert,
    experts,
    formal_review,
    locs,
    make_world,
    other_lead,
    pinned_clock,
    problem,
    put_panel,
    recommended,
    reviewed,
    score,
    submitted,
    under_review,
)
from tests.conftest import TokenFactory
from tests.factories import create_org

APPS = "/api/v1/applications"


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: TokenFactory) -> World:
    return await make_world(client, auth)


async def review_of(client: httpx.AsyncClient, application_id: str, headers: dict[str, str]) -> httpx.Response:
    return await client.get(f"{APPS}/{application_id}/review", headers=headers)


# --- the panel ---------------------------------------------------------------------------------------------------


async def test_the_province_forms_a_panel_of_five_covering_every_category(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    response = await put_panel(client, application["id"], world.province, panel)
    assert response.status_code == 200, response.text
    assert response.json() == {"application_id": application["id"], "expert_ids": [e["id"] for e in panel]}
    # Until the review opens the panel may be re-formed.
    replacement = await experts(client, world.province, 6)
    response = await put_panel(client, application["id"], world.province, replacement)
    assert response.status_code == 200, response.text
    view = (await review_of(client, application["id"], world.province)).json()
    assert [m["expert_id"] for m in view["panel"]] == [e["id"] for e in replacement]
    assert view["panel_size"] == 6


async def test_a_panel_of_four_is_too_small(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world)
    body = problem(
        await put_panel(client, application["id"], world.province, await experts(client, world.province, 4)),
        409,
        "rule-violation",
    )
    assert body["rule"] == "panel-too-small"
    assert (body["min_size"], body["size"]) == (5, 4)


@pytest.mark.parametrize("missing", ["technical", "financial", "management"])
async def test_a_panel_missing_a_category_is_refused(client: httpx.AsyncClient, world: World, missing: str) -> None:
    application = await recommended(client, world)
    others = tuple(c for c in ("technical", "financial", "management") if c != missing)
    panel = await experts(client, world.province, 5, categories=others)
    body = problem(await put_panel(client, application["id"], world.province, panel), 409, "rule-violation")
    assert body["rule"] == "panel-missing-category"
    assert body["missing"] == [missing]


@pytest.mark.parametrize(
    ("relation", "org"),
    [
        ("affiliation", "lead"),
        ("affiliation", "participant"),
        ("declared_conflict", "lead"),
        ("declared_conflict", "participant"),
    ],
)
async def test_an_expert_with_a_conflict_must_recuse_and_is_named(
    client: httpx.AsyncClient, world: World, relation: str, org: str
) -> None:
    application = await recommended(client, world)
    org_id = world.lead["id"] if org == "lead" else world.university["id"]
    unrelated = await create_org(client, world.province, kind="university")
    overrides: dict[str, Any] = (
        {"affiliation_org_id": org_id}
        if relation == "affiliation"
        else {"affiliation_org_id": unrelated["id"], "declared_conflict_org_ids": [unrelated["id"], org_id]}
    )
    conflicted = await expert(client, world.province, "financial", **overrides)
    panel = [*await experts(client, world.province, 5), conflicted]
    body = problem(await put_panel(client, application["id"], world.province, panel), 409, "conflict-of-interest")
    assert body["expert_id"] == conflicted["id"]
    assert body["org_id"] == org_id
    assert body["cause"] == relation
    assert conflicted["id"] in body["detail"]


async def test_an_expert_affiliated_elsewhere_may_sit(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world)
    unrelated = await create_org(client, world.province, kind="university")
    panel = [
        *await experts(client, world.province, 4),
        await expert(client, world.province, "management", affiliation_org_id=unrelated["id"]),
    ]
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200


async def test_a_panel_naming_an_unknown_expert_is_422(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    ids = [e["id"] for e in panel]
    ids.insert(2, str(uuid.uuid4()))
    response = await client.put(f"{APPS}/{application['id']}/panel", json={"expert_ids": ids}, headers=world.province)
    assert problem(response, 422, "validation-failed")["errors"][0]["loc"] == ["body", "expert_ids", 2]


async def test_a_panel_naming_an_expert_twice_is_refused(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    response = await put_panel(client, application["id"], world.province, [*panel, panel[0]])
    assert problem(response, 409, "rule-violation")["rule"] == "panel-duplicate-expert"


@pytest.mark.parametrize("role", ["supervisor", "applicant", "expert", "observer", "third_party"])
async def test_only_the_province_forms_panels(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, role: str
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    headers = {"supervisor": world.supervisor, "applicant": world.applicant}.get(role) or auth(
        role, org_id=uuid.uuid4(), expert_id=panel[0]["id"]
    )
    problem(await put_panel(client, application["id"], headers, panel), 404, "not-found")


async def test_a_draft_gets_no_panel(client: httpx.AsyncClient, world: World) -> None:
    application = await draft(client, world)
    response = await put_panel(client, application["id"], world.province, await experts(client, world.province, 5))
    assert problem(response, 409, "invalid-transition")["current_status"] == "draft"


async def test_during_review_only_members_who_have_not_scored_are_replaced_and_with_a_reason(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application, panel = await under_review(client, world, auth)
    await score(client, application["id"], auth, panel[0], criteria_for_total(80), expected=201)
    path = f"{APPS}/{application['id']}/panel"
    substitute = await expert(client, world.province, panel[1]["category"])
    swapped = [panel[0]["id"], substitute["id"], *[e["id"] for e in panel[2:]]]
    no_reason = await client.put(path, json={"expert_ids": swapped}, headers=world.province)
    assert locs(problem(no_reason, 422, "validation-failed")) == [["body", "reason"]]
    scored_out = [substitute["id"], *[e["id"] for e in panel[1:]]]
    refused = await client.put(path, json={"expert_ids": scored_out, "reason": "调整"}, headers=world.province)
    assert locs(problem(refused, 422, "validation-failed")) == [["body", "expert_ids"]]
    too_small = await client.put(path, json={"expert_ids": swapped[:4], "reason": "生病"}, headers=world.province)
    assert problem(too_small, 409, "rule-violation")["rule"] == "panel-too-small"
    replaced = await client.put(
        path, json={"expert_ids": swapped, "reason": "专家因病无法评审"}, headers=world.province
    )
    assert replaced.status_code == 200, replaced.text
    view = (await review_of(client, application["id"], world.province)).json()
    assert [m["expert_id"] for m in view["panel"]] == swapped
    assert view["scores_received"] == 1
    # The replaced member is off the panel: it can no longer score, and the review waits only for current members.
    await score(client, application["id"], auth, panel[1], criteria_for_total(80), expected=404)
    actions = (await client.get(f"{APPS}/{application['id']}/actions", headers=world.province)).json()
    conclude = next(a for a in actions if a["action"] == "conclude_review")
    assert [b["missing_count"] for b in conclude["blocked_by"]] == [4]
    for member in [substitute, *panel[2:]]:
        await score(client, application["id"], auth, member, criteria_for_total(80), expected=201)
    concluded = await act(client, application["id"], "conclude_review", world.province)
    assert concluded["aggregate_score"] == "80.00"


async def test_open_review_needs_a_panel(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world)
    body = problem(
        await client.post(f"{APPS}/{application['id']}/open_review", headers=world.province), 409, "rule-violation"
    )
    assert body["rule"] == "panel-missing"


async def test_open_review_rechecks_a_conflict_declared_after_the_panel_was_formed(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    response = await client.patch(
        f"/api/v1/experts/{panel[3]['id']}",
        json={"declared_conflict_org_ids": [world.lead["id"]]},
        headers=world.province,
    )
    assert response.status_code == 200, response.text
    body = problem(
        await client.post(f"{APPS}/{application['id']}/open_review", headers=world.province),
        409,
        "conflict-of-interest",
    )
    assert (body["expert_id"], body["org_id"]) == (panel[3]["id"], world.lead["id"])


# --- scores ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "value", "expected"),
    [
        ("foundation", 30, 201),
        ("foundation", 31, 422),
        ("foundation", -1, 422),
        ("foundation", "29.5", 201),
        ("foundation", "29.555", 422),
        ("goals_and_tasks", 25, 201),
        ("goals_and_tasks", 26, 422),
        ("organization_and_governance", 20, 201),
        ("organization_and_governance", 21, 422),
        ("funding", 15, 201),
        ("funding", "15.01", 422),
        ("schedule", 0, 201),
        ("schedule", 11, 422),
    ],
)
async def test_each_criterion_is_bounded_by_its_maximum(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, criterion: str, value: Any, expected: int
) -> None:
    application, panel = await under_review(client, world, auth)
    response = await score(client, application["id"], auth, panel[0], {**CRITERIA_GOOD, criterion: value})
    if expected == 201:
        assert response.status_code == 201, response.text
        assert response.json()["criteria"][criterion] == f"{float(value):.2f}"
    else:
        body = problem(response, 422, "validation-failed")
        assert [e["loc"] for e in body["errors"]] == [["body", "criteria", criterion]]


async def test_a_missing_criterion_or_opinion_is_422(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application, panel = await under_review(client, world, auth)
    criteria = {k: v for k, v in CRITERIA_GOOD.items() if k != "funding"}
    body = problem(await score(client, application["id"], auth, panel[0], criteria), 422, "validation-failed")
    assert ["body", "criteria", "funding"] in [e["loc"] for e in body["errors"]]
    response = await client.put(
        f"{APPS}/{application['id']}/scores/me",
        json={"criteria": CRITERIA_GOOD, "opinion": "", "support": True},
        headers=auth("expert", expert_id=panel[0]["id"]),
    )
    assert ["body", "opinion"] in [e["loc"] for e in problem(response, 422, "validation-failed")["errors"]]


async def test_an_expert_revises_its_score_until_the_review_concludes(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application, panel = await under_review(client, world, auth)
    first = await score(client, application["id"], auth, panel[0], criteria_for_total(60), support=False, expected=201)
    assert first.json()["total"] == "60.00"
    again = await score(client, application["id"], auth, panel[0], criteria_for_total(85), support=True, expected=200)
    assert (again.json()["total"], again.json()["support"]) == ("85.00", True)
    mine = (await review_of(client, application["id"], auth("expert", expert_id=panel[0]["id"]))).json()["my_score"]
    assert (mine["total"], mine["support"]) == ("85.00", True)

    for member in panel[1:]:
        await score(client, application["id"], auth, member, criteria_for_total(80), expected=201)
    await act(client, application["id"], "conclude_review", world.province)
    late = await score(client, application["id"], auth, panel[0], criteria_for_total(10))
    body = problem(late, 409, "invalid-transition")
    assert body["current_status"] == "reviewed"
    assert body["allowed_actions"] == []
    province_view = (await review_of(client, application["id"], world.province)).json()
    totals = {s["expert_id"]: s["total"] for s in province_view["scores"]}
    assert totals[panel[0]["id"]] == "85.00"


async def test_a_panel_member_cannot_score_before_the_review_opens(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    problem(await score(client, application["id"], auth, panel[0], CRITERIA_GOOD), 409, "invalid-transition")


async def test_an_expert_off_the_panel_finds_nothing(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application, _ = await under_review(client, world, auth)
    outsider = await expert(client, world.province)
    headers = auth("expert", expert_id=outsider["id"])
    problem(await client.get(f"{APPS}/{application['id']}", headers=headers), 404, "not-found")
    problem(await score(client, application["id"], auth, outsider, CRITERIA_GOOD), 404, "not-found")
    problem(await review_of(client, application["id"], headers), 404, "not-found")
    listed = (await client.get(APPS, headers=headers)).json()
    assert listed["items"] == []


@pytest.mark.parametrize("role", ["province", "supervisor", "applicant", "observer", "third_party"])
async def test_only_panel_experts_score(client: httpx.AsyncClient, world: World, auth: TokenFactory, role: str) -> None:
    application, _ = await under_review(client, world, auth)
    headers = {"province": world.province, "supervisor": world.supervisor, "applicant": world.applicant}.get(
        role
    ) or auth(role, org_id=uuid.uuid4())
    response = await client.put(
        f"{APPS}/{application['id']}/scores/me",
        json={"criteria": CRITERIA_GOOD, "opinion": "意见", "support": True},
        headers=headers,
    )
    problem(response, 404, "not-found")


# --- conclusion and the verdict ----------------------------------------------------------------------------------


async def test_the_review_cannot_conclude_before_every_member_has_scored(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application, panel = await under_review(client, world, auth)
    for member in panel[:3]:
        await score(client, application["id"], auth, member, CRITERIA_GOOD, expected=201)
    body = problem(
        await client.post(f"{APPS}/{application['id']}/conclude_review", headers=world.province),
        409,
        "rule-violation",
    )
    assert body["rule"] == "scores-missing"
    assert body["missing_count"] == 2
    # Nothing names the experts who are late.
    assert all(member["id"] not in json.dumps(body) for member in panel)


@pytest.mark.parametrize(
    ("totals", "supports", "aggregate", "passed"),
    [
        ((95, 60, 80, 75, 70), (True,) * 5, "75.00", True),
        ((72, 65, 68, 90, 50), (True,) * 5, "68.33", False),
        ((70, 70, 70, 70, 70), (True,) * 5, "70.00", True),
        ((80, 80, 80, 80, 80), (True, True, False, False, False), "80.00", False),
        ((80, 80, 80, 80, 80), (True, True, True, False, False), "80.00", True),
        ((100, 100, 69, 69, 0), (True,) * 5, "79.33", True),
        ((90, 90, 90, 90, 90, 10), (True, True, True, False, False, False), "90.00", False),
    ],
    ids=["trimmed-75", "trimmed-68.33", "exactly-70", "opposed-majority", "bare-majority", "ties", "six-split"],
)
async def test_the_trimmed_mean_and_the_majority_decide(
    client: httpx.AsyncClient,
    world: World,
    auth: TokenFactory,
    totals: tuple[int, ...],
    supports: tuple[bool, ...],
    aggregate: str,
    passed: bool,
) -> None:
    concluded, _ = await reviewed(client, world, auth, totals, supports)
    assert concluded["status"] == "reviewed"
    assert (concluded["aggregate_score"], concluded["review_passed"]) == (aggregate, passed)
    assert concluded["review_concluded_at"] is not None
    view = (await review_of(client, concluded["id"], world.province)).json()
    assert (view["aggregate_score"], view["passed"], view["concluded"]) == (aggregate, passed, True)
    response = await client.post(f"{APPS}/{concluded['id']}/approve", json=APPROVAL, headers=world.province)
    if passed:
        assert response.status_code == 200, response.text
    else:
        body = problem(response, 409, "rule-violation")
        assert body["rule"] == "review-not-passed"
        assert body["aggregate_score"] == aggregate
        current = (await client.get(f"{APPS}/{concluded['id']}", headers=world.province)).json()
        assert (current["status"], current["center_id"]) == ("reviewed", None)


async def test_a_failed_review_ends_in_rejection_by_the_province(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth, (72, 65, 68, 90, 50))
    body = problem(
        await client.post(f"{APPS}/{concluded['id']}/reject", headers=world.province), 422, "validation-failed"
    )
    assert body["errors"][0]["loc"] == ["body", "reason"]
    rejected = await act(client, concluded["id"], "reject", world.province, reason="评审未通过")
    assert rejected["status"] == "rejected"
    assert rejected["allowed_actions"] == []
    history = (await client.get(f"{APPS}/{concluded['id']}/history", headers=world.applicant)).json()["items"]
    assert (history[-1]["action"], history[-1]["actor_role"], history[-1]["reason"]) == (
        "reject",
        "province",
        "评审未通过",
    )


async def test_a_revision_round_trip_ends_in_approval(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    body = problem(
        await client.post(f"{APPS}/{concluded['id']}/request_revision", headers=world.province),
        422,
        "validation-failed",
    )
    assert body["errors"][0]["loc"] == ["body", "reason"]
    revising = await act(client, concluded["id"], "request_revision", world.province, reason="请细化经费投入方案")
    assert revising["status"] == "revising"
    applicant_view = (await client.get(f"{APPS}/{concluded['id']}", headers=world.applicant)).json()
    assert applicant_view["allowed_actions"] == ["withdraw", "resubmit"]

    # An emptied section is refused on resubmission; a completed plan goes back to `reviewed`.
    response = await client.patch(
        f"{APPS}/{concluded['id']}", json={"plan": {**PLAN, "funding": ""}}, headers=world.applicant
    )
    assert response.status_code == 200, response.text
    body = problem(
        await client.post(f"{APPS}/{concluded['id']}/resubmit", headers=world.applicant), 409, "rule-violation"
    )
    assert (body["rule"], body["missing_sections"]) == ("plan-incomplete", ["funding"])
    revised_plan = {**PLAN, "funding": "省级财政支持2000万元，企业自筹8000万元。"}
    response = await client.patch(f"{APPS}/{concluded['id']}", json={"plan": revised_plan}, headers=world.applicant)
    assert response.status_code == 200, response.text
    resubmitted = await act(client, concluded["id"], "resubmit", world.applicant)
    assert resubmitted["status"] == "reviewed"
    assert resubmitted["plan"]["funding"] == revised_plan["funding"]

    approved = await act(client, concluded["id"], "approve", world.province, **APPROVAL)
    assert approved["status"] == "approved"
    history = (await client.get(f"{APPS}/{concluded['id']}/history", headers=world.province)).json()["items"]
    assert [h["action"] for h in history][-4:] == ["conclude_review", "request_revision", "resubmit", "approve"]
    assert history[-3]["reason"] == "请细化经费投入方案"


async def test_a_revision_that_breaks_eligibility_cannot_be_resubmitted(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    await act(client, concluded["id"], "request_revision", world.province, reason="请调整组建方案")
    path = f"{APPS}/{concluded['id']}"
    response = await client.patch(path, json={"facts": {**FACTS, "rd_staff": 50}}, headers=world.applicant)
    assert response.status_code == 200, response.text
    live = (await client.get(f"{path}/eligibility", headers=world.applicant)).json()
    assert (live["recorded"], live["eligible"]) == (False, False)

    body = problem(await client.post(f"{path}/resubmit", headers=world.applicant), 409, "ineligible")
    assert [c["rule"] for c in body["checks"]] == ["rd_staff_ratio"]
    assert (await client.get(path, headers=world.province)).json()["status"] == "revising"

    # Restored, it goes back with a fresh verdict on record, which approval then rests on.
    response = await client.patch(path, json={"facts": {**FACTS, "rd_staff": 120}}, headers=world.applicant)
    assert response.status_code == 200, response.text
    assert (await act(client, concluded["id"], "resubmit", world.applicant))["status"] == "reviewed"
    recorded = (await client.get(f"{path}/eligibility", headers=world.applicant)).json()
    assert (recorded["recorded"], recorded["eligible"]) == (True, True)
    assert {c["rule"]: c["actual"] for c in recorded["checks"]}["rd_staff_ratio"] == "12.00%"
    assert (await act(client, concluded["id"], "approve", world.province, **APPROVAL))["status"] == "approved"


async def test_the_lead_may_withdraw_while_revising(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    await act(client, concluded["id"], "request_revision", world.province, reason="请完善方案")
    withdrawn = await act(client, concluded["id"], "withdraw", world.applicant)
    assert (withdrawn["status"], withdrawn["allowed_actions"]) == ("withdrawn", [])
    problem(
        await client.post(f"{APPS}/{concluded['id']}/approve", json=APPROVAL, headers=world.province),
        409,
        "invalid-transition",
    )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"document_no": "豫科〔2026〕1号"}, ["body", "decision_date"]),
        # Without a number the register issues one (issue 16 §4); a number given is not empty.
        ({"decision_date": "2026-08-11", "document_no": ""}, ["body", "document_no"]),
        ({"decision_date": "2026-02-30", "document_no": "豫科〔2026〕1号"}, ["body", "decision_date"]),
    ],
    ids=["no-date", "empty-number", "bad-date"],
)
async def test_approval_needs_a_decision_date_and_a_document_number_if_one_is_given(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, body: dict[str, str], loc: list[str]
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    response = await client.post(f"{APPS}/{concluded['id']}/approve", json=body, headers=world.province)
    assert problem(response, 422, "validation-failed")["errors"][0]["loc"] == loc
    current = (await client.get(f"{APPS}/{concluded['id']}", headers=world.province)).json()
    assert current["status"] == "reviewed"


async def test_approval_creates_the_center_numbered_within_its_decision_year(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    response = await client.post(f"{APPS}/{concluded['id']}/approve", json=APPROVAL, headers=world.province)
    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["status"] == "approved"
    assert (approved["decision_date"], approved["document_no"]) == ("2026-08-11", "豫科〔2026〕1号")
    center = (await client.get(f"/api/v1/centers/{approved['center_id']}", headers=world.applicant)).json()
    assert center["code"] == "HNTIC-2026-001"
    assert center["status"] == "approved"
    assert (center["approved_on"], center["approval_document_no"]) == ("2026-08-11", "豫科〔2026〕1号")
    assert (center["name"], center["field"], center["lead_org_id"]) == (
        concluded["proposed_name"],
        "equipment_manufacturing",
        world.lead["id"],
    )
    assert center["application_id"] == concluded["id"]
    assert center["participants"] == concluded["participants"]

    # A second approval the same year takes the next number; another year starts again at 001 (and so does the
    # document register: 豫科〔2026〕2号, then 豫科〔2027〕1号).
    codes, numbers = [], []
    for decision_date in ("2026-12-31", "2027-01-01"):
        _, applicant = await other_lead(client, world, auth)
        application = await submitted_by(client, world, applicant, world.call["id"])
        await act(client, application["id"], "recommend", world.supervisor)
        await formal_review(client, application["id"], world.province)
        panel = await experts(client, world.province, 5)
        assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
        await act(client, application["id"], "open_review", world.province)
        for member in panel:
            await score(client, application["id"], auth, member, criteria_for_total(80), expected=201)
        await act(client, application["id"], "conclude_review", world.province)
        # A decision is not dated in the future: these approvals are taken on 2 January 2027.
        with pinned_clock(client, datetime(2027, 1, 2, 12, tzinfo=SHANGHAI)):
            done = await act(
                client,
                application["id"],
                "approve",
                world.province,
                decision_date=decision_date,
            )
        codes.append((await client.get(f"/api/v1/centers/{done['center_id']}", headers=world.province)).json()["code"])
        numbers.append(done["document_no"])
    assert codes == ["HNTIC-2026-002", "HNTIC-2027-001"]
    assert numbers == ["豫科〔2026〕2号", "豫科〔2027〕1号"]
    history = (await client.get(f"{APPS}/{concluded['id']}/history", headers=world.province)).json()["items"]
    assert (history[-1]["action"], history[-1]["decision_date"]) == ("approve", "2026-08-11")


async def submitted_by(
    client: httpx.AsyncClient, world: World, applicant: dict[str, str], call_id: str
) -> dict[str, Any]:
    application = await draft(client, world, applicant, call_id=call_id)
    await attach_evidence(client, application["id"], applicant)
    return await act(client, application["id"], "submit", applicant)


async def test_an_approved_application_cannot_be_approved_again(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    first = await act(client, concluded["id"], "approve", world.province, **APPROVAL)
    body = problem(
        await client.post(f"{APPS}/{concluded['id']}/approve", json=APPROVAL, headers=world.province),
        409,
        "invalid-transition",
    )
    assert (body["current_status"], body["allowed_actions"]) == ("approved", [])
    centers = (await client.get("/api/v1/centers", headers=world.province)).json()["items"]
    assert [c["id"] for c in centers] == [first["center_id"]]


# --- who sees what -----------------------------------------------------------------------------------------------


def assert_anonymous(response: httpx.Response, panel: list[dict[str, Any]]) -> dict[str, Any]:
    """No expert id, name or individual score anywhere in the response."""
    assert response.status_code == 200, response.text
    for member in panel:
        assert member["id"] not in response.text
        assert member["name"] not in response.text
    body: dict[str, Any] = response.json()
    assert body["panel"] is None
    assert body["scores"] is None
    assert body["my_score"] is None
    for opinion in body["opinions"] or []:
        assert set(opinion) == {"opinion", "support"}
    for visit in body["site_visits"]:
        assert visit["members"] is None
    return body


async def test_the_province_sees_the_panel_and_every_score(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, panel = await reviewed(client, world, auth)
    view = (await review_of(client, concluded["id"], world.province)).json()
    # A panel set by hand counts as accepted, without a reply deadline; nobody is late once the review concluded.
    assert view["panel"] == [
        {
            "expert_id": e["id"],
            "name": e["name"],
            "category": e["category"],
            "status": "accepted",
            "reply_by": None,
            "late": False,
        }
        for e in panel
    ]
    totals = {s["expert_id"]: s["total"] for s in view["scores"]}
    assert totals == {e["id"]: f"{t}.00" for e, t in zip(panel, (95, 60, 80, 75, 70), strict=True)}
    assert all(set(s["criteria"]) == set(CRITERIA_GOOD) for s in view["scores"])
    assert (view["panel_size"], view["scores_received"]) == (5, 5)


async def test_an_expert_sees_only_its_own_score(client: httpx.AsyncClient, world: World, auth: TokenFactory) -> None:
    application, panel = await under_review(client, world, auth)
    for member, total in zip(panel, (95, 60, 80, 75, 70), strict=True):
        await score(client, application["id"], auth, member, criteria_for_total(total), expected=201)
    response = await review_of(client, application["id"], auth("expert", expert_id=panel[1]["id"]))
    assert response.status_code == 200
    view = response.json()
    assert view["my_score"]["total"] == "60.00"
    assert "expert_id" not in view["my_score"] or view["my_score"]["expert_id"] is None
    assert (view["panel"], view["scores"], view["aggregate_score"], view["passed"]) == (None, None, None, None)
    for other in panel:
        if other is not panel[1]:
            assert other["id"] not in response.text
            assert other["name"] not in response.text


@pytest.mark.parametrize("role", ["applicant", "supervisor", "observer"])
async def test_before_conclusion_others_see_neither_aggregate_nor_opinions(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, role: str
) -> None:
    application, panel = await under_review(client, world, auth)
    for member in panel:
        await score(client, application["id"], auth, member, CRITERIA_GOOD, expected=201)
    headers = {"applicant": world.applicant, "supervisor": world.supervisor}.get(role) or auth(role)
    body = assert_anonymous(await review_of(client, application["id"], headers), panel)
    assert (body["concluded"], body["aggregate_score"], body["passed"], body["opinions"]) == (False, None, None, None)
    assert body["status"] == "under_review"


@pytest.mark.parametrize("role", ["applicant", "supervisor", "observer"])
async def test_after_conclusion_others_see_the_verdict_and_anonymous_opinions(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, role: str
) -> None:
    application, panel = await under_review(client, world, auth)
    opinions = ["基础扎实。", "团队较强。", "经费来源需落实。", "目标明确。", "进度安排合理。"]
    for member, total, opinion in zip(panel, (95, 60, 80, 75, 70), opinions, strict=True):
        await score(
            client, application["id"], auth, member, criteria_for_total(total), support=total >= 70, opinion=opinion
        )
    await client.post(
        f"{APPS}/{application['id']}/site-visits",
        json={"visited_on": "2026-07-01", "members": [panel[0]["name"], panel[1]["name"]], "findings": "场地落实。"},
        headers=world.province,
    )
    await act(client, application["id"], "conclude_review", world.province)
    headers = {"applicant": world.applicant, "supervisor": world.supervisor}.get(role) or auth(role)
    response = await review_of(client, application["id"], headers)
    body = assert_anonymous(response, panel)
    assert (body["concluded"], body["aggregate_score"], body["passed"]) == (True, "75.00", True)
    assert sorted(o["opinion"] for o in body["opinions"]) == sorted(opinions)
    assert sorted(o["support"] for o in body["opinions"]) == [False, True, True, True, True]
    assert [v["findings"] for v in body["site_visits"]] == ["场地落实。"]
    # The individual totals (95, 60, ...) appear nowhere; only the aggregate does.
    for total in ("95.00", "60.00", "80.00", "70.00"):
        assert total not in response.text
    # Nor does the application itself name the panel.
    application_text = (await client.get(f"{APPS}/{application['id']}", headers=headers)).text
    assert all(member["id"] not in application_text for member in panel)


async def test_the_event_feed_never_names_an_expert(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, connection: AsyncConnection
) -> None:
    concluded, panel = await reviewed(client, world, auth)
    await act(client, concluded["id"], "approve", world.province, **APPROVAL)
    feed = " ".join((await connection.execute(text("SELECT data::text || actor_sub FROM events"))).scalars())
    assert "application.panel_formed" in " ".join((await connection.execute(text("SELECT type FROM events"))).scalars())
    for member in panel:
        assert member["id"] not in feed
        assert member["name"] not in feed


# --- site visits -------------------------------------------------------------------------------------------------


async def test_site_visits_are_recorded_and_listed(client: httpx.AsyncClient, world: World, auth: TokenFactory) -> None:
    application, panel = await under_review(client, world, auth)
    visits = [
        {"visited_on": "2026-07-02", "members": ["张工", "李工"], "findings": "研发场地2000平方米。"},
        {"visited_on": "2026-07-01", "members": ["王工"], "findings": "设备台账齐全。"},
    ]
    for visit in visits:
        response = await client.post(f"{APPS}/{application['id']}/site-visits", json=visit, headers=world.province)
        assert response.status_code == 201, response.text
        assert {k: response.json()[k] for k in visit} == visit
        assert response.json()["id"]
    province_view = (await review_of(client, application["id"], world.province)).json()
    assert [(v["visited_on"], v["members"]) for v in province_view["site_visits"]] == [
        ("2026-07-01", ["王工"]),
        ("2026-07-02", ["张工", "李工"]),
    ]
    expert_view = (await review_of(client, application["id"], auth("expert", expert_id=panel[0]["id"]))).json()
    assert len(expert_view["site_visits"]) == 2
    applicant_view = (await review_of(client, application["id"], world.applicant)).json()
    assert [(v["findings"], v["members"]) for v in applicant_view["site_visits"]] == [
        ("设备台账齐全。", None),
        ("研发场地2000平方米。", None),
    ]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"members": ["张工"], "findings": "x"}, ["body", "visited_on"]),
        ({"visited_on": "2026-07-01", "members": [], "findings": "x"}, ["body", "members"]),
        ({"visited_on": "2026-07-01", "members": ["张工"], "findings": ""}, ["body", "findings"]),
    ],
)
async def test_a_site_visit_needs_a_date_members_and_findings(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    application = await recommended(client, world)
    response = await client.post(f"{APPS}/{application['id']}/site-visits", json=body, headers=world.province)
    assert loc in [e["loc"] for e in problem(response, 422, "validation-failed")["errors"]]


async def test_only_the_province_records_site_visits_and_only_during_review(
    client: httpx.AsyncClient, world: World
) -> None:
    visit = {"visited_on": "2026-07-01", "members": ["张工"], "findings": "x"}
    early = await submitted(client, world)
    problem(
        await client.post(f"{APPS}/{early['id']}/site-visits", json=visit, headers=world.province),
        409,
        "invalid-transition",
    )
    application = await act(client, early["id"], "recommend", world.supervisor)
    for headers in (world.applicant, world.supervisor):
        problem(
            await client.post(f"{APPS}/{application['id']}/site-visits", json=visit, headers=headers), 404, "not-found"
        )
    response = await client.post(f"{APPS}/{application['id']}/site-visits", json=visit, headers=world.province)
    assert response.status_code == 201, response.text
