"""The whole path from a call to an approved center, as the README's curl walk-through takes it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import act, criteria_for_total, make_world, score, under_review


async def test_a_call_leads_through_review_to_an_approved_center(client: httpx.AsyncClient, auth: Any) -> None:
    world = await make_world(client, auth)
    application, panel = await under_review(client, world, auth)
    assert application["status"] == "under_review"
    for expert, total in zip(panel, (95, 60, 80, 75, 70), strict=True):
        await score(client, application["id"], auth, expert, criteria_for_total(total), expected=201)
    reviewed = await act(client, application["id"], "conclude_review", world.province)
    assert reviewed["aggregate_score"] == "75.00"
    assert reviewed["review_passed"] is True
    approved = await act(
        client, application["id"], "approve", world.province, decision_date="2026-08-11", document_no="豫科〔2026〕1号"
    )
    assert approved["status"] == "approved"
    center = (await client.get(f"/api/v1/centers/{approved['center_id']}", headers=world.province)).json()
    assert center["code"] == "HNTIC-2026-001"
    assert center["status"] == "approved"
    assert center["approved_on"] == "2026-08-11"
    history = (await client.get(f"/api/v1/applications/{application['id']}/history", headers=world.applicant)).json()[
        "items"
    ]
    assert [h["action"] for h in history] == [
        "create",
        "submit",
        "recommend",
        "formal_review",
        "open_review",
        "conclude_review",
        "approve",
    ]
