"""Random panel draws, declared conflicts and invitations through the API (issue 17 §1)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app import worker
from app.api.deps import get_review_terms
from app.db.models import PanelDrawRecord
from app.domain.draws import DrawResult, ReviewTerms
from app.domain.principal import Principal
from app.services import draws as draws_service
from app.services import expert_conflicts
from app.services.errors import NotFound
from app.settings import Settings
from tests.api.helpers import (
    SHANGHAI,
    World,
    act,
    answer_invitation,
    criteria_for_total,
    draw_panel,
    expert,
    experts,
    make_world,
    other_lead,
    pinned_clock,
    problem,
    put_panel,
    recommended,
    reviewed,
    score,
)
from tests.conftest import TokenFactory, sequence_on

SEED = bytes(range(32))


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: TokenFactory) -> World:
    return await make_world(client, auth)


@pytest.fixture
def fixed_seed(monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setattr(draws_service.secrets, "token_bytes", lambda n: SEED[:n])
    return SEED


def path(application_id: str, tail: str = "panel/draw") -> str:
    return f"/api/v1/applications/{application_id}/{tail}"


async def events(client: httpx.AsyncClient, province: dict[str, str], subject_id: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/events", params={"subject_id": subject_id, "limit": 1000}, headers=province)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def review(client: httpx.AsyncClient, application_id: str, province: dict[str, str]) -> dict[str, Any]:
    response = await client.get(path(application_id, "review"), headers=province)
    assert response.status_code == 200, response.text
    return dict(response.json())


def drawn_ids(draw: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The drawn members' and backups' expert ids, through the province's pseudonym map."""
    refs = draw["experts"]
    return [refs[r] for r in draw["members"]], [refs[r] for r in draw["backups"]]


async def pool(client: httpx.AsyncClient, world: World, per_category: int = 3) -> list[dict[str, Any]]:
    return await experts(client, world.province, per_category * 3)


# --- the draw ----------------------------------------------------------------------------------------------------


