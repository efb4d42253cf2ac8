"""Change requests (变更, domain.md §6) of every kind through the API: approved, rejected at either step, refused on a
revoked or exited center, and the values each kind refuses to be filed with."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.api.helpers import problem
from tests.api.test_centers import TASK_BOOK, center_action, import_center, orgs
from tests.factories import create_org

API = "/api/v1"

# A kind's new value, built against the world of `orgs` (some kinds name organizations that must exist).
NewValue = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[Any]]


async def _new_name(client: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    return "河南省高端装备技术创新中心"


async def _new_direction(client: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    return "高端装备智能化与绿色制造"


async def _new_director(client: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    return "赵六"


async def _new_participants(client: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    institute = await create_org(client, w["province"], kind="research_institute")
    return [{"org_id": w["university"]["id"], "role": "参建单位"}, {"org_id": institute["id"], "role": "共建单位"}]


async def _new_lead(client: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    successor = await create_org(
        client, w["province"], kind="enterprise", is_leading_enterprise=True, supervisor_id=w["department"]["id"]
    )
    return successor["id"]


async def _new_task_book(client: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    extra = {"code": "T3", "name": "制定标准", "unit": "项", "target_value": "2"}
    return {**TASK_BOOK, "targets": [*TASK_BOOK["targets"], extra]}


def _shown(center: dict[str, Any], kind: str) -> Any:
    """The center's current value for a kind, as GET /centers/{id} shows it."""
    return {
        "name": lambda: center["name"],
        "lead_org": lambda: center["lead_org_id"],
        "research_direction": lambda: center["research_direction"],
        "director": lambda: center["governance"]["director"],
        "participants": lambda: center["participants"],
        "task_book": lambda: center["task_book"],
    }[kind]()


KINDS: dict[str, NewValue] = {
    "name": _new_name,
    "lead_org": _new_lead,
    "research_direction": _new_direction,
    "director": _new_director,
    "participants": _new_participants,
    "task_book": _new_task_book,
}


