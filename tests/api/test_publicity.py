"""公示 and 异议 through the API (issue 16 §3): a notice over National Day 2026 ends on the right working day; approval
waits for the notice and its objections, and the actions endpoint says which; a dismissed objection unblocks, an
upheld one does not; the public read shows what a notice publishes and nothing else; the objector's name and contact
never reach the feed; a year the calendar does not cover is a clear problem."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from app.api.deps import get_clock
from app.domain.events import fingerprint
from tests.api.helpers import (
    SHANGHAI,
    FixedClock,
    World,
    act,
    draft,
    make_world,
    problem,
    reviewed,
    run_publicity,
)
from tests.api.test_centers import center_action, ready_for_acceptance
from tests.conftest import TokenFactory

PUBLICITY = "/api/v1/publicity"
OBJECTOR = {"objector_name": "赵六", "objector_contact": "13800000000"}


@pytest.fixture
def on(app: FastAPI) -> Iterator[Any]:
    """on(date) pins the service's clock to noon in Beijing on that day for the rest of the test."""

    def pin(day: date) -> None:
        instant = datetime.combine(day, time(12), SHANGHAI).astimezone(UTC)
        app.dependency_overrides[get_clock] = lambda: FixedClock(tz=SHANGHAI, at=instant)

    yield pin
    app.dependency_overrides.pop(get_clock, None)


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: TokenFactory) -> World:
    return await make_world(client, auth)


async def publish(client: httpx.AsyncClient, province: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(PUBLICITY, json=body, headers=province)


async def objection(
    client: httpx.AsyncClient, province: dict[str, str], notice_id: str, subject_id: str, received_on: str
) -> httpx.Response:
    body = {"subject_id": subject_id, "summary": "该单位研发投入数据存疑", "received_on": received_on, **OBJECTOR}
    return await client.post(f"{PUBLICITY}/{notice_id}/objections", json=body, headers=province)


async def approve_view(client: httpx.AsyncClient, application_id: str, headers: dict[str, str]) -> dict[str, Any]:
    actions = await client.get(f"/api/v1/applications/{application_id}/actions", headers=headers)
    assert actions.status_code == 200, actions.text
    return dict(next(a for a in actions.json() if a["action"] == "approve"))


async def accepted_center(client: httpx.AsyncClient, auth: TokenFactory, on: Any) -> tuple[dict[str, Any], Any]:
    """A center whose acceptance passed on 2026-01-20: what a recognition notice (拟认定名单) lists."""
    w, center = await ready_for_acceptance(client, auth)
    on(date(2025, 11, 1))
    await center_action(client, center["id"], "request_acceptance", w["applicant"])
    on(date(2026, 1, 20))
    accepted = await center_action(
        client, center["id"], "record_acceptance", w["province"], result="passed", decided_on="2026-01-20"
    )
    assert accepted["status"] == "accepted"
    return w, accepted


# --- the working-day calendar -------------------------------------------------------------------------------------


async def test_a_notice_over_national_day_2026_ends_on_the_make_up_saturday(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 9, 28))
    response = await publish(
        client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-09-29"
    )
    assert response.status_code == 201, response.text
    notice = response.json()
    assert response.headers["location"] == f"{PUBLICITY}/{notice['id']}"
    # Tue 29, Wed 30 Sep; 1–7 Oct National Day; Thu 8, Fri 9 and the make-up Saturday 10 Oct: five working days.
    assert (notice["starts_on"], notice["ends_on"], notice["working_days"]) == ("2026-09-29", "2026-10-10", 5)
    assert (notice["kind"], notice["subject_type"], notice["status"]) == ("approval", "application", "scheduled")
    assert notice["subjects"] == [
        {
            "subject_id": concluded["id"],
            "name": concluded["proposed_name"],
            "lead_org_name": world.lead["name"],
            "field": "equipment_manufacturing",
        }
    ]
    assert notice["created_by"] == "province-x"
    for day, status in ((date(2026, 10, 4), "running"), (date(2026, 10, 10), "running"), (date(2026, 10, 11), "ended")):
        on(day)
        read = await client.get(f"{PUBLICITY}/{notice['id']}", headers=world.province)
        assert read.json()["status"] == status, day
        assert read.headers["etag"] == '"1"'


