"""Integration surface (issue 7): the hash-chained feed, action introspection, incremental sync, statistics and
exports."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.api.deps import get_clock
from tests.api.helpers import (
    FACTS,
    SHANGHAI,
    FixedClock,
    act,
    criteria_for_total,
    draft,
    make_world,
    score,
    under_review,
)
from tests.factories import create_org


async def full_review(client: httpx.AsyncClient, auth: Any) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    world = await make_world(client, auth)
    application, panel = await under_review(client, world, auth)
    for expert, total in zip(panel, (95, 60, 80, 75, 70), strict=True):
        await score(client, application["id"], auth, expert, criteria_for_total(total), expected=201)
    await act(client, application["id"], "conclude_review", world.province)
    approved = await act(
        client, application["id"], "approve", world.province, decision_date="2026-08-11", document_no="豫科〔2026〕1号"
    )
    return world, approved, panel


async def feed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/events", params={"limit": 1000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# --- the feed ----------------------------------------------------------------------------------------------------


async def test_the_feed_of_a_lifecycle_has_every_transition_in_order_and_no_expert_identity(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    world, approved, panel = await full_review(client, auth)
    events = await feed(client, auth("observer"))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"]
    mine = [e for e in events if e["subject_id"] == approved["id"]]
    assert [e["data"].get("action") for e in mine if "action" in e["data"]] == [
        "create",
        "submit",
        "recommend",
        "formal_review",
        "open_review",
        "conclude_review",
        "approve",
    ]
    assert [e["type"] for e in mine][-1] == "application.approved"
    approve = mine[-1]
    assert approve["effective_on"] == "2026-08-11"
    assert len(approve["data"]["decision_sha256"]) == 64
    assert any(e["type"] == "center.approved" and e["subject_id"] == approved["center_id"] for e in events)
    text_of_feed = json.dumps(events, ensure_ascii=False)
    for expert in panel:
        assert expert["id"] not in text_of_feed
        assert expert["name"] not in text_of_feed
    verified = (await client.get("/api/v1/events/verify", headers=world.province)).json()
    assert verified == {**verified, "ok": True, "checked": len(events), "first_bad_seq": None, "tree_ok": True}
    assert verified["tree_size"] == len(events)


async def test_the_feed_pages_by_seq_and_filters(client: httpx.AsyncClient, auth: Any) -> None:
    world, approved, _ = await full_review(client, auth)
    province = world.province
    first = (await client.get("/api/v1/events", params={"limit": 3}, headers=province)).json()
    assert [e["seq"] for e in first["items"]] == [1, 2, 3]
    second = (
        await client.get("/api/v1/events", params={"limit": 3, "after": first["next_after"]}, headers=province)
    ).json()
    assert [e["seq"] for e in second["items"]] == [4, 5, 6]
    only = await feed(client, province, subject_id=approved["id"], type="application.submitted")
    assert [e["type"] for e in only] == ["application.submitted"]
    end = (await client.get("/api/v1/events", params={"after": 10_000}, headers=province)).json()
    assert end == {"items": [], "next_after": 10_000}


async def test_only_the_province_and_observers_read_the_feed(client: httpx.AsyncClient, auth: Any) -> None:
    org = await create_org(client, auth("province"))
    for headers in (
        auth("applicant", org_id=org["id"]),
        auth("supervisor", org_id=org["id"]),
        auth("third_party", org_id=org["id"]),
        auth("expert", expert_id="00000000-0000-0000-0000-000000000009"),
    ):
        for path in ("/api/v1/events", "/api/v1/events/verify"):
            assert (await client.get(path, headers=headers)).status_code == 404


async def test_a_row_altered_behind_the_services_back_is_found_by_verify(
    client: httpx.AsyncClient,
    auth: Any,
    connection: AsyncConnection,
) -> None:
    world, _, _ = await full_review(client, auth)
    events = await feed(client, world.province)
    assert len(events) > 5
    # Written behind the service's back, with the guard disabled inside this test's rolled-back transaction.
    await connection.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
    await connection.execute(text("UPDATE events SET data = jsonb_set(data, '{reason}', '\"altered\"') WHERE seq = 5"))
    await connection.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))
    verified = (await client.get("/api/v1/events/verify", headers=world.province)).json()
    # The sequencer built the tree as it placed each event, before the edit: the chain and the tree both show it.
    assert verified == {**verified, "ok": False, "checked": 5, "first_bad_seq": 5, "tree_ok": False}


async def test_a_deleted_row_breaks_the_chain_at_the_gap(
    client: httpx.AsyncClient,
    auth: Any,
    connection: AsyncConnection,
) -> None:
    world, _, _ = await full_review(client, auth)
    await connection.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
    await connection.execute(text("DELETE FROM events WHERE seq = 3"))
    await connection.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))
    verified = (await client.get("/api/v1/events/verify", headers=world.province)).json()
    assert (verified["ok"], verified["first_bad_seq"]) == (False, 4)


# --- action introspection ----------------------------------------------------------------------------------------


def _blockers(actions: list[dict[str, Any]], action: str) -> list[str]:
    entry = next(a for a in actions if a["action"] == action)
    return [b["code"] for b in entry["blocked_by"]]


async def test_blocked_by_explains_wrong_role_wrong_state_and_a_failing_rule(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    world = await make_world(client, auth)
    facts = {**FACTS, "rd_staff": 99}  # 9.9 % R&D staff: the ratio rule fails
    application = await draft(client, world, facts=facts)
    path = f"/api/v1/applications/{application['id']}/actions"
    mine = (await client.get(path, headers=world.applicant)).json()
    assert {a["action"] for a in mine} == {
        "submit",
        "withdraw",
        "return",
        "reject",
        "recommend",
        "open_review",
        "conclude_review",
        "request_revision",
        "resubmit",
        "approve",
    }
    submit = next(a for a in mine if a["action"] == "submit")
    assert submit["allowed"] is False
    assert submit["blocked_by"] == [
        {
            "code": "eligibility-rule-failed",
            "rule": "rd_staff_ratio",
            "outcome": "fail",
            "expected": "≥ 10%",
            "actual": "9.90%",
            "message_zh": submit["blocked_by"][0]["message_zh"],
            "message_en": submit["blocked_by"][0]["message_en"],
        }
    ]
    assert "9.90%" in submit["blocked_by"][0]["message_en"]
    assert _blockers(mine, "withdraw") == []
    assert _blockers(mine, "recommend") == ["wrong-state", "wrong-role"]
    assert _blockers(mine, "resubmit") == ["wrong-state"]
    theirs = (await client.get(path, headers=world.supervisor)).json()
    assert _blockers(theirs, "submit") == ["wrong-role"]
    # allowed_actions on the resource is the same function
    shown = (await client.get(f"/api/v1/applications/{application['id']}", headers=world.applicant)).json()
    assert shown["allowed_actions"] == [a["action"] for a in mine if a["allowed"]] == ["withdraw"]
    refused = await client.post(f"/api/v1/applications/{application['id']}/submit", headers=world.applicant)
    assert refused.status_code == 409
    assert refused.json()["code"] == "ineligible"
    # The refusal carries exactly what the actions endpoint listed.
    assert refused.json()["blocked_by"] == submit["blocked_by"]
    assert refused.json()["allowed_actions"] == shown["allowed_actions"]


async def test_blocked_by_explains_a_missing_annual_report(client: httpx.AsyncClient, auth: Any) -> None:
    province = auth("province")
    department = await create_org(client, province, kind="department")
    lead = await create_org(
        client, province, kind="enterprise", is_leading_enterprise=True, supervisor_id=department["id"]
    )
    center = (
        await client.post(
            "/api/v1/centers/import",
            headers=province,
            json={
                "name": "中心",
                "field": "green_food",
                "lead_org_id": lead["id"],
                "status": "under_construction",
                "approved_on": "2022-06-01",
                "document_no": "豫科〔2022〕1号",
                "construction_starts_on": "2022-12-01",
                "construction_ends_on": "2025-11-30",
            },
        )
    ).json()
    applicant = auth("applicant", org_id=lead["id"])
    actions = (await client.get(f"/api/v1/centers/{center['id']}/actions", headers=applicant)).json()
    request = next(a for a in actions if a["action"] == "request_acceptance")
    assert request["allowed"] is False
    missing = next(b for b in request["blocked_by"] if b["code"] == "annual-reports-missing")
    assert missing["missing_years"] == [2022, 2023, 2024, 2025]
    assert "legal-entity-not-independent" in [b["code"] for b in request["blocked_by"]]
    assert _blockers(actions, "revoke") == ["wrong-role"]
    assert (await client.get(f"/api/v1/centers/{center['id']}", headers=applicant)).json()["allowed_actions"] == [
        "request_exit"
    ]
    report = (
        await client.post(
            f"/api/v1/centers/{center['id']}/annual-reports",
            headers=applicant,
            json={"period_year": 2022, "summary": "s", "plan_next_year": "p"},
        )
    ).json()
    report_actions = (
        await client.get(f"/api/v1/centers/{center['id']}/annual-reports/{report['id']}/actions", headers=applicant)
    ).json()
    assert [a["action"] for a in report_actions if a["allowed"]] == ["submit"] == report["allowed_actions"]


# --- incremental sync, statistics, exports -----------------------------------------------------------------------


async def test_lists_return_only_what_changed_since_a_timestamp(client: httpx.AsyncClient, auth: Any) -> None:
    province = auth("province")
    org = await create_org(client, province)
    listed = (await client.get("/api/v1/organizations", headers=province)).json()["items"]
    assert all("updated_at" in item for item in listed)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = (await client.get("/api/v1/organizations", params={"updated_since": future}, headers=province)).json()
    assert later["items"] == []
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    earlier = (await client.get("/api/v1/organizations", params={"updated_since": past}, headers=province)).json()
    assert org["id"] in [o["id"] for o in earlier["items"]]
    naive = await client.get("/api/v1/organizations", params={"updated_since": "2026-01-01T00:00:00"}, headers=province)
    assert naive.status_code == 422


async def test_statistics_count_within_reach(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    await draft(client, world)
    await draft(client, world, field="green_food", proposed_name="另一个")
    stats = (
        await client.get("/api/v1/stats/applications", params={"group_by": "field"}, headers=world.applicant)
    ).json()
    assert stats["total"] == 2
    assert {i["key"]: i["count"] for i in stats["items"]} == {"equipment_manufacturing": 1, "green_food": 1}
    other = await create_org(client, world.province)
    none = (
        await client.get(
            "/api/v1/stats/applications", params={"group_by": "status"}, headers=auth("applicant", org_id=other["id"])
        )
    ).json()
    assert none == {"group_by": "status", "total": 0, "items": []}
    bad = await client.get("/api/v1/stats/centers", params={"group_by": "colour"}, headers=world.province)
    assert bad.status_code == 422


async def test_exports_have_chinese_headers_in_csv_with_bom_and_in_xlsx(
    committed_client: httpx.AsyncClient,
    auth: Any,
) -> None:
    client = committed_client
    province = auth("province")
    department = await create_org(client, province, kind="department", region="郑州市")
    lead = await create_org(client, province, kind="enterprise", supervisor_id=department["id"], name="牵头企业")
    response = await client.post(
        "/api/v1/centers/import",
        headers=province,
        json={
            "name": "河南省导出测试技术创新中心",
            "field": "smart_sensors",
            "lead_org_id": lead["id"],
            "status": "recognized",
            "approved_on": "2019-06-01",
            "document_no": "豫科〔2019〕1号",
            "construction_starts_on": "2019-07-01",
            "construction_ends_on": "2022-06-30",
            "recognized_on": "2023-01-10",
        },
    )
    assert response.status_code == 201, response.text
    exported = await client.get("/api/v1/exports/centers", params={"format": "csv"}, headers=province)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "名称", "技术领域", "牵头单位"]
    assert rows[1][1:4] == ["河南省导出测试技术创新中心", "智能传感器", "牵头企业"]
    assert rows[1][6] == "已认定"
    workbook = await client.get("/api/v1/exports/centers", params={"format": "xlsx"}, headers=province)
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("编号", "名称", "技术领域")
    assert values[1][1] == "河南省导出测试技术创新中心"
    other = await create_org(client, province)
    nothing = await client.get("/api/v1/exports/centers", headers=auth("applicant", org_id=other["id"]))
    assert len(list(csv.reader(io.StringIO(nothing.content.decode("utf-8-sig"))))) == 1
    applications = await client.get("/api/v1/exports/applications", headers=province)
    assert next(csv.reader(io.StringIO(applications.content.decode("utf-8-sig"))))[:2] == ["申报编号", "拟建中心名称"]
    expert = await client.get("/api/v1/exports/centers", headers=auth("expert", expert_id=lead["id"]))
    assert expert.status_code == 404


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        pytest.param(
            datetime(2026, 12, 2, 23, 30, tzinfo=UTC), "2026-12-03", id="23:30 utc is the next day in beijing"
        ),
        pytest.param(datetime(2026, 12, 2, 15, 59, tzinfo=UTC), "2026-12-02", id="23:59 beijing is still that day"),
        pytest.param(datetime(2026, 12, 2, 16, 0, tzinfo=UTC), "2026-12-03", id="midnight beijing is the next day"),
    ],
)
async def test_an_export_is_named_after_the_day_in_beijing_not_in_utc(
    client: httpx.AsyncClient, auth: Any, app: FastAPI, instant: datetime, day: str
) -> None:
    app.dependency_overrides[get_clock] = lambda: FixedClock(tz=SHANGHAI, at=instant)
    try:
        centers = await client.get("/api/v1/exports/centers", params={"format": "csv"}, headers=auth("province"))
        applications = await client.get(
            "/api/v1/exports/applications", params={"format": "xlsx"}, headers=auth("province")
        )
    finally:
        app.dependency_overrides.pop(get_clock, None)
    assert centers.headers["content-disposition"] == f'attachment; filename="centers-{day}.csv"'
    assert applications.headers["content-disposition"] == f'attachment; filename="applications-{day}.xlsx"'


async def test_center_statistics_group_by_field_region_status_and_grade(client: httpx.AsyncClient, auth: Any) -> None:
    province = auth("province")
    department = await create_org(client, province, kind="department")
    for region, field in (("郑州市", "green_food"), ("洛阳市", "green_food"), ("郑州市", "biomedicine")):
        lead = await create_org(client, province, kind="enterprise", region=region, supervisor_id=department["id"])
        response = await client.post(
            "/api/v1/centers/import",
            headers=province,
            json={
                "name": f"{region}{field}",
                "field": field,
                "lead_org_id": lead["id"],
                "status": "under_construction",
                "approved_on": "2024-06-01",
                "document_no": "豫科〔2024〕1号",
                "construction_starts_on": "2024-07-01",
            },
        )
        assert response.status_code == 201, response.text
    expected = {
        "field": {"green_food": 2, "biomedicine": 1},
        "region": {"郑州市": 2, "洛阳市": 1},
        "status": {"under_construction": 3},
        "grade": {None: 3},
    }
    for group_by, counts in expected.items():
        stats = (await client.get("/api/v1/stats/centers", params={"group_by": group_by}, headers=province)).json()
        assert {i["key"]: i["count"] for i in stats["items"]} == counts, group_by
    supervisor = (
        await client.get(
            "/api/v1/stats/centers", params={"group_by": "region"}, headers=auth("supervisor", org_id=department["id"])
        )
    ).json()
    assert supervisor["total"] == 3


@pytest.mark.race  # an export reads in its own transaction, so what it lists must be committed
async def test_the_applications_export_lists_what_the_caller_may_see(
    committed_client: httpx.AsyncClient, auth: Any
) -> None:
    from tests.api.helpers import draft, make_world

    client = committed_client
    world = await make_world(client, auth)
    application = await draft(client, world, proposed_name="河南省导出申报技术创新中心")
    mine = [[str(application["id"]), "河南省导出申报技术创新中心"]]
    stranger = auth("applicant", org_id=(await create_org(client, world.province))["id"])

    async def exported(headers: dict[str, str]) -> list[list[str]]:
        response = await client.get("/api/v1/exports/applications", headers=headers)
        assert response.status_code == 200, response.text
        return [row[:2] for row in list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]]

    assert (await exported(world.applicant), await exported(stranger), await exported(world.province)) == (
        mine,
        [],
        mine,
    )
