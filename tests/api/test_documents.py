"""Official documents (issue 16 §4): issued with their decisions, numbered by the register or given, read within
reach, downloaded as a PDF that states the number and the digest the feed records."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import fingerprint
from tests.api.helpers import (
    APPROVAL,
    act,
    attach_evidence,
    criteria_for_total,
    draft,
    experts,
    formal_review,
    make_world,
    other_lead,
    problem,
    put_panel,
    reviewed,
    run_publicity,
    score,
)
from tests.api.test_centers import at, beijing, center_action, import_center, orgs, ready_for_acceptance

__all__ = ["at"]  # the clock-pinning fixture, used by the center scenarios below

API = "/api/v1"


async def approve(client: httpx.AsyncClient, world: Any, auth: Any, **body: Any) -> dict[str, Any]:
    """An approved application of a new lead (one live application per lead and call) in `world`'s call."""
    _, applicant = await other_lead(client, world, auth)
    application = await draft(client, world, applicant)
    await attach_evidence(client, application["id"], applicant)
    await act(client, application["id"], "submit", applicant)
    await act(client, application["id"], "recommend", world.supervisor)
    await formal_review(client, application["id"], world.province)
    panel = await experts(client, world.province, 5)
    assert (await put_panel(client, application["id"], world.province, panel)).status_code == 200
    await act(client, application["id"], "open_review", world.province)
    for member in panel:
        await score(client, application["id"], auth, member, criteria_for_total(80), expected=201)
    await act(client, application["id"], "conclude_review", world.province)
    return await act(client, application["id"], "approve", world.province, **{**APPROVAL, **body})