async def test_a_start_in_a_year_the_calendar_does_not_cover_is_a_clear_problem(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 12, 3))
    for starts_on in ("2027-01-04", "2026-12-28"):  # in 2027, and running into it
        refused = await publish(
            client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on=starts_on
        )
        body = problem(refused, 422, "calendar-unavailable")
        assert body["year"] == 2027
        assert body["errors"][0]["loc"] == ["body", "starts_on"]
        assert body["errors"][0]["type"] == "calendar_unavailable"
    zh = await client.post(
        PUBLICITY,
        json={"kind": "approval", "subject_ids": [concluded["id"]], "starts_on": "2027-01-04"},
        headers={**world.province, "Accept-Language": "zh-CN"},
    )
    assert problem(zh, 422, "calendar-unavailable")["detail"] == "2027 年的工作日历尚未收录"


async def test_a_year_the_department_entered_lets_a_notice_run_into_it(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any, app: FastAPI, tmp_path: Path
) -> None:
    """TIC_WORKDAY_CALENDAR_FILE: with 2027's arrangement entered, the notice refused above is published, counted on
    it (the holiday skipped, the make-up Saturday counted)."""
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 12, 3))
    entered = tmp_path / "calendar.json"
    entered.write_text('{"2027": {"holidays": ["2027-01-01"], "make_up_workdays": ["2027-01-02"]}}', encoding="utf-8")
    settings = app.state.settings
    # A new Settings, not model_copy: a copy would carry the original's computed (cached) calendar along.
    app.state.settings = type(settings)(**{**settings.model_dump(), "workday_calendar_file": entered})
    try:
        published = await publish(
            client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-12-28"
        )
    finally:
        app.state.settings = settings
    assert published.status_code == 201, published.text
    notice = published.json()
    assert (notice["starts_on"], notice["ends_on"], notice["working_days"]) == ("2026-12-28", "2027-01-02", 5)


@pytest.mark.parametrize(
    ("starts_on", "working_days", "loc"),
    [
        ("2026-10-01", 5, ["body", "starts_on"]),  # National Day
        ("2026-10-11", 5, ["body", "starts_on"]),  # a Sunday
        ("2026-07-10", 5, ["body", "starts_on"]),  # more than 30 days back
        ("2026-11-27", 5, ["body", "starts_on"]),  # more than 60 days ahead
        ("2026-09-29", 0, ["body", "working_days"]),
        ("2026-09-29", 31, ["body", "working_days"]),
    ],
)
async def test_a_start_that_is_no_working_day_or_absurd_is_refused(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any, starts_on: str, working_days: int, loc: list
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 9, 25))
    refused = await publish(
        client,
        world.province,
        kind="approval",
        subject_ids=[concluded["id"]],
        starts_on=starts_on,
        working_days=working_days,
    )
    assert problem(refused, 422, "validation-failed")["errors"][0]["loc"] == loc


