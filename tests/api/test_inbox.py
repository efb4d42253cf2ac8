"""The inbox (issue 17 §3): in one seeded world and on a fixed `as_of`, each role's inbox lists exactly its items.

The world: a supervised lead with a draft, a submitted application, one recommended and one under review (five
experts, one of whom has scored), two centers under construction (one with an endorsed 2024 report and a pending
extension request, one with a submitted 2025 report); a lead without a supervising department (省直) with a submitted
application and a recognized center owing three reports, whose assessment cycle is entrusted to an agency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.db.repositories.inbox import QUERIES, SYSTEM, Scope, rows_for
from app.domain.inbox import SOURCES
from app.services import reminders
from tests.api.helpers import (
    SHANGHAI,
    World,
    act,
    answer_invitation,
    draft,
    draw_panel,
    experts,
    fast_track,
    formal_review,
    make_world,
    open_call,
    other_lead,
    pinned_clock,
    recommended,
    reviewed,
    score,
    submitted,
    under_review,
)
from tests.api.helpers import criteria_for_total as criteria
from tests.api.test_centers import center_action, import_center
from tests.factories import create_org

INBOX = "/api/v1/inbox"


@dataclass
class Seeded:
    world: World
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]


async def report(client: httpx.AsyncClient, center_id: str, year: int, applicant: dict[str, str]) -> str:
    response = await client.post(
        f"/api/v1/centers/{center_id}/annual-reports",
        json={"period_year": year, "summary": "总结", "kpi_actuals": {}, "plan_next_year": "计划"},
        headers=applicant,
    )
    assert response.status_code == 201, response.text
    report_id = str(response.json()["id"])
    response = await client.post(f"/api/v1/centers/{center_id}/annual-reports/{report_id}/submit", headers=applicant)
    assert response.status_code == 200, response.text
    return report_id


@pytest.fixture
async def seeded(client: httpx.AsyncClient, auth: Any) -> Seeded:
    w = await make_world(client, auth)
    state_lead, state_applicant = await other_lead(client, w, auth, supervisor_id=None)
    agency = await create_org(client, w.province, kind="agency")
    other_agency = await create_org(client, w.province, kind="agency")
    ids: dict[str, str] = {}
    ids["draft"] = (await draft(client, w))["id"]
    # One plan per lead in a call: the other applications are other supervised leads'.
    worlds = []
    for _ in range(3):
        org, applicant = await other_lead(client, w, auth)
        worlds.append(replace(w, lead=org, applicant=applicant))
    ids["submitted"] = (await submitted(client, worlds[0]))["id"]
    ids["recommended"] = (await recommended(client, worlds[1]))["id"]
    app, panel = await under_review(client, worlds[2], auth)
    ids["under_review"] = app["id"]
    # The panel's scoring deadline, set when the review opened (TIC_SCORE_DAYS after that day).
    review = await client.get(f"/api/v1/applications/{app['id']}/review", headers=w.province)
    ids["scores_due_on"] = review.json()["scores_due_on"]
    await score(client, app["id"], auth, panel[0], criteria(80), expected=201)
    ids["state_submitted"] = (
        await act(client, (await draft(client, w, state_applicant))["id"], "submit", state_applicant)
    )["id"]

    lead = {"province": w.province, "lead": w.lead, "university": w.university}
    c1 = await import_center(
        client,
        lead,
        name="中心一",
        approved_on="2024-06-01",
        construction_starts_on="2024-12-01",
        construction_ends_on="2027-11-30",
    )
    c2 = await import_center(
        client,
        lead,
        name="中心二",
        approved_on="2025-03-01",
        construction_starts_on="2025-03-01",
        construction_ends_on="2028-02-28",
    )
    ids["c1"], ids["c2"] = c1["id"], c2["id"]
    ids["c1_2024"] = await report(client, c1["id"], 2024, w.applicant)
    response = await client.post(
        f"/api/v1/centers/{c1['id']}/annual-reports/{ids['c1_2024']}/endorse", headers=w.supervisor
    )
    assert response.status_code == 200, response.text
    ids["c2_2025"] = await report(client, c2["id"], 2025, w.applicant)
    await center_action(client, c1["id"], "request_extension", w.applicant, months=6, reason="设备延迟到货")

    c3 = await import_center(
        client,
        {"province": w.province, "lead": state_lead, "university": w.university},
        name="中心三",
        status="recognized",
        approved_on="2023-01-10",
        construction_starts_on="2023-01-10",
        construction_ends_on="2024-05-31",
        recognized_on="2024-06-01",
        recognition_no="豫科创〔2024〕3号",
    )
    ids["c3"] = c3["id"]
    response = await client.post(
        "/api/v1/assessment-cycles",
        headers=w.province,
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025, "entrusted_to_org_id": agency["id"]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["center_ids"] == [c3["id"]]
    ids["cycle"] = response.json()["id"]
    ids["agency"] = agency["id"]
    headers = {
        "province": w.province,
        "supervisor": w.supervisor,
        "applicant": w.applicant,
        "state_applicant": state_applicant,
        "scored_expert": auth("expert", expert_id=panel[0]["id"]),
        "expert": auth("expert", expert_id=panel[1]["id"]),
        "third_party": auth("third_party", org_id=agency["id"]),
        "other_agency": auth("third_party", org_id=other_agency["id"]),
        "observer": auth("observer"),
    }
    return Seeded(w, headers, ids)


async def inbox(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(INBOX, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def short(body: dict[str, Any]) -> list[tuple[str, str, str | None, bool, str]]:
    """(kind, subject id, due_on, overdue, action) of every item."""
    return [
        (i["kind"], i["subject"]["id"], i["due_on"], i["overdue"], f"{i['action']['method']} {i['action']['path']}")
        for i in body["items"]
    ]


API = "/api/v1"


def expected(s: Seeded, role: str, as_of: str) -> list[tuple[str, str, str | None, bool, str]]:
    i = s.ids
    after_jan = as_of > "2026-01-31"
    c3_reports = [
        (
            "annual_report.due",
            i["c3"],
            f"{year + 1}-01-31",
            year < 2025 or after_jan,
            f"POST {API}/centers/{i['c3']}/annual-reports",
        )
        for year in (2023, 2024, 2025)
    ]
    lead_reports = [
        ("annual_report.due", i["c1"], "2026-01-31", after_jan, f"POST {API}/centers/{i['c1']}/annual-reports"),
    ]
    closes_on = s.world.call["closes_on"]
    by_role: dict[str, list[tuple[str, str, str | None, bool, str]]] = {
        "province": sorted(
            [
                (
                    "annual_report.accept",
                    i["c1_2024"],
                    None,
                    False,
                    f"POST {API}/centers/{i['c1']}/annual-reports/{i['c1_2024']}/accept",
                ),
                (
                    "application.conclude_review",
                    i["under_review"],
                    None,
                    False,
                    f"POST {API}/applications/{i['under_review']}/conclude_review",
                ),
                (
                    "application.open_review",
                    i["recommended"],
                    None,
                    False,
                    f"POST {API}/applications/{i['recommended']}/open_review",
                ),
                (
                    "application.recommend",
                    i["state_submitted"],
                    None,
                    False,
                    f"POST {API}/applications/{i['state_submitted']}/recommend",
                ),
                (
                    "assessment_cycle.finalize",
                    i["cycle"],
                    None,
                    False,
                    f"POST {API}/assessment-cycles/{i['cycle']}/finalize",
                ),
                ("center.decide_extension", i["c1"], None, False, f"POST {API}/centers/{i['c1']}/extend"),
            ]
        ),
        "supervisor": [
            (
                "annual_report.endorse",
                i["c2_2025"],
                None,
                False,
                f"POST {API}/centers/{i['c2']}/annual-reports/{i['c2_2025']}/endorse",
            ),
            (
                "application.recommend",
                i["submitted"],
                None,
                False,
                f"POST {API}/applications/{i['submitted']}/recommend",
            ),
        ],
        "applicant": [
            *lead_reports,
            (
                "application.submit",
                i["draft"],
                closes_on,
                as_of > closes_on,
                f"POST {API}/applications/{i['draft']}/submit",
            ),
        ],
        "state_applicant": c3_reports,
        "expert": [
            (
                "review.score",
                i["under_review"],
                i["scores_due_on"],
                as_of > i["scores_due_on"],
                f"PUT {API}/applications/{i['under_review']}/scores/me",
            )
        ],
        "scored_expert": [],
        "third_party": [
            (
                "assessment.record_result",
                i["c3"],
                None,
                False,
                f"PUT {API}/assessment-cycles/{i['cycle']}/results/{i['c3']}",
            )
        ],
        "other_agency": [],
        "observer": [],
    }
    return by_role[role]


ROLES = (
    "province",
    "supervisor",
    "applicant",
    "state_applicant",
    "expert",
    "scored_expert",
    "third_party",
    "other_agency",
    "observer",
)


@pytest.mark.parametrize("as_of", ["2026-01-31", "2026-02-01"])
async def test_each_roles_inbox_lists_exactly_its_items_on_a_fixed_date(
    client: httpx.AsyncClient, seeded: Seeded, as_of: str
) -> None:
    for role in ROLES:
        body = await inbox(client, seeded.headers[role], as_of=as_of)
        assert body["as_of"] == as_of
        assert short(body) == expected(seeded, role, as_of), role
        assert body["next_cursor"] is None


async def test_an_annual_report_is_due_on_31_january_and_overdue_from_1_february(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    def report_2025(body: dict[str, Any]) -> dict[str, Any]:
        return next(
            i for i in body["items"] if i["kind"] == "annual_report.due" and i["subject"]["id"] == seeded.ids["c1"]
        )

    on_due = report_2025(await inbox(client, seeded.headers["applicant"], as_of="2026-01-31"))
    after = report_2025(await inbox(client, seeded.headers["applicant"], as_of="2026-02-01"))
    assert (on_due["due_on"], on_due["overdue"]) == ("2026-01-31", False)
    assert (after["due_on"], after["overdue"]) == ("2026-01-31", True)
    assert on_due["subject"] == {"type": "center", "id": seeded.ids["c1"], "name": "中心一"}
    assert (on_due["title_zh"], on_due["title_en"]) == (
        "提交 2025 年度工作总结和计划",
        "File the annual report for 2025",
    )
    # Before the year has ended nothing is owed for it.
    before = await inbox(client, seeded.headers["applicant"], as_of="2025-12-31")
    assert not [i for i in before["items"] if i["kind"] == "annual_report.due"]


async def test_another_leads_items_never_show(client: httpx.AsyncClient, seeded: Seeded) -> None:
    mine = {i["subject"]["id"] for i in (await inbox(client, seeded.headers["applicant"], as_of="2026-02-01"))["items"]}
    theirs = {
        i["subject"]["id"]
        for i in (await inbox(client, seeded.headers["state_applicant"], as_of="2026-02-01"))["items"]
    }
    assert mine
    assert theirs
    assert not mine & theirs
    assert seeded.ids["c3"] not in mine


async def test_the_inbox_pages_by_cursor_in_the_same_order(client: httpx.AsyncClient, seeded: Seeded) -> None:
    whole = await inbox(client, seeded.headers["province"], as_of="2026-02-01")
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"as_of": "2026-02-01", "limit": 4}
        if cursor:
            params["cursor"] = cursor
        body = await inbox(client, seeded.headers["province"], **params)
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == whole["items"]


async def test_as_of_defaults_to_today_and_absurd_dates_and_cursors_are_refused(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    body = await inbox(client, seeded.headers["applicant"])
    assert body["as_of"]  # today on the programme's calendar
    for params in ({"as_of": "9999-12-31"}, {"as_of": "1900-01-01"}, {"as_of": "31/01/2026"}, {"cursor": "nope"}):
        response = await client.get(INBOX, params=params, headers=seeded.headers["applicant"])
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] == "validation-failed"
    other = await client.get(
        "/api/v1/obligations", params={"as_of": "2026-01-31", "limit": 1}, headers=seeded.headers["province"]
    )
    foreign = other.json()["next_cursor"]
    assert foreign
    response = await client.get(INBOX, params={"cursor": foreign}, headers=seeded.headers["province"])
    assert response.status_code == 422


async def test_an_unauthenticated_caller_gets_401(client: httpx.AsyncClient) -> None:
    response = await client.get(INBOX)
    assert response.status_code == 401


def kinds_for(body: dict[str, Any], *kinds: str) -> list[tuple[str, str, str | None, bool, str]]:
    return [item for item in short(body) if item[0] in kinds]


async def test_every_other_source_finds_its_rows_for_its_roles_only(
    client: httpx.AsyncClient, seeded: Seeded, connection: AsyncConnection
) -> None:
    """The sources the seeded world leaves empty, filled through the API where a step is cheap and by writing the
    state directly where it is not (these tests are about what the inbox reads, not how a state is reached)."""
    i, h = seeded.ids, seeded.headers
    # Through the API: an exit request, a change request, a granted extension.
    await center_action(client, i["c2"], "request_exit", h["applicant"], reason="战略调整")
    response = await client.post(
        f"/api/v1/centers/{i['c1']}/change-requests",
        json={"kind": "director", "new_value": "张三", "reason": "换届"},
        headers=h["applicant"],
    )
    assert response.status_code == 201, response.text
    change = response.json()["id"]
    await center_action(
        client, i["c1"], "extend", h["province"], months=6, reason="设备延迟到货", decided_on=date.today().isoformat()
    )
    # Directly: an application asked for a revision, a center rectifying after its assessment, one waiting for
    # recognition, one for its task book, one whose acceptance an agency records, and the cycle kept by the province.
    c4 = await import_center(
        client,
        {"province": seeded.world.province, "lead": seeded.world.lead, "university": seeded.world.university},
        name="中心四",
    )
    c5 = await import_center(
        client,
        {"province": seeded.world.province, "lead": seeded.world.lead, "university": seeded.world.university},
        name="中心五",
    )
    c6 = await import_center(
        client,
        {"province": seeded.world.province, "lead": seeded.world.lead, "university": seeded.world.university},
        name="中心六",
    )
    third_party_org = i["agency"]
    for statement, params in (
        ("UPDATE applications SET status = 'revising' WHERE id = :id", {"id": i["draft"]}),
        (
            "UPDATE centers SET status = 'rectifying', rectifying_kind = 'assessment',"
            " rectification_due_on = '2026-12-31' WHERE id = :id",
            {"id": i["c3"]},
        ),
        ("UPDATE centers SET status = 'accepted' WHERE id = :id", {"id": c4["id"]}),
        ("UPDATE centers SET status = 'approved' WHERE id = :id", {"id": c5["id"]}),
        (
            "UPDATE centers SET status = 'acceptance_pending', acceptance_agency_org_id = :agency WHERE id = :id",
            {"id": c6["id"], "agency": third_party_org},
        ),
    ):
        await connection.execute(text(statement), params)

    as_of = "2026-12-01"
    province = await inbox(client, h["province"], as_of=as_of)
    assert kinds_for(
        province,
        "center.decide_exit",
        "center.recognize",
        "center.sign_task_book",
        "center.rectification_review",
        "center.record_acceptance",
        "change_request.approve",
        "center.decide_extension",
    ) == [
        (
            "center.rectification_review",
            i["c3"],
            "2026-12-31",
            False,
            f"POST {API}/centers/{i['c3']}/record_rectification_review",
        ),
        ("center.decide_exit", i["c2"], None, False, f"POST {API}/centers/{i['c2']}/exit"),
        ("center.recognize", c4["id"], None, False, f"POST {API}/centers/{c4['id']}/recognize"),
        ("center.sign_task_book", c5["id"], None, False, f"POST {API}/centers/{c5['id']}/sign_task_book"),
    ]
    supervisor = await inbox(client, h["supervisor"], as_of=as_of)
    assert kinds_for(supervisor, "change_request.endorse") == [
        (
            "change_request.endorse",
            change,
            None,
            False,
            f"POST {API}/centers/{i['c1']}/change-requests/{change}/endorse",
        )
    ]
    third_party = await inbox(client, h["third_party"], as_of="2027-01-01")
    assert kinds_for(third_party, "center.rectification_review", "center.record_acceptance") == [
        (
            "center.rectification_review",
            i["c3"],
            "2026-12-31",
            True,
            f"POST {API}/centers/{i['c3']}/record_rectification_review",
        ),
        ("center.record_acceptance", c6["id"], None, False, f"POST {API}/centers/{c6['id']}/record_acceptance"),
    ]
    assert short(await inbox(client, h["other_agency"], as_of=as_of)) == []
    applicant = await inbox(client, h["applicant"], as_of="2028-03-01")
    assert kinds_for(applicant, "application.resubmit", "center.extension_expiring", "application.submit") == [
        ("center.extension_expiring", i["c1"], "2028-05-30", False, f"POST {API}/centers/{i['c1']}/request_acceptance"),
        ("application.resubmit", i["draft"], None, False, f"POST {API}/applications/{i['draft']}/resubmit"),
    ]
    # The province records the results of a cycle it keeps; the agency no longer sees them.
    await connection.execute(
        text("UPDATE assessment_cycles SET entrusted_to_org_id = NULL WHERE id = :id"), {"id": i["cycle"]}
    )
    assert kinds_for(await inbox(client, h["province"], as_of=as_of), "assessment.record_result") == [
        (
            "assessment.record_result",
            i["c3"],
            None,
            False,
            f"PUT {API}/assessment-cycles/{i['cycle']}/results/{i['c3']}",
        )
    ]
    assert kinds_for(await inbox(client, h["third_party"], as_of=as_of), "assessment.record_result") == []


def test_every_source_has_a_query_and_every_query_a_source() -> None:
    assert set(QUERIES) == set(SOURCES)


SCOPE_ROLES = ("province", "supervisor", "applicant", "expert", "third_party", "observer", SYSTEM)


@pytest.mark.parametrize("role", SCOPE_ROLES)
def test_a_source_has_a_query_exactly_for_the_roles_it_feeds_and_the_worker_for_dated_ones(role: str) -> None:
    scope = Scope(role=role, org_id=uuid.uuid4(), expert_id=uuid.uuid4())
    for name, source in SOURCES.items():
        wanted = source.dated if role == SYSTEM else role in source.roles
        assert (QUERIES[name](scope) is not None) == wanted, (name, role)


async def test_a_caller_without_sources_sends_no_query_and_the_worker_skips_undated_items(
    client: httpx.AsyncClient, session: AsyncSession, auth: Any
) -> None:
    assert await rows_for(session, Scope(role="observer"), list(SOURCES)) == []
    assert await reminders.emit(session, date(2026, 2, 1)) == 0  # nothing is due in an empty world
    w = await make_world(client, auth)
    await fast_track(client, w)  # a draft without a call: in the lead's inbox, undated, so never reminded of
    body = await inbox(client, w.applicant, as_of="2026-02-01")
    assert [(i["kind"], i["due_on"]) for i in body["items"]] == [("application.submit", None)]
    assert await reminders.emit(session, date(2026, 2, 1)) == 0


async def test_a_report_written_but_not_submitted_is_listed_with_its_submit_action(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    c3, h = seeded.ids["c3"], seeded.headers
    response = await client.post(
        f"/api/v1/centers/{c3}/annual-reports",
        json={"period_year": 2024, "summary": "总结", "kpi_actuals": {}, "plan_next_year": "计划"},
        headers=h["state_applicant"],
    )
    assert response.status_code == 201, response.text
    written = response.json()["id"]
    body = await inbox(client, h["state_applicant"], as_of="2026-01-31")
    assert [(i[2], i[4]) for i in short(body)] == [
        ("2024-01-31", f"POST {API}/centers/{c3}/annual-reports"),
        ("2025-01-31", f"POST {API}/centers/{c3}/annual-reports/{written}/submit"),
        ("2026-01-31", f"POST {API}/centers/{c3}/annual-reports"),
    ]


# --- the sources of issue 16 and 17 §1: formal reviews, corrections, objections, invitations ----------------------


def kinds(body: dict[str, Any], subject_id: str) -> list[str]:
    return [item["kind"] for item in body["items"] if item["subject"]["id"] == subject_id]


async def test_formal_reviews_corrections_objections_and_invitations_reach_the_right_inbox(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await make_world(client, auth)
    today = date.today().isoformat()
    # The province's step on a recommended application is the formal review; open_review only once it is complete.
    waiting = await recommended(client, w, formally_reviewed=False)
    assert kinds(await inbox(client, w.province), waiting["id"]) == ["application.formal_review"]
    await formal_review(client, waiting["id"], w.province)
    assert kinds(await inbox(client, w.province), waiting["id"]) == ["application.open_review"]

    # An incomplete outcome puts the correction in the lead's inbox, and nobody else's.
    org, applicant = await other_lead(client, w, auth)
    lead_world = replace(w, lead=org, applicant=applicant)
    returned = await recommended(client, lead_world, formally_reviewed=False)
    checklist = (await client.get(f"/api/v1/applications/{returned['id']}/formal-review", headers=w.province)).json()
    verdicts = {item["rule"]: {"verdict": "doubtful", "note": "待补正"} for item in checklist["evidence"]}
    await formal_review(
        client, returned["id"], w.province, verdicts=verdicts, outcome="incomplete", missing=["审计报告"]
    )
    mine = await inbox(client, applicant)
    assert [(i["kind"], i["action"]) for i in mine["items"] if i["subject"]["id"] == returned["id"]] == [
        ("application.complete", {"method": "POST", "path": f"{API}/applications/{returned['id']}/submit"})
    ]
    assert kinds(await inbox(client, w.applicant), returned["id"]) == []

    # A drawn panel: each member's invitation is due on its reply deadline, in that expert's inbox only.
    pool = await experts(client, w.province, 5)
    await draw_panel(client, waiting["id"], w.province, backups=0)
    invited = await inbox(client, auth("expert", expert_id=pool[0]["id"]))
    (item,) = [i for i in invited["items"] if i["subject"]["id"] == waiting["id"]]
    assert item["kind"] == "panel.invitation"
    assert item["due_on"] > today  # the reply deadline, TIC_EXPERT_REPLY_DAYS from the draw
    assert item["action"] == {"method": "POST", "path": f"{API}/applications/{waiting['id']}/panel/invitation/accept"}
    assert (await answer_invitation(client, waiting["id"], auth, pool[0]["id"])).status_code == 200
    assert kinds(await inbox(client, auth("expert", expert_id=pool[0]["id"])), waiting["id"]) == []
    assert kinds(await inbox(client, auth("expert", expert_id=pool[1]["id"])), waiting["id"]) == ["panel.invitation"]

    # An objection to a notice waits for the province, named after the entry it objects to.
    concluded, _ = await reviewed(client, replace(w, call=await open_call(client, w.province)), auth)
    notices = (await client.get("/api/v1/publicity", params={"limit": 200}, headers=w.province)).json()["items"]
    notice = next(n for n in notices if [e["subject_id"] for e in n["subjects"]] == [concluded["id"]])
    body = {
        "subject_id": concluded["id"],
        "summary": "数据存疑",
        "objector_name": "赵六",
        "objector_contact": "13800000000",
        "received_on": notice["starts_on"],
    }
    with pinned_clock(client, datetime.combine(date.fromisoformat(notice["ends_on"]), time(12), SHANGHAI)):
        recorded = await client.post(f"/api/v1/publicity/{notice['id']}/objections", json=body, headers=w.province)
    assert recorded.status_code == 201, recorded.text
    objection = recorded.json()
    province = await inbox(client, w.province)
    (item,) = [i for i in province["items"] if i["kind"] == "objection.resolve"]
    assert item["subject"] == {"type": "objection", "id": objection["id"], "name": concluded["proposed_name"]}
    assert item["action"] == {
        "method": "POST",
        "path": f"{API}/publicity/{notice['id']}/objections/{objection['id']}/resolve",
    }
    assert "赵六" not in str(province)
