"""Reads at the floor (issue 13): how many SQL statements a request sends, pinned, so an N+1 cannot come back.

The requests run as in production (the service's own session per request, committed for real: `committed_client`),
and `tests/querycount.py` counts every statement the engine sends, the transaction's own BEGIN and COMMIT included.
A single read sends at most 3, a transition at most 8, a page at most 5 — and a page of 50 sends exactly as many as a
page of 1: the guard facts of a page are gathered in one query per fact kind, not one per row. Every list's
`allowed_actions` are also compared, row by row, with the single read's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import (
    PDF_BYTES,
    World,
    act,
    attach,
    draft,
    make_world,
    open_call,
    other_lead,
    recommended,
    reviewed,
    run_publicity,
    submitted,
    under_review,
)
from tests.api.test_centers import accepted_report, import_center, orgs
from tests.querycount import Statements, count_statements

pytestmark = pytest.mark.race  # commits for real; committed_client empties the tables afterwards

SINGLE_READ = 3
PAGE = 5
# BEGIN, the locked load, UPDATE, the history INSERT, the event_queue INSERT, COMMIT (issue 14: no feed lock, no head
# read; the sequencer chains the event on its own connection).
TRANSITION = 6
CENTERS = "/api/v1/centers"
APPS = "/api/v1/applications"


async def sent_by(engine: AsyncEngine, request: Any) -> tuple[httpx.Response, Statements]:
    with count_statements(engine) as sent:
        response = await request
    assert response.status_code in (200, 201), response.text
    return response, sent


async def page_counts(
    client: httpx.AsyncClient, engine: AsyncEngine, path: str, headers: dict[str, str], full: int
) -> tuple[Statements, Statements, list[dict[str, Any]]]:
    """(statements for a page of 1, for a page of `full`, the items of the full page)."""
    one, sent_one = await sent_by(engine, client.get(path, params={"limit": 1}, headers=headers))
    assert len(one.json()["items"]) == 1
    many, sent_many = await sent_by(engine, client.get(path, params={"limit": full}, headers=headers))
    assert len(many.json()["items"]) == full, many.json()
    return sent_one, sent_many, many.json()["items"]


async def assert_rows_read_alike(
    client: httpx.AsyncClient, path: str, items: list[dict[str, Any]], headers: dict[str, str]
) -> None:
    """Every row of a page shows the allowed actions the single read of that row shows (and is the same row)."""
    for item in items:
        single = await client.get(f"{path}/{item['id']}", headers=headers)
        assert single.status_code == 200, single.text
        assert single.json() == item, (item["id"], single.json()["allowed_actions"], item["allowed_actions"])


# --- centers -----------------------------------------------------------------------------------------------------


@pytest.fixture
async def centers(committed_client: httpx.AsyncClient, auth: Any) -> dict[str, Any]:
    """One lead's 50 centers in several states and windows, two with an accepted annual report (a fact of the lead's
    guards)."""
    w = await orgs(committed_client, auth)
    made = []
    for i in range(50):
        status = ("under_construction", "recognized")[i % 2]
        extra: dict[str, Any] = {"recognized_on": "2025-12-20"} if status == "recognized" else {}
        if i % 4 == 2:  # still building, not yet in the acceptance window
            extra.update(construction_starts_on="2024-12-01", construction_ends_on="2027-11-30")
        made.append(await import_center(committed_client, w, name=f"河南省技术创新中心{i:02d}", status=status, **extra))
    for center in made[:2]:
        await accepted_report(committed_client, w, center["id"], 2023)
    return {**w, "centers": made}


@pytest.mark.parametrize("role", ["applicant", "supervisor", "province", "third_party"])
async def test_a_center_page_of_50_sends_what_a_page_of_1_sends_and_matches_the_single_reads(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, centers: dict[str, Any], role: str
) -> None:
    headers = centers[role]
    if role == "third_party":  # an agency reads the centers whose acceptance it is entrusted with
        for center in centers["centers"]:
            response = await committed_client.patch(
                f"{CENTERS}/{center['id']}",
                json={"acceptance_agency_org_id": centers["agency"]["id"]},
                headers=centers["province"],
            )
            assert response.status_code == 200, response.text
    sent_one, sent_many, items = await page_counts(committed_client, engine, CENTERS, headers, 50)
    assert len(sent_many) == len(sent_one), f"page of 1:\n{sent_one.render()}\npage of 50:\n{sent_many.render()}"
    assert len(sent_many) <= PAGE, sent_many.render()
    await assert_rows_read_alike(committed_client, CENTERS, items, headers)


async def test_an_inbox_page_is_one_statement_whatever_its_size(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, centers: dict[str, Any]
) -> None:
    """Every source of the caller's inbox is read in one UNION ALL statement (issue 17 §3), so a page of 50 items
    from 50 centers sends what a page of 1 sends; the province's inbox reads more sources in that one statement."""
    sent_one, sent_many, items = await page_counts(committed_client, engine, "/api/v1/inbox", centers["applicant"], 50)
    assert len(sent_many) == len(sent_one) == 1, f"page of 1:\n{sent_one.render()}\npage of 50:\n{sent_many.render()}"
    assert {item["subject"]["type"] for item in items} == {"center"}
    _, sent = await sent_by(engine, committed_client.get("/api/v1/inbox", headers=centers["province"]))
    assert len(sent) == 1, sent.render()