async def test_each_subject_is_known_listed_once_and_in_the_state_its_kind_lists(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    drafted = await draft(client, world, proposed_name="另一个中心")
    on(date(2026, 9, 25))
    base = {"kind": "approval", "starts_on": "2026-09-28"}
    twice = await publish(client, world.province, **base, subject_ids=[concluded["id"], concluded["id"]])
    assert problem(twice, 422, "validation-failed")["errors"][0]["loc"] == ["body", "subject_ids", 1]
    unknown = await publish(client, world.province, **base, subject_ids=[concluded["id"], world.lead["id"]])
    assert problem(unknown, 422, "validation-failed")["errors"][0]["loc"] == ["body", "subject_ids", 1]
    # A center is not an application, and an application is not in `accepted`.
    wrong_kind = await publish(client, world.province, **{**base, "kind": "recognition"}, subject_ids=[concluded["id"]])
    assert problem(wrong_kind, 422, "validation-failed")["errors"][0]["loc"] == ["body", "subject_ids", 0]
    wrong_state = await publish(client, world.province, **base, subject_ids=[concluded["id"], drafted["id"]])
    body = problem(wrong_state, 409, "rule-violation")
    assert (body["rule"], body["index"], body["subject_id"], body["subject_status"]) == (
        "publicity-subject-wrong-state",
        1,
        drafted["id"],
        "draft",
    )
    empty = await publish(client, world.province, **base, subject_ids=[])
    assert problem(empty, 422, "validation-failed")["errors"][0]["loc"] == ["body", "subject_ids"]


# --- approval waits for the notice and its objections ---------------------------------------------------------------


async def test_approval_waits_for_a_running_notice_and_an_open_objection_and_a_dismissal_unblocks(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)  # concluded 2026-08-10
    app_id = concluded["id"]
    assert "approve" not in concluded["allowed_actions"]
    assert [b["code"] for b in (await approve_view(client, app_id, world.province))["blocked_by"]] == [
        "publicity-missing"
    ]
    on(date(2026, 8, 10))
    notice = (
        await publish(client, world.province, kind="approval", subject_ids=[app_id], starts_on="2026-08-11")
    ).json()
    assert notice["ends_on"] == "2026-08-17"  # Tue 11 to Mon 17 August: five working days

    on(date(2026, 8, 12))
    view = await approve_view(client, app_id, world.province)
    assert view["blocked_by"] == [
        {
            "code": "publicity-running",
            "message_zh": "公示期至 2026-08-17 结束，期满后方可决定",
            "message_en": "The public notice runs until 2026-08-17; decide after it ends.",
            "notice_id": notice["id"],
            "ends_on": "2026-08-17",
        }
    ]
    recorded = await objection(client, world.province, notice["id"], app_id, "2026-08-12")
    assert recorded.status_code == 201, recorded.text
    objected = recorded.json()
    assert (objected["status"], objected["objector_name"], objected["objector_contact"]) == (
        "open",
        "赵六",
        "13800000000",
    )

    on(date(2026, 8, 18))
    refused = await client.post(
        f"/api/v1/applications/{app_id}/approve",
        json={"decision_date": "2026-08-18", "document_no": "豫科〔2026〕1号"},
        headers=world.province,
    )
    body = problem(refused, 409, "rule-violation")
    assert (body["rule"], body["unresolved_count"], body["notice_id"]) == ("objection-unresolved", 1, notice["id"])
    assert body["blocked_by"] == (await approve_view(client, app_id, world.province))["blocked_by"]

    resolve = f"{PUBLICITY}/{notice['id']}/objections/{objected['id']}/resolve"
    dismissed = await client.post(
        resolve, json={"outcome": "dismissed", "reason": "经核查，数据属实"}, headers=world.province
    )
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["resolution_reason"]) == ("dismissed", "经核查，数据属实")
    again = await client.post(resolve, json={"outcome": "upheld", "reason": "复核"}, headers=world.province)
    assert problem(again, 409, "rule-violation")["rule"] == "objection-already-resolved"

    assert (await approve_view(client, app_id, world.province))["allowed"] is True
    too_early = await client.post(
        f"/api/v1/applications/{app_id}/approve",
        json={"decision_date": "2026-08-17", "document_no": "豫科〔2026〕1号"},
        headers=world.province,
    )
    assert problem(too_early, 422, "validation-failed")["errors"][0]["loc"] == ["body", "decision_date"]
    approved = await act(
        client, app_id, "approve", world.province, decision_date="2026-08-18", document_no="豫科〔2026〕1号"
    )
    assert approved["status"] == "approved"