async def test_a_draw_invites_a_panel_that_anyone_with_reach_can_reproduce(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    draw = await draw_panel(client, application["id"], world.province, size=5, backups=2)
    assert draw["reproduced"] is True
    assert draw["recomputed_members"] == draw["members"]
    assert draw["recomputed_backups"] == draw["backups"]
    assert len(draw["members"]) == 5
    assert len(draw["backups"]) == 2
    assert len(draw["pool"]) == 9
    assert draw["seed_hash"] == hashlib.sha256(bytes.fromhex(draw["seed"])).hexdigest()
    assert len(bytes.fromhex(draw["seed"])) == 32
    assert draw["params"] == {
        "field": "equipment_manufacturing",
        "size": 5,
        "backups": 2,
        "category_mix": {"technical": 1, "financial": 1, "management": 1},
        "cap": 3,
    }
    members, _ = drawn_ids(draw)
    view = await review(client, application["id"], world.province)
    today = datetime.now(SHANGHAI).date()
    assert [m["expert_id"] for m in view["panel"]] == members
    assert {m["status"] for m in view["panel"]} == {"invited"}
    assert {m["reply_by"] for m in view["panel"]} == {(today + timedelta(days=3)).isoformat()}
    # The observer, the lead and its department re-run it too, under pseudonyms only.
    for reader in (auth("observer"), world.applicant, world.supervisor):
        response = await client.get(path(application["id"]), headers=reader)
        assert response.status_code == 200, response.text
        seen = response.json()
        assert seen["reproduced"] is True
        assert seen["experts"] is None
        assert seen["members"] == draw["members"]
        assert not set(members) & set(json.dumps(seen).split('"'))


async def test_the_feed_commits_to_the_seed_before_the_draw_and_reveals_it_after_naming_nobody(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world)
    panel = await pool(client, world)
    draw = await draw_panel(client, application["id"], world.province)
    feed = await events(client, world.province, application["id"])
    types = [e["type"] for e in feed]
    committed, drawn = types.index("panel.draw_committed"), types.index("panel.drawn")
    assert committed < drawn
    assert feed[committed]["data"] == {
        "draw_id": draw["draw_id"],
        "seed_hash": draw["seed_hash"],
        "pool_digest": draw["pool_digest"],
        "round": 1,
    }
    assert "seed" not in feed[committed]["data"]
    assert feed[drawn]["data"]["seed"] == draw["seed"]
    text = json.dumps(feed, ensure_ascii=False)
    for member in panel:
        assert member["id"] not in text
        assert member["name"] not in text


async def test_a_fixed_seed_gives_the_same_panel_every_time_it_is_re_run(
    client: httpx.AsyncClient, world: World, fixed_seed: bytes
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    draw = await draw_panel(client, application["id"], world.province)
    assert draw["seed"] == fixed_seed.hex()
    again = [(await client.get(path(application["id"]), headers=world.province)).json() for _ in range(3)]
    assert {(tuple(d["recomputed_members"]), tuple(d["recomputed_backups"])) for d in again} == {
        (tuple(draw["members"]), tuple(draw["backups"]))
    }
    assert all(d["reproduced"] for d in again)


async def test_a_conflicted_or_inactive_expert_is_never_drawn(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    await pool(client, world, per_category=2)
    affiliated = await expert(client, world.province, "financial", affiliation_org_id=world.lead["id"])
    relative = await expert(client, world.province, "management")
    response = await client.post(
        "/api/v1/experts/me/conflicts",
        json={"credit_code": world.university["credit_code"], "kind": "relative", "note": "配偶在该校任职"},
        headers=auth("expert", expert_id=relative["id"]),
    )
    assert response.status_code == 201, response.text
    former = await expert(client, world.province, "technical")
    left = (datetime.now(SHANGHAI).date() - timedelta(days=365)).isoformat()
    response = await client.post(
        "/api/v1/experts/me/conflicts",
        json={"org_id": world.lead["id"], "kind": "former_employer", "until": left},
        headers=auth("expert", expert_id=former["id"]),
    )
    assert response.status_code == 201, response.text
    inactive = await expert(client, world.province, "technical", active=False)
    excluded = {affiliated["id"], relative["id"], former["id"], inactive["id"]}
    for _ in range(4):
        draw = await draw_panel(client, application["id"], world.province, size=5, backups=1)
        members, backups = drawn_ids(draw)
        assert not excluded & set(members + backups)
        flagged = {draw["experts"][e["ref"]] for e in draw["pool"] if e["conflicted"]}
        assert flagged == {affiliated["id"], relative["id"], former["id"]}
        assert {draw["experts"][e["ref"]] for e in draw["pool"] if not e["active"]} == {inactive["id"]}


async def test_the_workload_cap_keeps_a_busy_expert_out_of_another_panel_of_the_call(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, app: FastAPI
) -> None:
    busy = await experts(client, world.province, 5)
    first = await recommended(client, world)
    assert (await put_panel(client, first["id"], world.province, busy)).status_code == 200
    lead_b, applicant_b = await other_lead(client, world, auth)
    second = await recommended(client, replace(world, lead=lead_b, applicant=applicant_b))
    free = await experts(client, world.province, 3)
    app.dependency_overrides[get_review_terms] = lambda: ReviewTerms(panel_cap=1)
    try:
        draw = await draw_panel(client, second["id"], world.province, size=5, backups=0, expected=409)
        assert draw["rule"] == "draw-pool-too-small"
        more = await experts(client, world.province, 3)
        draw = await draw_panel(client, second["id"], world.province, size=5, backups=1)
    finally:
        app.dependency_overrides.pop(get_review_terms, None)
    members, backups = drawn_ids(draw)
    assert set(members + backups) <= {e["id"] for e in free + more}
    assert {draw["experts"][e["ref"]] for e in draw["pool"] if e["load"] == 1} == {e["id"] for e in busy}
    assert draw["params"]["cap"] == 1


async def test_draw_parameters_outside_the_rules_are_refused_by_field(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    for body, field in (
        ({"size": 4}, "size"),
        ({"size": 16}, "size"),
        ({"backups": 11}, "backups"),
        ({"category_mix": {"technical": 1, "financial": 1}}, "category_mix"),
        ({"size": 5, "category_mix": {"technical": 4, "financial": 1, "management": 1}}, "category_mix"),
    ):
        response = await client.post(path(application["id"]), json=body, headers=world.province)
        body_problem = problem(response, 422, "validation-failed")
        assert [e["loc"] for e in body_problem["errors"]] == [["body", field]]


async def test_a_draw_is_only_for_a_recommended_or_reviewed_application(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    await put_panel(client, application["id"], world.province, (await experts(client, world.province, 5)))
    await act(client, application["id"], "open_review", world.province)
    response = await client.post(path(application["id"]), headers=world.province)
    problem(response, 409, "invalid-transition")
    response = await client.get(path(application["id"]), headers=world.province)
    problem(response, 404, "not-found")


# --- invitations --------------------------------------------------------------------------------------------------


async def test_a_decline_brings_in_the_backup_of_the_same_category(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    draw = await draw_panel(client, application["id"], world.province, backups=2)
    members, backups = drawn_ids(draw)
    category = {
        e["id"]: e["category"] for e in (await client.get("/api/v1/experts", headers=world.province)).json()["items"]
    }
    leaving = members[0]
    expected = next((b for b in backups if category[b] == category[leaving]), backups[0])
    response = await answer_invitation(client, application["id"], auth, leaving, decline="出差无法参加")
    assert response.status_code == 200, response.text
    assert response.json() == {"application_id": application["id"], "status": "declined"}
    panel = [m["expert_id"] for m in (await review(client, application["id"], world.province))["panel"]]
    assert leaving not in panel
    assert panel == [*members[1:], expected]
    seen = (await client.get(path(application["id"]), headers=world.province)).json()
    assert seen["replacements"][0]["reason"] == "出差无法参加"
    assert seen["replacements"][0]["cause"] == "declined"
    assert draw["experts"][seen["replacements"][0]["replaced_by"]] == expected
    observed = (await client.get(path(application["id"]), headers=auth("observer"))).json()
    assert "reason" not in observed["replacements"][0]
    feed = await events(client, world.province, application["id"])
    declined = [e for e in feed if e["type"] == "panel.invitation_declined"]
    assert [e["data"]["backup_invited"] for e in declined] == [True]
    assert declined[0]["actor"] == {"sub": "expert", "role": "expert"}
    assert leaving not in json.dumps(feed)
    # The expert who declined can no longer answer; the backup can.
    response = await answer_invitation(client, application["id"], auth, leaving)
    problem(response, 404, "not-found")
    assert (await answer_invitation(client, application["id"], auth, expected)).status_code == 200


async def test_a_missed_reply_deadline_brings_in_the_backup_when_the_panel_is_read(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    draw = await draw_panel(client, application["id"], world.province, backups=2)
    members, backups = drawn_ids(draw)
    for member in members[1:]:
        assert (await answer_invitation(client, application["id"], auth, member)).status_code == 200
    today = datetime.now(SHANGHAI).date()
    # On the last day the invitation still stands.
    with pinned_clock(client, datetime.combine(today + timedelta(days=3), time(23), SHANGHAI)):
        panel = (await review(client, application["id"], world.province))["panel"]
    assert members[0] in [m["expert_id"] for m in panel]
    with pinned_clock(client, datetime.combine(today + timedelta(days=4), time(9), SHANGHAI)):
        panel = (await review(client, application["id"], world.province))["panel"]
        response = await answer_invitation(client, application["id"], auth, members[0])
    ids = [m["expert_id"] for m in panel]
    assert members[0] not in ids
    assert len(ids) == 5
    newcomer = next(m for m in panel if m["expert_id"] not in members)
    assert newcomer["expert_id"] in backups
    assert newcomer["status"] == "invited"
    assert newcomer["reply_by"] == (today + timedelta(days=7)).isoformat()
    problem(response, 404, "not-found")
    feed = await events(client, world.province, application["id"])
    lapsed = [e for e in feed if e["type"] == "panel.invitation_expired"]
    assert len(lapsed) == 1
    assert lapsed[0]["actor"] == {"sub": "system", "role": "system"}
    assert lapsed[0]["data"]["backup_invited"] is True


async def test_an_invitation_answered_late_is_refused_after_the_backup_is_called(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 6)
    draw = await draw_panel(client, application["id"], world.province, backups=1)
    members, _ = drawn_ids(draw)
    assert (await answer_invitation(client, application["id"], auth, members[0])).status_code == 200
    response = await answer_invitation(client, application["id"], auth, members[0])
    assert problem(response, 409, "rule-violation")["rule"] == "invitation-answered"
    later = datetime.combine(datetime.now(SHANGHAI).date() + timedelta(days=4), time(9), SHANGHAI)
    with pinned_clock(client, later):
        # Acting on the panel lapses the overdue invitations first; the one expert asking is one of them.
        response = await answer_invitation(client, application["id"], auth, members[1])
    assert problem(response, 409, "rule-violation")["rule"] == "invitation-expired"
    assert len(panel) == 6


async def test_with_no_backup_left_a_decline_leaves_a_seat_empty(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    await experts(client, world.province, 5)
    draw = await draw_panel(client, application["id"], world.province, backups=2)
    assert draw["backups"] == []
    members, _ = drawn_ids(draw)
    response = await answer_invitation(client, application["id"], auth, members[0], decline="回避")
    assert response.status_code == 200
    feed = await events(client, world.province, application["id"])
    declined = next(e for e in feed if e["type"] == "panel.invitation_declined")
    assert declined["data"] == {
        "action": "decline_invitation",
        "from": "recommended",
        "to": "recommended",
        "reason": None,
        "round": 1,
        "backup_invited": False,
        "backups_left": 0,
    }


async def test_open_review_needs_the_accepted_members_to_make_a_valid_panel(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    await experts(client, world.province, 6)
    draw = await draw_panel(client, application["id"], world.province, size=6, backups=0)
    members, _ = drawn_ids(draw)
    actions = (await client.get(path(application["id"], "actions"), headers=world.province)).json()
    blocked = next(a for a in actions if a["action"] == "open_review")["blocked_by"]
    assert [b["code"] for b in blocked] == ["panel-missing", "panel-invitations-pending"]
    # Every category appears twice among the six: whoever stays pending, the other five cover all three.
    pending, accepting = members[0], members[1:]
    for member in accepting[:4]:
        assert (await answer_invitation(client, application["id"], auth, member)).status_code == 200
    response = await client.post(path(application["id"], "open_review"), headers=world.province)
    assert response.status_code == 409, response.text
    assert [b["code"] for b in response.json()["blocked_by"]] == ["panel-too-small", "panel-invitations-pending"]
    assert (await answer_invitation(client, application["id"], auth, accepting[4])).status_code == 200
    accepted = set(accepting)
    opened = await act(client, application["id"], "open_review", world.province)
    assert opened["status"] == "under_review"
    response = await score(client, application["id"], auth, {"id": pending}, criteria_for_total(80))
    assert problem(response, 409, "rule-violation")["rule"] == "invitation-not-accepted"
    response = await score(client, application["id"], auth, {"id": next(iter(accepted))}, criteria_for_total(80))
    assert response.status_code == 201, response.text


async def test_the_province_sees_who_is_late_to_score(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    opened = await act(client, application["id"], "open_review", world.province)
    today = datetime.now(SHANGHAI).date()
    view = await review(client, opened["id"], world.province)
    assert view["scores_due_on"] == (today + timedelta(days=14)).isoformat()
    await score(client, opened["id"], auth, panel[0], criteria_for_total(80), expected=201)
    with pinned_clock(client, datetime.combine(today + timedelta(days=14), time(20), SHANGHAI)):
        on_time = await review(client, opened["id"], world.province)
    assert [m["late"] for m in on_time["panel"]] == [False] * 5
    with pinned_clock(client, datetime.combine(today + timedelta(days=15), time(9), SHANGHAI)):
        late = await review(client, opened["id"], world.province)
    assert [m["late"] for m in late["panel"]] == [False, True, True, True, True]
    # Only the province sees the panel at all.
    assert (await review(client, opened["id"], world.applicant))["panel"] is None


# --- declared conflicts ---------------------------------------------------------------------------------------------


async def test_an_expert_declares_conflicts_and_lists_them_page_by_page(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    me = await expert(client, world.province)
    headers = auth("expert", expert_id=me["id"])
    for kind in ("affiliation", "relative", "other"):
        response = await client.post(
            "/api/v1/experts/me/conflicts", json={"org_id": world.university["id"], "kind": kind}, headers=headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["credit_code"] == world.university["credit_code"]
    first = (await client.get("/api/v1/experts/me/conflicts", params={"limit": 2}, headers=headers)).json()
    assert [c["kind"] for c in first["items"]] == ["affiliation", "relative"]
    rest = (
        await client.get(
            "/api/v1/experts/me/conflicts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert [c["kind"] for c in rest["items"]] == ["other"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "relative"}, None),
        ({"kind": "former_employer"}, "until"),
        ({"kind": "relative", "until": "2025-01-01"}, "until"),
        ({"kind": "former_employer", "until": "9999-12-31"}, "until"),
    ],
)
async def test_a_declaration_names_one_organisation_and_a_former_employer_its_end(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, body: dict[str, Any], field: str | None
) -> None:
    me = await expert(client, world.province)
    payload = {**body, "org_id": world.lead["id"]} if field else body
    response = await client.post(
        "/api/v1/experts/me/conflicts", json=payload, headers=auth("expert", expert_id=me["id"])
    )
    errors = problem(response, 422, "validation-failed")["errors"]
    assert errors[0]["loc"][: 2 if field else 1] == (["body", field] if field else ["body"])


async def test_a_credit_code_nobody_has_is_an_invalid_reference(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    me = await expert(client, world.province)
    response = await client.post(
        "/api/v1/experts/me/conflicts",
        json={"credit_code": "91410100MA44ZZZZ0Z", "kind": "other"},
        headers=auth("expert", expert_id=me["id"]),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "credit_code"]


async def test_a_declared_relative_makes_a_manual_panel_recuse(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    response = await client.post(
        "/api/v1/experts/me/conflicts",
        json={"org_id": world.university["id"], "kind": "relative"},
        headers=auth("expert", expert_id=panel[2]["id"]),
    )
    assert response.status_code == 201
    body = problem(await put_panel(client, application["id"], world.province, panel), 409, "conflict-of-interest")
    assert (body["expert_id"], body["org_id"], body["cause"]) == (panel[2]["id"], world.university["id"], "relative")


async def test_only_experts_declare_and_only_the_province_draws(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    for headers in (world.province, world.applicant, auth("observer")):
        response = await client.get("/api/v1/experts/me/conflicts", headers=headers)
        problem(response, 404, "not-found")
    for headers in (world.applicant, world.supervisor, auth("observer")):
        problem(await client.post(path(application["id"]), headers=headers), 404, "not-found")
    problem(
        await client.post(path(application["id"], "panel/invitation/accept"), headers=world.province), 404, "not-found"
    )


async def test_the_worker_lapses_overdue_invitations_and_calls_in_the_backups(
    client: httpx.AsyncClient, world: World, connection: AsyncConnection, settings: Settings
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    with pinned_clock(client, datetime.now(SHANGHAI) - timedelta(days=10)):
        draw = await draw_panel(client, application["id"], world.province, backups=2)
    members, backups = drawn_ids(draw)
    sessions = async_sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    runtime = worker.Runtime(settings=settings, sessionmaker=sessions, http=None, targets=None, box=None)  # type: ignore[arg-type]
    assert await worker.expire_invitations_once(runtime) == 5
    # The backups were invited today: nothing more is due.
    assert await worker.expire_invitations_once(runtime) == 0
    await sequence_on(connection)  # what the worker's sequencer does moments after the sweep's commits
    panel = (await review(client, application["id"], world.province))["panel"]
    assert sorted(m["expert_id"] for m in panel) == sorted(backups)
    assert not set(members) & {m["expert_id"] for m in panel}
    feed = await events(client, world.province, application["id"])
    lapsed = [e["data"]["backup_invited"] for e in feed if e["type"] == "panel.invitation_expired"]
    assert sorted(lapsed) == [False, False, False, True, True]


async def test_a_declaration_names_a_real_organisation_and_a_real_expert(
    client: httpx.AsyncClient, world: World, auth: TokenFactory, session: AsyncSession
) -> None:
    me = await expert(client, world.province)
    response = await client.post(
        "/api/v1/experts/me/conflicts",
        json={"org_id": str(uuid.uuid4()), "kind": "other"},
        headers=auth("expert", expert_id=me["id"]),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "org_id"]
    nobody = auth("expert", expert_id=str(uuid.uuid4()))
    problem(await client.get("/api/v1/experts/me/conflicts", headers=nobody), 404, "not-found")
    with pytest.raises(NotFound):
        await expert_conflicts.list_mine(session, Principal(sub="p", role="province"), after=0, limit=1)


async def test_an_expert_declares_at_most_100_conflicts(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    me = await expert(client, world.province)
    headers = auth("expert", expert_id=me["id"])
    for _ in range(100):
        response = await client.post(
            "/api/v1/experts/me/conflicts", json={"org_id": world.lead["id"], "kind": "other"}, headers=headers
        )
        assert response.status_code == 201
    response = await client.post(
        "/api/v1/experts/me/conflicts", json={"org_id": world.lead["id"], "kind": "other"}, headers=headers
    )
    assert problem(response, 409, "rule-violation")["rule"] == "conflicts-limit"


async def test_a_reviewed_application_draws_the_panel_of_its_next_round(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    concluded, _ = await reviewed(client, world, auth)
    await act(client, concluded["id"], "request_revision", world.province, reason="请细化经费投入方案")
    await act(client, concluded["id"], "resubmit", world.applicant)
    await pool(client, world)
    draw = await draw_panel(client, concluded["id"], world.province)
    assert draw["round"] == 2
    members, _ = drawn_ids(draw)
    for member in members:
        assert (await answer_invitation(client, concluded["id"], auth, member)).status_code == 200
    reopened = await act(client, concluded["id"], "open_review", world.province)
    assert (reopened["status"], reopened["review_round"]) == ("under_review", 2)
    feed = await events(client, world.province, concluded["id"])
    accepted = [e["data"]["accepted"] for e in feed if e["type"] == "panel.invitation_accepted"]
    assert accepted == [1, 2, 3, 4, 5]


async def test_a_panel_set_by_hand_after_a_draw_counts_as_accepted(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    application = await recommended(client, world)
    everyone = await pool(client, world)
    await draw_panel(client, application["id"], world.province)
    chosen = everyone[:5]
    assert (await put_panel(client, application["id"], world.province, chosen)).status_code == 200
    panel = (await review(client, application["id"], world.province))["panel"]
    assert [(m["expert_id"], m["status"], m["reply_by"]) for m in panel] == [
        (e["id"], "accepted", None) for e in chosen
    ]
    assert (await act(client, application["id"], "open_review", world.province))["status"] == "under_review"


async def test_a_stored_draw_whose_snapshot_no_longer_draws_is_reported_not_reproduced(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world)
    await pool(client, world)
    draw = await draw_panel(client, application["id"], world.province)
    stored = PanelDrawRecord(**{**DRAW_FIELDS, "pool": [], "params": draw["params"]})
    assert draws_service.recompute(stored) == (DrawResult((), ()), False)
    tampered = PanelDrawRecord(
        **{
            **DRAW_FIELDS,
            "seed": draw["seed"],
            "pool": draw["pool"],
            "params": draw["params"],
            "members": draw["members"],
            "backups": draw["backups"],
            "seed_hash": draw["seed_hash"],
            "pool_digest": "0" * 64,
        }
    )
    result, same = draws_service.recompute(tampered)
    assert (list(result.members), same) == (draw["members"], False)


DRAW_FIELDS: dict[str, Any] = {"seed": "00" * 32, "seed_hash": "", "pool_digest": "", "members": [], "backups": []}
