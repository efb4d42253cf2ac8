"""The paths off the happy path that used to jam or let the wrong actor decide (issue 11 §3), each at its edge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.api.helpers import (
    APPROVAL,
    SHANGHAI,
    act,
    criteria_for_total,
    draft,
    make_world,
    pinned_clock,
    problem,
    reviewed,
    score,
    submitted,
)
from tests.api.test_centers import TASK_BOOK, accepted_report, import_center, orgs
from tests.factories import create_org

APPS = "/api/v1/applications"


# --- §3.10 a lead without a supervising department -------------------------------------------------------------


async def test_the_province_takes_the_supervisors_steps_for_a_lead_without_one(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    # A provincial enterprise (省属企业) with no supervising department.
    provincial = await create_org(client, world.province, kind="enterprise", is_leading_enterprise=True)
    applicant = auth("applicant", org_id=provincial["id"])
    application = await draft(client, world, applicant)
    await act(client, application["id"], "submit", applicant)
    listing = (await client.get(f"{APPS}/{application['id']}/actions", headers=world.province)).json()
    assert {a["action"] for a in listing if a["allowed"]} == {"return", "reject", "recommend"}
    recommended = await act(client, application["id"], "recommend", world.province)
    assert recommended["status"] == "recommended"


async def test_where_a_supervising_department_exists_the_province_is_told_it_is_the_departments_step(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    application = await submitted(client, world)
    listing = (await client.get(f"{APPS}/{application['id']}/actions", headers=world.province)).json()
    recommend = next(a for a in listing if a["action"] == "recommend")
    assert [b["code"] for b in recommend["blocked_by"]] == ["supervisor-decides"]
    refused = problem(
        await client.post(f"{APPS}/{application['id']}/recommend", headers=world.province), 409, "rule-violation"
    )
    assert refused["blocked_by"] == recommend["blocked_by"]


async def test_the_province_endorses_reports_and_changes_of_a_center_whose_lead_has_no_department(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await orgs(client, auth)
    provincial = await create_org(client, w["province"], kind="enterprise", is_leading_enterprise=True)
    lead = auth("applicant", org_id=provincial["id"])
    center = await import_center(client, {**w, "lead": provincial})
    base = f"/api/v1/centers/{center['id']}/annual-reports"
    report = (
        await client.post(base, json={"period_year": 2022, "summary": "s", "plan_next_year": "p"}, headers=lead)
    ).json()
    await client.post(f"{base}/{report['id']}/submit", headers=lead)
    endorsed = await client.post(f"{base}/{report['id']}/endorse", headers=w["province"])
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["status"] == "endorsed"
    changes = f"/api/v1/centers/{center['id']}/change-requests"
    change = (
        await client.post(changes, json={"kind": "director", "new_value": "王主任", "reason": "换届"}, headers=lead)
    ).json()
    endorsed = await client.post(f"{changes}/{change['id']}/endorse", headers=w["province"])
    assert endorsed.status_code == 200, endorsed.text
    approved = await client.post(f"{changes}/{change['id']}/approve", headers=w["province"])
    assert approved.status_code == 200, approved.text
    shown = (await client.get(f"/api/v1/centers/{center['id']}", headers=lead)).json()
    assert shown["governance"]["director"] == "王主任"


# --- §3.9 returned applications may be resubmitted until resubmit_by ----------------------------------------------


async def test_a_return_with_a_deadline_keeps_submission_open_after_the_call_closes(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    application = await submitted(client, world)
    today = datetime.now(SHANGHAI).date()
    too_far = await client.post(
        f"{APPS}/{application['id']}/return",
        json={"reason": "请补充材料", "resubmit_by": (today + timedelta(days=31)).isoformat()},
        headers=world.supervisor,
    )
    assert problem(too_far, 422, "validation-failed")["errors"][0]["loc"] == ["body", "resubmit_by"]
    deadline = today + timedelta(days=30)
    returned = await act(
        client, application["id"], "return", world.supervisor, reason="请补充材料", resubmit_by=deadline.isoformat()
    )
    assert (returned["status"], returned["resubmit_by"]) == ("returned", deadline.isoformat())
    assert (await client.post(f"/api/v1/calls/{world.call['id']}/close", headers=world.province)).status_code == 200
    with pinned_clock(client, datetime.combine(deadline, datetime.min.time(), SHANGHAI) + timedelta(hours=23)):
        again = await act(client, application["id"], "submit", world.applicant)
    assert again["status"] == "submitted"


async def test_after_its_deadline_a_returned_application_of_a_closed_call_can_only_be_withdrawn(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    application = await submitted(client, world)
    deadline = datetime.now(SHANGHAI).date() + timedelta(days=3)
    await act(client, application["id"], "return", world.supervisor, reason="补充", resubmit_by=deadline.isoformat())
    await client.post(f"/api/v1/calls/{world.call['id']}/close", headers=world.province)
    with pinned_clock(client, datetime.combine(deadline + timedelta(days=1), datetime.min.time(), SHANGHAI)):
        refused = problem(
            await client.post(f"{APPS}/{application['id']}/submit", headers=world.applicant), 409, "rule-violation"
        )
    assert refused["rule"] == "call-not-open"
    assert refused["allowed_actions"] == ["withdraw"]


# --- §3.8 a review is re-opened once on a revised plan -----------------------------------------------------------


async def test_a_failed_review_is_revised_and_reviewed_once_more_then_only_decided(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    failed, panel = await reviewed(client, world, auth, totals=(60, 60, 60, 60, 60))
    assert failed["review_passed"] is False
    path = f"{APPS}/{failed['id']}"
    not_yet = problem(await client.post(f"{path}/open_review", headers=world.province), 409, "rule-violation")
    assert [b["code"] for b in not_yet["blocked_by"]] == ["not-revised"]
    await act(client, failed["id"], "request_revision", world.province, reason="请完善建设方案")
    await act(client, failed["id"], "resubmit", world.applicant)
    reopened = await act(client, failed["id"], "open_review", world.province)
    assert (reopened["status"], reopened["review_round"], reopened["aggregate_score"]) == ("under_review", 2, None)
    # The first round's sheets no longer count: every member scores again.
    view = (await client.get(f"{path}/review", headers=world.province)).json()
    assert view["scores_received"] == 0
    for member in panel:
        await score(client, failed["id"], auth, member, criteria_for_total(85), expected=201)
    passed = await act(client, failed["id"], "conclude_review", world.province)
    assert (passed["aggregate_score"], passed["review_passed"]) == ("85.00", True)
    await act(client, failed["id"], "request_revision", world.province, reason="再完善")
    await act(client, failed["id"], "resubmit", world.applicant)
    exhausted = problem(await client.post(f"{path}/open_review", headers=world.province), 409, "rule-violation")
    assert [b["code"] for b in exhausted["blocked_by"]] == ["review-rounds-exhausted"]
    assert set(exhausted["allowed_actions"]) == {"request_revision", "approve", "reject"}


# --- §3.15 an approval is dated sensibly -------------------------------------------------------------------------


async def test_an_approval_is_dated_not_in_the_future_and_not_before_the_review_concluded(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    # Concluded on 2026-08-10 (helpers.CONCLUDED_AT), and its 公示 ran that day: the approval is dated after both.
    concluded, _ = await reviewed(client, world, auth)
    path = f"{APPS}/{concluded['id']}/approve"
    tomorrow = (datetime.now(SHANGHAI).date() + timedelta(days=1)).isoformat()
    for decision_date in ("2026-08-09", "2026-08-10", tomorrow):
        refused = await client.post(path, json={**APPROVAL, "decision_date": decision_date}, headers=world.province)
        assert problem(refused, 422, "validation-failed")["errors"][0]["loc"] == ["body", "decision_date"]
    approved = await client.post(path, json={**APPROVAL, "decision_date": "2026-08-11"}, headers=world.province)
    assert approved.status_code == 200, approved.text


# --- §3.12 exit requests are declined or withdrawn, then asked again ----------------------------------------------


async def test_an_exit_request_can_be_declined_or_withdrawn_and_asked_again(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    path = f"/api/v1/centers/{center['id']}"
    asked = await client.post(f"{path}/request_exit", json={"reason": "战略调整"}, headers=w["applicant"])
    assert asked.status_code == 200, asked.text
    no_reason = await client.post(f"{path}/decline_exit", headers=w["province"])
    assert problem(no_reason, 422, "validation-failed")["errors"][0]["loc"] == ["body", "reason"]
    declined = await client.post(f"{path}/decline_exit", json={"reason": "建设任务未完成"}, headers=w["province"])
    assert declined.json()["exit_requested_on"] is None
    again = await client.post(f"{path}/request_exit", json={"reason": "再次申请"}, headers=w["applicant"])
    assert again.status_code == 200, again.text
    withdrawn = await client.post(f"{path}/withdraw_exit", headers=w["applicant"])
    assert (withdrawn.status_code, withdrawn.json()["exit_requested_on"]) == (200, None)
    unasked = problem(
        await client.post(f"{path}/exit", json={"decided_on": "2026-01-05"}, headers=w["province"]),
        409,
        "rule-violation",
    )
    assert unasked["rule"] == "exit-not-requested"
    history = (await client.get(f"{path}/history", headers=w["province"])).json()["items"]
    assert [h["action"] for h in history][-4:] == ["request_exit", "decline_exit", "request_exit", "withdraw_exit"]


# --- §3.3 and §3.4 the legal entity, the director and the task book after signing -------------------------------


async def test_the_legal_entity_is_frozen_once_acceptance_is_requested(client: httpx.AsyncClient, auth: Any) -> None:
    from tests.factories import credit_code

    w = await orgs(client, auth)
    center = await import_center(client, w)
    for year in (2022, 2023, 2024, 2025):
        await accepted_report(client, w, center["id"], year)
    entity = {"status": "independent", "kind": "enterprise", "credit_code": credit_code()}
    path = f"/api/v1/centers/{center['id']}"
    assert (await client.patch(path, json={"legal_entity": entity}, headers=w["applicant"])).status_code == 200
    with pinned_clock(client, datetime(2025, 11, 1, 12, tzinfo=SHANGHAI)):
        pending = await client.post(f"{path}/request_acceptance", headers=w["applicant"])
    assert pending.status_code == 200, pending.text
    other = {**entity, "credit_code": credit_code()}
    frozen = problem(
        await client.patch(path, json={"legal_entity": other}, headers=w["applicant"]), 409, "rule-violation"
    )
    assert frozen["rule"] == "legal-entity-frozen"


async def test_the_director_changes_only_by_change_request(client: httpx.AsyncClient, auth: Any) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    path = f"/api/v1/centers/{center['id']}"
    governance = {"board": ["理事甲"], "director": None, "expert_committee": [], "technical_committee": []}
    assert (await client.patch(path, json={"governance": governance}, headers=w["applicant"])).status_code == 200
    refused = await client.patch(
        path, json={"governance": {**governance, "director": "张主任"}}, headers=w["applicant"]
    )
    assert problem(refused, 409, "rule-violation")["rule"] == "director-by-change-request"


async def test_a_signed_task_book_changes_by_change_request_as_a_new_version(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    assert center["task_book_version"] == 1
    base = f"/api/v1/centers/{center['id']}/change-requests"
    moved = {**TASK_BOOK, "ends_on": "2026-11-30"}
    wrong = await client.post(
        base, json={"kind": "task_book", "new_value": moved, "reason": "调整"}, headers=w["applicant"]
    )
    assert problem(wrong, 422, "validation-failed")["errors"][0]["loc"][:2] == ["body", "new_value"]
    revised = {
        **TASK_BOOK,
        "targets": [*TASK_BOOK["targets"], {"code": "T3", "name": "标准", "unit": "项", "target_value": "2"}],
    }
    change = await client.post(
        base, json={"kind": "task_book", "new_value": revised, "reason": "增加标准制定指标"}, headers=w["applicant"]
    )
    assert change.status_code == 201, change.text
    await client.post(f"{base}/{change.json()['id']}/endorse", headers=w["supervisor"])
    approved = await client.post(f"{base}/{change.json()['id']}/approve", headers=w["province"])
    assert approved.status_code == 200, approved.text
    shown = (await client.get(f"/api/v1/centers/{center['id']}", headers=w["province"])).json()
    assert shown["task_book_version"] == 2
    assert [t["code"] for t in shown["task_book"]["targets"]] == ["T1", "T2", "T3"]
    assert shown["task_book_sha256"] != center["task_book_sha256"]
    history = (await client.get(f"/api/v1/centers/{center['id']}/history", headers=w["province"])).json()["items"]
    change_row = next(h for h in history if h["action"] == "change_task_book")
    assert [t["code"] for t in change_row["data"]["old"]["targets"]] == ["T1", "T2"]


async def test_an_unsigned_task_book_is_not_changed_by_change_request(client: httpx.AsyncClient, auth: Any) -> None:
    from tests.api.test_centers import approved_center

    w, center = await approved_center(client, auth)
    book = {**TASK_BOOK, "starts_on": "2026-09-01", "ends_on": None}
    refused = await client.post(
        f"/api/v1/centers/{center['id']}/change-requests",
        json={"kind": "task_book", "new_value": book, "reason": "调整"},
        headers=w["applicant"],
    )
    assert problem(refused, 409, "rule-violation")["rule"] == "task-book-not-signed"