@pytest.mark.parametrize("role", ["applicant", "supervisor", "province", "third_party"])
async def test_a_single_center_read_sends_at_most_3_statements(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any, role: str
) -> None:
    w = await orgs(committed_client, auth)
    center = await import_center(committed_client, w)
    await accepted_report(committed_client, w, center["id"], 2023)
    if role == "third_party":
        response = await committed_client.patch(
            f"{CENTERS}/{center['id']}", json={"acceptance_agency_org_id": w["agency"]["id"]}, headers=w["province"]
        )
        assert response.status_code == 200, response.text
    response, sent = await sent_by(engine, committed_client.get(f"{CENTERS}/{center['id']}", headers=w[role]))
    assert len(sent) <= SINGLE_READ, sent.render()
    assert response.json()["id"] == center["id"]


async def test_a_center_transition_sends_at_most_6_statements(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    w = await orgs(committed_client, auth)
    center = await import_center(committed_client, w)
    response, sent = await sent_by(
        engine,
        committed_client.post(
            f"{CENTERS}/{center['id']}/request_exit", json={"reason": "战略调整"}, headers=w["applicant"]
        ),
    )
    assert response.json()["status"] == "under_construction"
    assert len(sent) <= TRANSITION, sent.render()


# --- applications ------------------------------------------------------------------------------------------------


async def mixed_applications(client: httpx.AsyncClient, auth: Any, world: World) -> None:
    """Applications in every state the province and the supervisor have guards for, each under a lead of its own."""

    async def lead() -> World:
        _, applicant = await other_lead(client, world, auth)
        org = applicant  # the applicant headers carry the new lead's org
        return World(**{**world.__dict__, "applicant": org})

    for build in (submitted, recommended):
        await build(client, await lead())
    await under_review(client, await lead(), auth)
    await reviewed(client, await lead(), auth)


async def test_an_application_page_sends_one_query_per_fact_kind_whatever_its_size(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    world = await make_world(committed_client, auth)
    # A lead's drafts: submit is open on each, so each row's guards need its eligibility (the heaviest facts).
    for i in range(50):
        await draft(committed_client, world, proposed_name=f"河南省技术创新中心草案{i:02d}")
    sent_one, sent_many, items = await page_counts(committed_client, engine, APPS, world.applicant, 50)
    assert len(sent_many) == len(sent_one), f"page of 1:\n{sent_one.render()}\npage of 50:\n{sent_many.render()}"
    assert len(sent_many) <= PAGE, sent_many.render()
    assert all(item["allowed_actions"] == ["submit", "withdraw"] for item in items), items[0]
    await assert_rows_read_alike(committed_client, APPS, items, world.applicant)


async def test_a_mixed_application_page_matches_the_single_reads_for_every_role(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    world = await make_world(committed_client, auth)
    await mixed_applications(committed_client, auth, world)
    counts = {}
    for role, headers in (("province", world.province), ("supervisor", world.supervisor)):
        response, sent = await sent_by(engine, committed_client.get(APPS, params={"limit": 50}, headers=headers))
        items = response.json()["items"]
        assert len(items) == 4
        assert len(sent) <= PAGE, sent.render()
        counts[role] = len(sent)
        await assert_rows_read_alike(committed_client, APPS, items, headers)
    # The same kinds of rows, twice as many of each: not one statement more.
    await mixed_applications(committed_client, auth, world)
    response, sent = await sent_by(engine, committed_client.get(APPS, params={"limit": 50}, headers=world.province))
    assert len(response.json()["items"]) == 8
    assert len(sent) == counts["province"], sent.render()


async def test_a_single_application_read_and_a_transition_stay_within_their_statements(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    world = await make_world(committed_client, auth)
    application = await draft(committed_client, world)
    for headers in (world.applicant, world.supervisor, world.province):
        _, sent = await sent_by(engine, committed_client.get(f"{APPS}/{application['id']}", headers=headers))
        assert len(sent) <= SINGLE_READ, sent.render()
    application = await act(committed_client, application["id"], "submit", world.applicant)
    response, sent = await sent_by(
        engine, committed_client.post(f"{APPS}/{application['id']}/recommend", headers=world.supervisor)
    )
    assert response.json()["status"] == "recommended"
    assert len(sent) <= TRANSITION, sent.render()


# --- official documents --------------------------------------------------------------------------------------------


async def test_a_document_read_its_pdf_and_a_page_of_documents_stay_at_the_floor(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    """A document with its event's seq is one statement (reach and seq in it), its PDF too; a list is the center's
    load and one page query (a document row has no guards, so nothing is read per row)."""
    w = await orgs(committed_client, auth)
    made = []
    for i in range(6):
        center = await import_center(committed_client, w, name=f"河南省技术创新中心{i:02d}")
        revoked = await committed_client.post(
            f"{CENTERS}/{center['id']}/revoke",
            json={"reason_code": "fraud", "reason": "弄虚作假", "decided_on": "2026-04-01"},
            headers=w["province"],
        )
        assert revoked.status_code == 200, revoked.text
        made.append(center)
    listed = (await committed_client.get(f"{CENTERS}/{made[0]['id']}/documents", headers=w["province"])).json()
    (document,) = listed["items"]
    for role in ("province", "supervisor", "applicant"):
        response, sent = await sent_by(
            engine, committed_client.get(f"/api/v1/documents/{document['id']}", headers=w[role])
        )
        assert len(sent) <= SINGLE_READ, sent.render()
        assert response.json()["event_seq"] is not None
        _, sent = await sent_by(
            engine, committed_client.get(f"/api/v1/documents/{document['id']}.pdf", headers=w[role])
        )
        assert len(sent) <= SINGLE_READ, sent.render()
    response, sent = await sent_by(
        engine, committed_client.get(f"{CENTERS}/{made[0]['id']}/documents", headers=w["supervisor"])
    )
    assert len(sent) <= PAGE, sent.render()


# --- public notices (公示) -----------------------------------------------------------------------------------------


async def test_a_notice_page_sends_what_a_page_of_1_sends_and_a_notice_is_read_in_one_statement(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    """A notice's entries come with it (one statement for a page of notices and all their entries), the same for
    the public read; and the application page's approve guard reads the notices in one query (above)."""
    world = await make_world(committed_client, auth)
    concluded, _ = await reviewed(committed_client, world, auth)  # its 公示 runs when the review concludes
    for _ in range(4):
        await run_publicity(committed_client, world.province, "approval", [concluded["id"]])
    path = "/api/v1/publicity"
    sent_one, sent_many, items = await page_counts(committed_client, engine, path, world.province, 5)
    assert len(sent_many) == len(sent_one), f"page of 1:\n{sent_one.render()}\npage of 5:\n{sent_many.render()}"
    assert len(sent_many) <= PAGE, sent_many.render()
    await assert_rows_read_alike(committed_client, path, items, world.province)
    for url, headers in (
        (f"{path}/{items[0]['id']}", world.province),
        (f"/api/v1/public/publicity/{items[0]['id']}", {}),
    ):
        _, sent = await sent_by(engine, committed_client.get(url, headers=headers))
        assert len(sent) <= SINGLE_READ, sent.render()


async def test_attachment_reads_and_the_formal_review_checklist_stay_within_a_single_reads_statements(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    """Issue 16: a page of attachments, one attachment, its content and the formal-review checklist each send at
    most 3 statements; a page of 20 attachments sends what a page of 1 sends."""
    world = await make_world(committed_client, auth)
    application = await recommended(committed_client, world, formally_reviewed=False)
    path = f"{APPS}/{application['id']}"
    draft_app = await draft(committed_client, replace(world, call=await open_call(committed_client, world.province)))
    for i in range(20):
        await attach(committed_client, f"{APPS}/{draft_app['id']}", world.applicant, content=PDF_BYTES + bytes([i]))
    sent_one, sent_many, items = await page_counts(
        committed_client, engine, f"{APPS}/{draft_app['id']}/attachments", world.province, 20
    )
    assert len(sent_many) == len(sent_one) <= SINGLE_READ, sent_many.render()
    attachment = items[0]["id"]
    for url in (
        f"{APPS}/{draft_app['id']}/attachments/{attachment}",
        f"{APPS}/{draft_app['id']}/attachments/{attachment}/content",
        f"{path}/formal-review",
    ):
        _, sent = await sent_by(engine, committed_client.get(url, headers=world.province))
        assert len(sent) <= SINGLE_READ, (url, sent.render())