async def test_an_upheld_objection_keeps_approval_blocked_and_the_province_rejects(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 8, 10))
    notice = (
        await publish(
            client,
            world.province,
            kind="approval",
            subject_ids=[concluded["id"]],
            starts_on="2026-08-10",
            working_days=1,
        )
    ).json()
    objected = (await objection(client, world.province, notice["id"], concluded["id"], "2026-08-10")).json()
    upheld = await client.post(
        f"{PUBLICITY}/{notice['id']}/objections/{objected['id']}/resolve",
        json={"outcome": "upheld", "reason": "查实研发投入数据不实"},
        headers=world.province,
    )
    assert upheld.json()["status"] == "upheld"
    on(date(2026, 8, 20))
    view = await approve_view(client, concluded["id"], world.province)
    assert [(b["code"], b.get("upheld_count")) for b in view["blocked_by"]] == [("objection-upheld", 1)]
    # A second notice does not wash an upheld objection away.
    await run_publicity(client, world.province, "approval", [concluded["id"]])
    assert [b["code"] for b in (await approve_view(client, concluded["id"], world.province))["blocked_by"]] == [
        "objection-upheld"
    ]
    rejected = await act(client, concluded["id"], "reject", world.province, reason="公示期间异议成立")
    assert rejected["status"] == "rejected"


# --- objections -----------------------------------------------------------------------------------------------------


async def test_an_objection_is_received_during_the_notice_against_one_of_its_subjects(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 9, 25))
    notice = (
        await publish(client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-09-29")
    ).json()
    on(date(2026, 10, 20))
    for received_on in ("2026-09-28", "2026-10-11"):
        outside = await objection(client, world.province, notice["id"], concluded["id"], received_on)
        body = problem(outside, 409, "rule-violation")
        assert (body["rule"], body["starts_on"], body["ends_on"]) == (
            "objection-outside-notice",
            "2026-09-29",
            "2026-10-10",
        )
    on(date(2026, 10, 5))
    future = await objection(client, world.province, notice["id"], concluded["id"], "2026-10-06")
    assert problem(future, 422, "validation-failed")["errors"][0]["loc"] == ["body", "received_on"]
    stranger = await objection(client, world.province, notice["id"], world.lead["id"], "2026-10-05")
    assert problem(stranger, 422, "validation-failed")["errors"][0]["loc"] == ["body", "subject_id"]
    holiday = await objection(client, world.province, notice["id"], concluded["id"], "2026-10-03")
    assert holiday.status_code == 201, holiday.text
    missing = await objection(client, world.province, world.lead["id"], concluded["id"], "2026-10-03")
    problem(missing, 404, "not-found")

    page = await client.get(f"{PUBLICITY}/{notice['id']}/objections", headers=world.province)
    assert [o["id"] for o in page.json()["items"]] == [holiday.json()["id"]]
    for headers in (auth("observer"), world.applicant, world.supervisor):
        hidden = await client.get(f"{PUBLICITY}/{notice['id']}/objections", headers=headers)
        problem(hidden, 404, "not-found")


async def test_the_feed_says_what_happened_and_never_who_objected(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 8, 10))
    notice = (
        await publish(
            client,
            world.province,
            kind="approval",
            subject_ids=[concluded["id"]],
            starts_on="2026-08-10",
            working_days=1,
        )
    ).json()
    objected = (await objection(client, world.province, notice["id"], concluded["id"], "2026-08-10")).json()
    await client.post(
        f"{PUBLICITY}/{notice['id']}/objections/{objected['id']}/resolve",
        json={"outcome": "dismissed", "reason": "不属实"},
        headers=world.province,
    )
    events = (await client.get("/api/v1/events", params={"limit": 1000}, headers=world.province)).json()["items"]
    ours = [e for e in events if e["type"].startswith("publicity.")]
    assert [e["type"] for e in ours] == [
        "publicity.published",
        "publicity.objection_recorded",
        "publicity.objection_resolved",
    ]
    published = ours[0]["data"]
    assert (published["kind"], published["subject_ids"], published["ends_on"]) == (
        "approval",
        [concluded["id"]],
        "2026-08-10",
    )
    assert ours[1]["data"]["subject_id"] == concluded["id"]
    assert ours[2]["data"]["outcome"] == "dismissed"
    text = str(ours)
    for secret in ("赵六", "13800000000", "研发投入数据存疑"):
        assert secret not in text


# --- reads ----------------------------------------------------------------------------------------------------------