async def get_center(client: httpx.AsyncClient, w: dict[str, Any], center_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/centers/{center_id}", headers=w["province"])
    assert response.status_code == 200, response.text
    return dict(response.json())


async def file_change(
    client: httpx.AsyncClient, w: dict[str, Any], center_id: str, kind: str, new_value: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/centers/{center_id}/change-requests",
        json={"kind": kind, "new_value": new_value, "reason": f"{kind} 调整"},
        headers=w["applicant"],
    )
    assert response.status_code == 201, response.text
    filed = dict(response.json())
    assert (filed["status"], filed["old_value"], filed["decided_at"]) == ("filed", None, None)
    return filed


async def step(
    client: httpx.AsyncClient, center_id: str, change_id: str, action: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(
        f"{API}/centers/{center_id}/change-requests/{change_id}/{action}", json=body or None, headers=headers
    )


# --- every kind approved ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
async def test_an_approved_change_of_every_kind_applies_and_keeps_the_old_value(
    client: httpx.AsyncClient, auth: Any, kind: str
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    before = _shown(center, kind)
    new_value = await KINDS[kind](client, w)
    change = await file_change(client, w, center["id"], kind, new_value)
    assert change["allowed_actions"] == []  # the lead files; the department and the province decide
    stored = change["new_value"]

    endorsed = await step(client, center["id"], change["id"], "endorse", w["supervisor"])
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["status"] == "endorsed"
    approved = await step(client, center["id"], change["id"], "approve", w["province"])
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["old_value"], body["new_value"]) == ("approved", before, stored)
    assert body["decided_at"] is not None
    assert body["allowed_actions"] == []

    after = await get_center(client, w, center["id"])
    assert _shown(after, kind) == stored
    assert after["status"] == center["status"]  # a change never moves the center's lifecycle
    history = (await client.get(f"{API}/centers/{center['id']}/history", headers=w["province"])).json()["items"]
    entry = next(h for h in history if h["action"] == f"change_{kind}")
    assert (entry["from_status"], entry["to_status"]) == (center["status"], center["status"])
    assert (entry["data"]["old"], entry["data"]["new"]) == (before, stored)
    assert entry["data"]["change_request_id"] == change["id"]
    again = await step(client, center["id"], change["id"], "approve", w["province"])
    assert problem(again, 409, "invalid-transition")["current_status"] == "approved"


@pytest.mark.parametrize(
    ("kind", "first", "second"), [("research_direction", "智能装备", "绿色制造"), ("director", "赵六", "钱七")]
)
async def test_a_second_change_keeps_the_value_the_first_one_set_as_its_old_value(
    client: httpx.AsyncClient, auth: Any, kind: str, first: str, second: str
) -> None:
    # An imported center has no research direction or director yet: only a change sets them.
    w = await orgs(client, auth)
    center = await import_center(client, w)
    assert _shown(center, kind) is None
    olds = []
    for value in (first, second):
        change = await file_change(client, w, center["id"], kind, value)
        await step(client, center["id"], change["id"], "endorse", w["supervisor"])
        approved = await step(client, center["id"], change["id"], "approve", w["province"])
        assert approved.status_code == 200, approved.text
        olds.append(approved.json()["old_value"])
    assert olds == [None, first]
    assert _shown(await get_center(client, w, center["id"]), kind) == second


async def test_an_approved_lead_change_hands_the_center_to_the_new_lead(client: httpx.AsyncClient, auth: Any) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    successor = await _new_lead(client, w)
    change = await file_change(client, w, center["id"], "lead_org", successor)
    await step(client, center["id"], change["id"], "endorse", w["supervisor"])
    listing = await client.get(
        f"{API}/centers/{center['id']}/change-requests/{change['id']}/actions", headers=w["province"]
    )
    assert {a["action"]: a["allowed"] for a in listing.json()} == {"endorse": False, "approve": True, "reject": True}
    assert (await step(client, center["id"], change["id"], "approve", w["province"])).status_code == 200
    new_lead = auth("applicant", org_id=successor)
    assert (await client.get(f"{API}/centers/{center['id']}", headers=new_lead)).status_code == 200
    assert (await client.get(f"{API}/centers/{center['id']}", headers=w["applicant"])).status_code == 404


async def test_a_new_lead_with_a_recent_for_cause_revocation_is_ineligible(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    successor = await _new_lead(client, w)
    # The successor led a center revoked for fraud last year (domain.md: no revocation for cause in 3 years).
    revoked = await import_center(client, {**w, "lead": {"id": successor}})
    await center_action(
        client, revoked["id"], "revoke", w["province"], reason_code="fraud", reason="弄虚作假", decided_on="2026-03-01"
    )
    change = await file_change(client, w, center["id"], "lead_org", successor)
    await step(client, center["id"], change["id"], "endorse", w["supervisor"])
    listing = (
        await client.get(f"{API}/centers/{center['id']}/change-requests/{change['id']}/actions", headers=w["province"])
    ).json()
    approve = next(a for a in listing if a["action"] == "approve")
    assert not approve["allowed"]
    refused = problem(await step(client, center["id"], change["id"], "approve", w["province"]), 409, "ineligible")
    assert [c["rule"] for c in refused["checks"]] == ["no_recent_revocation"]
    assert refused["blocked_by"] == approve["blocked_by"]
    assert (await get_center(client, w, center["id"]))["lead_org_id"] == w["lead"]["id"]


# --- every kind rejected, at either step --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
async def test_a_change_of_every_kind_is_rejected_by_the_department_or_after_it_by_the_province(
    client: httpx.AsyncClient, auth: Any, kind: str
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    early = await file_change(client, w, center["id"], kind, await KINDS[kind](client, w))
    late = await file_change(client, w, center["id"], kind, await KINDS[kind](client, w))

    unexplained = await step(client, center["id"], early["id"], "reject", w["supervisor"])
    assert ["body", "reason"] in [e["loc"] for e in problem(unexplained, 422, "validation-failed")["errors"]]
    # Before the department's review the province may not reject: that step is the department's.
    province_first = await step(client, center["id"], early["id"], "reject", w["province"], reason="不同意")
    assert problem(province_first, 409, "rule-violation")["rule"] == "supervisor-decides"
    rejected = await step(client, center["id"], early["id"], "reject", w["supervisor"], reason="材料不全")
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["old_value"]) == ("rejected", None)

    assert (await step(client, center["id"], late["id"], "endorse", w["supervisor"])).status_code == 200
    department_late = await step(client, center["id"], late["id"], "reject", w["supervisor"], reason="撤回")
    assert problem(department_late, 409, "invalid-transition")["current_status"] == "endorsed"
    rejected = await step(client, center["id"], late["id"], "reject", w["province"], reason="不符合规定")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"

    after = await get_center(client, w, center["id"])
    assert _shown(after, kind) == _shown(center, kind)
    history = (await client.get(f"{API}/centers/{center['id']}/history", headers=w["province"])).json()["items"]
    assert not [h for h in history if h["action"] == f"change_{kind}"]
    for change in (early, late):
        refused = await step(client, center["id"], change["id"], "approve", w["province"])
        assert problem(refused, 409, "invalid-transition")["current_status"] == "rejected"


# --- revoked and exited centers -----------------------------------------------------------------------------------


async def close(client: httpx.AsyncClient, w: dict[str, Any], center_id: str, how: str) -> dict[str, Any]:
    if how == "revoked":
        return await center_action(
            client, center_id, "revoke", w["province"], reason_code="fraud", reason="弄虚作假", decided_on="2026-03-01"
        )
    await center_action(client, center_id, "request_exit", w["applicant"], reason="战略调整")
    return await center_action(client, center_id, "exit", w["province"], decided_on="2026-02-01")


@pytest.mark.parametrize("how", ["revoked", "exited"])
async def test_a_closed_center_takes_no_change_and_applies_none_but_its_pending_ones_can_be_rejected(
    client: httpx.AsyncClient, auth: Any, how: str
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    filed = await file_change(client, w, center["id"], "research_direction", "新方向")
    # A lead that would also fail the lead rules: the closed center is what refuses it, not the new lead.
    ordinary = await create_org(client, w["province"], kind="enterprise", is_leading_enterprise=False)
    endorsed = await file_change(client, w, center["id"], "lead_org", ordinary["id"])
    assert (await step(client, center["id"], endorsed["id"], "endorse", w["supervisor"])).status_code == 200
    closed = await close(client, w, center["id"], how)
    assert closed["status"] == how

    refused = problem(
        await client.post(
            f"{API}/centers/{center['id']}/change-requests",
            json={"kind": "name", "new_value": "新名称", "reason": "更名"},
            headers=w["applicant"],
        ),
        409,
        "rule-violation",
    )
    assert refused["rule"] == "center-closed"

    base = f"{API}/centers/{center['id']}/change-requests"
    listing = (await client.get(f"{base}/{filed['id']}/actions", headers=w["supervisor"])).json()
    endorse = next(a for a in listing if a["action"] == "endorse")
    assert [b["code"] for b in endorse["blocked_by"]] == ["center-closed"]
    not_endorsed = problem(
        await step(client, center["id"], filed["id"], "endorse", w["supervisor"]), 409, "rule-violation"
    )
    assert not_endorsed["rule"] == "center-closed"
    assert not_endorsed["blocked_by"] == endorse["blocked_by"]
    assert not_endorsed["allowed_actions"] == ["reject"]

    not_approved = problem(
        await step(client, center["id"], endorsed["id"], "approve", w["province"]), 409, "rule-violation"
    )
    assert [b["code"] for b in not_approved["blocked_by"]] == ["center-closed"]
    assert not_approved["allowed_actions"] == ["reject"]

    for change, headers in ((filed, w["supervisor"]), (endorsed, w["province"])):
        rejected = await step(client, center["id"], change["id"], "reject", headers, reason="中心已关闭")
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["status"] == "rejected"
    after = await get_center(client, w, center["id"])
    assert (after["status"], after["lead_org_id"], after["research_direction"]) == (
        how,
        w["lead"]["id"],
        center["research_direction"],
    )


# --- values each kind refuses, and the edges of a request's address ----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "new_value"),
    [
        ("name", "   "),
        ("name", 42),
        ("research_direction", "方" * 2001),
        ("director", ["赵六"]),
        ("lead_org", "not-an-organization-id"),
        ("lead_org", "{unknown}"),
        ("lead_org", "{lead}"),
    ],
)
async def test_a_change_whose_new_value_does_not_fit_its_kind_is_a_422_on_new_value(
    client: httpx.AsyncClient, auth: Any, kind: str, new_value: Any
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    names = {"{unknown}": str(uuid.uuid4()), "{lead}": w["lead"]["id"]}
    value = names.get(new_value, new_value) if isinstance(new_value, str) else new_value
    base = f"{API}/centers/{center['id']}/change-requests"
    response = await client.post(
        base, json={"kind": kind, "new_value": value, "reason": "调整"}, headers=w["applicant"]
    )
    assert locs_of(problem(response, 422, "validation-failed")) == [["body", "new_value"]]
    assert (await client.get(base, headers=w["applicant"])).json()["items"] == []


def locs_of(body: dict[str, Any]) -> list[Any]:
    return [e["loc"] for e in body["errors"]]


async def test_an_unknown_change_request_is_404_and_a_stale_version_412(client: httpx.AsyncClient, auth: Any) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    base = f"{API}/centers/{center['id']}/change-requests"
    missing = uuid.uuid4()
    problem(await client.get(f"{base}/{missing}", headers=w["province"]), 404, "not-found")
    problem(await client.get(f"{base}/{missing}/actions", headers=w["province"]), 404, "not-found")
    problem(await step(client, center["id"], str(missing), "endorse", w["supervisor"]), 404, "not-found")

    change = await file_change(client, w, center["id"], "director", "赵六")
    shown = await client.get(f"{base}/{change['id']}", headers=w["supervisor"])
    assert (shown.json()["allowed_actions"], shown.headers["etag"]) == (["endorse", "reject"], f'"{change["version"]}"')
    stale = {**w["supervisor"], "If-Match": f'"{change["version"] + 1}"'}
    problem(await step(client, center["id"], change["id"], "endorse", stale), 412, "version-mismatch")
    fresh = {**w["supervisor"], "If-Match": f'"{change["version"]}"'}
    endorsed = await step(client, center["id"], change["id"], "endorse", fresh)
    assert endorsed.status_code == 200, endorsed.text
    assert endorsed.json()["version"] == change["version"] + 1