async def only_document(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"{API}{path}/documents", headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 1, items
    return dict(items[0])


async def event_of(client: httpx.AsyncClient, headers: dict[str, str], subject_id: str, type: str) -> dict[str, Any]:
    response = await client.get(f"{API}/events", headers=headers, params={"subject_id": subject_id, "limit": 200})
    assert response.status_code == 200, response.text
    found = [e for e in response.json()["items"] if e["type"] == type]
    assert len(found) == 1, found
    return dict(found[0])


async def test_an_approval_without_a_number_gets_the_registers_first_and_the_feed_records_its_digest(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    approved = await approve(client, world, auth)
    assert approved["document_no"] == "豫科〔2026〕1号"
    document = await only_document(client, f"/applications/{approved['id']}", world.province)
    assert (document["kind"], document["kind_label"], document["number"]) == ("approval", "批复", "豫科〔2026〕1号")
    assert (document["year"], document["seq"], document["external"]) == (2026, 1, False)
    assert document["issued_on"] == "2026-08-11"
    assert document["subject"] == {"type": "application", "id": approved["id"], "name": approved["proposed_name"]}
    assert document["title"] == f"河南省科学技术厅关于同意建设{approved['proposed_name']}的批复"
    assert document["center_id"] == approved["center_id"]
    # The digest is the SHA-256 of the canonical content, and the same the feed event records.
    assert document["sha256"] == fingerprint(document["content"])
    assert document["content"]["data"]["document_no"] == "豫科〔2026〕1号"
    event = await event_of(client, world.province, approved["id"], "application.approved")
    assert event["data"]["decision_sha256"] == document["sha256"]
    assert event["data"]["document"] == {
        "id": document["id"],
        "number": "豫科〔2026〕1号",
        "sha256": document["sha256"],
    }
    assert event["data"]["document_no"] == "豫科〔2026〕1号"
    # Listed under the center it created as well, and readable by id with the event's seq.
    assert (await only_document(client, f"/centers/{approved['center_id']}", world.supervisor))["id"] == document["id"]
    single = await client.get(f"{API}/documents/{document['id']}", headers=world.supervisor)
    assert single.status_code == 200, single.text
    assert single.json()["event_seq"] == event["seq"]
    center = (await client.get(f"{API}/centers/{approved['center_id']}", headers=world.province)).json()
    assert center["approval_document_no"] == "豫科〔2026〕1号"


async def test_numbers_follow_one_another_and_skip_one_given_externally(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    external = await approve(client, world, auth, document_no="豫科〔2026〕2号")
    first = await approve(client, world, auth)
    third = await approve(client, world, auth)
    assert [first["document_no"], external["document_no"], third["document_no"]] == [
        "豫科〔2026〕1号",
        "豫科〔2026〕2号",
        "豫科〔2026〕3号",
    ]
    kept = await only_document(client, f"/applications/{external['id']}", world.province)
    assert (kept["number"], kept["external"], kept["seq"]) == ("豫科〔2026〕2号", True, None)


async def test_an_external_number_is_kept_as_given(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    approved = await approve(client, world, auth, document_no="豫政文〔2025〕88号")
    assert approved["document_no"] == "豫政文〔2025〕88号"
    document = await only_document(client, f"/applications/{approved['id']}", world.province)
    assert (document["number"], document["external"], document["year"]) == ("豫政文〔2025〕88号", True, 2026)
    # No register number was consumed: the next approval without a number is the year's first.
    assert (await approve(client, world, auth))["document_no"] == "豫科〔2026〕1号"


async def test_a_number_already_used_is_a_409_and_the_approval_is_not_made(
    client: httpx.AsyncClient, auth: Any
) -> None:
    world = await make_world(client, auth)
    await approve(client, world, auth)
    application, _ = await reviewed(client, world, auth)
    response = await client.post(
        f"{API}/applications/{application['id']}/approve",
        headers=world.province,
        json={**APPROVAL, "document_no": "豫科〔2026〕1号"},
    )
    body = problem(response, 409, "already-exists")
    assert body["field"] == "document_no"
    after = (await client.get(f"{API}/applications/{application['id']}", headers=world.province)).json()
    assert (after["status"], after["document_no"], after["center_id"]) == ("reviewed", None, None)


async def test_the_pdf_states_the_number_and_the_digest(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    approved = await approve(client, world, auth)
    document = await only_document(client, f"/applications/{approved['id']}", world.province)
    response = await client.get(f"{API}/documents/{document['id']}.pdf", headers=world.supervisor)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="document-{document["id"]}.pdf"; '
        "filename*=UTF-8''%E8%B1%AB%E7%A7%91%E3%80%942026%E3%80%951%E5%8F%B7.pdf"
    )
    assert response.content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert document["sha256"] in text
    assert "豫科〔2026〕1号" in text
    assert approved["proposed_name"] in text
    event = await event_of(client, world.province, approved["id"], "application.approved")
    assert f"Event seq: {event['seq']}" in text
    etag = response.headers["etag"]
    again = await client.get(
        f"{API}/documents/{document['id']}.pdf", headers={**world.supervisor, "If-None-Match": etag}
    )
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    raw = await client.get(
        f"{API}/documents/{document['id']}.pdf", headers={**world.supervisor, "Accept": "application/octet-stream"}
    )
    assert (raw.headers["content-type"], raw.content) == ("application/octet-stream", response.content)


async def test_documents_are_hidden_outside_their_subjects_reach(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    approved = await approve(client, world, auth)
    document = await only_document(client, f"/applications/{approved['id']}", world.province)
    stranger = auth("applicant", org_id="00000000-0000-0000-0000-000000000001")
    off_panel = auth("expert", expert_id="00000000-0000-0000-0000-000000000002")
    for path in (f"/documents/{document['id']}", f"/documents/{document['id']}.pdf"):
        problem(await client.get(f"{API}{path}", headers=stranger), 404, "not-found")
        problem(await client.get(f"{API}{path}", headers=off_panel), 404, "not-found")
    problem(await client.get(f"{API}/centers/{approved['center_id']}/documents", headers=stranger), 404, "not-found")
    problem(await client.get(f"{API}/applications/{approved['id']}/documents", headers=stranger), 404, "not-found")
    unknown = "00000000-0000-0000-0000-0000000000ff"
    problem(await client.get(f"{API}/documents/{unknown}", headers=world.province), 404, "not-found")


async def test_recognition_rectification_and_revocation_issue_documents(
    client: httpx.AsyncClient, auth: Any, at: Any
) -> None:
    w, center = await ready_for_acceptance(client, auth)
    at(beijing(2025, 11, 1))
    await center_action(client, center["id"], "request_acceptance", w["applicant"])
    at(beijing(2026, 1, 20))
    failed = await center_action(
        client, center["id"], "record_acceptance", w["province"], result="failed", decided_on="2026-01-20"
    )
    assert failed["status"] == "rectifying"
    at(beijing(2026, 3, 1))
    await center_action(client, center["id"], "request_acceptance", w["applicant"])
    at(beijing(2026, 4, 1))
    await center_action(
        client, center["id"], "record_acceptance", w["province"], result="passed", decided_on="2026-04-01"
    )
    await run_publicity(client, w["province"], "recognition", [center["id"]])  # ended by 2026-03-31
    recognized = await center_action(client, center["id"], "recognize", w["province"], decided_on="2026-04-01")
    assert recognized["recognition_document_no"] == "豫科〔2026〕2号"
    revoked = await center_action(
        client,
        center["id"],
        "revoke",
        w["province"],
        reason_code="fraud",
        reason="弄虚作假",
        decided_on="2026-04-01",
    )
    assert revoked["status"] == "revoked"
    response = await client.get(f"{API}/centers/{center['id']}/documents", headers=w["supervisor"])
    assert response.status_code == 200, response.text
    documents = response.json()["items"]
    assert [(d["kind"], d["number"]) for d in documents] == [
        ("rectification", "豫科〔2026〕1号"),
        ("recognition", "豫科〔2026〕2号"),
        ("revocation", "豫科〔2026〕3号"),
    ]
    rectification, recognition, revocation = documents
    assert rectification["content"]["data"]["rectification_due_on"] == "2026-04-20"
    assert recognition["title"] == "河南省科学技术厅关于认定河南省某技术创新中心为河南省技术创新中心的通知"
    assert revocation["content"]["reason"] == "弄虚作假"
    assert all(d["subject"]["type"] == "center" and d["application_id"] is None for d in documents)
    text = "".join(
        page.extract_text()
        for page in PdfReader(
            io.BytesIO((await client.get(f"{API}/documents/{revocation['id']}.pdf", headers=w["province"])).content)
        ).pages
    )
    assert revocation["sha256"] in text
    assert "弄虚作假" in text


async def test_a_second_failed_acceptance_revokes_with_a_numbered_revocation(
    client: httpx.AsyncClient, auth: Any, at: Any
) -> None:
    """Every revocation is a decision the province notifies, not only `revoke`: the second failed acceptance too."""
    w, center = await ready_for_acceptance(client, auth)
    at(beijing(2025, 11, 1))
    await center_action(client, center["id"], "request_acceptance", w["applicant"])
    at(beijing(2026, 1, 20))
    await center_action(
        client, center["id"], "record_acceptance", w["province"], result="failed", decided_on="2026-01-20"
    )
    at(beijing(2026, 3, 1))
    await center_action(client, center["id"], "request_acceptance", w["applicant"])
    at(beijing(2026, 4, 1))
    revoked = await center_action(
        client, center["id"], "record_acceptance", w["province"], result="failed", decided_on="2026-04-01"
    )
    assert revoked["status"] == "revoked"
    documents = (await client.get(f"{API}/centers/{center['id']}/documents", headers=w["province"])).json()["items"]
    assert [(d["kind"], d["number"], d["issued_on"]) for d in documents] == [
        ("rectification", "豫科〔2026〕1号", "2026-01-20"),
        ("revocation", "豫科〔2026〕2号", "2026-04-01"),
    ]
    events = await client.get(f"{API}/events", headers=w["province"], params={"subject_id": center["id"], "limit": 200})
    numbered = [
        (e["data"]["document"]["number"], e["data"]["document"]["sha256"])
        for e in events.json()["items"]
        if "document" in e["data"]
    ]
    assert numbered == [(d["number"], d["sha256"]) for d in documents]  # the feed names each, with its digest


async def test_a_recognition_with_a_taken_number_is_a_409(client: httpx.AsyncClient, auth: Any, at: Any) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    at(beijing(2026, 4, 1))
    await center_action(
        client, center["id"], "revoke", w["province"], reason_code="fraud", reason="弄虚作假", decided_on="2026-04-01"
    )
    documents = (await client.get(f"{API}/centers/{center['id']}/documents", headers=w["province"])).json()["items"]
    assert [d["number"] for d in documents] == ["豫科〔2026〕1号"]
    w2, accepted = await ready_for_acceptance(client, auth)
    at(beijing(2025, 11, 1))
    await center_action(client, accepted["id"], "request_acceptance", w2["applicant"])
    at(beijing(2026, 4, 1))
    await center_action(
        client, accepted["id"], "record_acceptance", w2["province"], result="passed", decided_on="2026-04-01"
    )
    await run_publicity(client, w2["province"], "recognition", [accepted["id"]])
    response = await client.post(
        f"{API}/centers/{accepted['id']}/recognize",
        headers=w2["province"],
        json={"decided_on": "2026-04-01", "document_no": "豫科〔2026〕1号"},
    )
    assert problem(response, 409, "already-exists")["field"] == "document_no"


async def test_documents_and_the_history_cannot_be_changed_or_deleted_in_the_database(
    client: httpx.AsyncClient, auth: Any, connection: AsyncConnection
) -> None:
    """Like the feed, the numbered documents and every state change's history are append-only in the database itself:
    UPDATE and DELETE are refused by trigger, whoever connects (short of a superuser disabling the trigger)."""
    world = await make_world(client, auth)
    approved = await approve(client, world, auth)
    for statement in (
        "UPDATE documents SET number = '豫科〔2026〕999号'",
        "DELETE FROM documents",
        "UPDATE transitions SET reason = 'rewritten'",
        "DELETE FROM transitions",
    ):
        with pytest.raises(DBAPIError, match="is append-only"):
            async with connection.begin_nested():
                await connection.execute(text(statement))
    document = await only_document(client, f"/applications/{approved['id']}", world.province)
    assert document["number"] == "豫科〔2026〕1号"
    history = await client.get(f"{API}/applications/{approved['id']}/history", headers=world.province)
    assert "approve" in [entry["action"] for entry in history.json()["items"]]