async def test_the_public_read_shows_what_the_notice_publishes_and_nothing_else(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 9, 25))
    notice = (
        await publish(client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-09-29")
    ).json()
    public = f"/api/v1/public/publicity/{notice['id']}"
    problem(await client.get(public), 404, "not-found")  # not published before its first day
    on(date(2026, 9, 30))
    await objection(client, world.province, notice["id"], concluded["id"], "2026-09-30")
    response = await client.get(public)  # no token at all
    assert response.status_code == 200, response.text
    assert response.json() == {
        "kind": "approval",
        "title": "河南省技术创新中心拟支持建设名单公示",
        "subjects": [
            {
                "name": concluded["proposed_name"],
                "lead_org_name": world.lead["name"],
                "field": "equipment_manufacturing",
            }
        ],
        "starts_on": "2026-09-29",
        "ends_on": "2026-10-10",
        "working_days": 5,
        "status": "running",
    }
    for secret in (concluded["id"], world.lead["id"], "赵六", "13800000000", "province-x"):
        assert secret not in response.text
    problem(await client.get(f"/api/v1/public/publicity/{world.lead['id']}"), 404, "not-found")


async def test_the_published_list_downloads_as_a_pdf_stating_the_digest_of_what_it_publishes(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    on(date(2026, 9, 25))
    notice = (
        await publish(client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-09-29")
    ).json()
    pdf_path = f"/api/v1/public/publicity/{notice['id']}.pdf"
    problem(await client.get(pdf_path), 404, "not-found")  # not published before its first day
    on(date(2026, 10, 12))
    published = (await client.get(f"/api/v1/public/publicity/{notice['id']}")).json()
    response = await client.get(pdf_path)  # no token at all
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    # Anyone recomputes the printed digest from the public JSON: its canonical form without the clock's `status`.
    digest = fingerprint({k: v for k, v in published.items() if k != "status"})
    assert f"SHA-256: {digest}" in text
    for shown in ("河南省技术创新中心拟支持建设名单公示", concluded["proposed_name"], world.lead["name"], "2026-10-10"):
        assert shown in text, shown
    assert concluded["id"] not in text  # what a notice publishes: no ids
    cached = await client.get(pdf_path, headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304
    problem(await client.get(f"/api/v1/public/publicity/{world.lead['id']}.pdf"), 404, "not-found")


async def test_notices_are_read_by_the_province_and_observers_paged_and_filtered(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, on: Any
) -> None:
    concluded, _ = await reviewed(client, world, auth, publicity=False)
    w, accepted = await accepted_center(client, auth, on)
    on(date(2026, 9, 25))
    first = (
        await publish(client, world.province, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-09-14")
    ).json()
    second = (
        await publish(client, world.province, kind="recognition", subject_ids=[accepted["id"]], starts_on="2026-09-29")
    ).json()
    assert (second["subject_type"], second["subjects"][0]["lead_org_name"]) == ("center", w["lead"]["name"])
    observer = auth("observer")
    # Ordered by (created_at, id): in a test's single transaction both share created_at, so only the split is fixed.
    page = await client.get(PUBLICITY, params={"limit": 1}, headers=observer)
    assert len(page.json()["items"]) == 1
    rest = await client.get(PUBLICITY, params={"cursor": page.json()["next_cursor"]}, headers=observer)
    assert (rest.json()["next_cursor"], len(rest.json()["items"])) == (None, 1)
    assert {n["id"] for n in page.json()["items"] + rest.json()["items"]} == {first["id"], second["id"]}
    for params, expected in (
        ({"kind": "recognition"}, [second["id"]]),
        ({"status": "ended"}, [first["id"]]),
        ({"status": "scheduled"}, [second["id"]]),
        ({"status": "running"}, []),
    ):
        found = await client.get(PUBLICITY, params=params, headers=world.province)
        assert [n["id"] for n in found.json()["items"]] == expected, params
    for headers in (world.applicant, world.supervisor, w["third_party"]):
        problem(await client.get(f"{PUBLICITY}/{first['id']}", headers=headers), 404, "not-found")
        problem(await client.get(PUBLICITY, headers=headers), 404, "not-found")
    problem(
        await publish(client, observer, kind="approval", subject_ids=[concluded["id"]], starts_on="2026-09-29"),
        404,
        "not-found",
    )
