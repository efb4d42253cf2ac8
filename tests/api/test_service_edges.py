"""Service paths off the main flows (issue 18): the obligations scan bound, unknown annual reports, an agency naming
another organization, a failed rectification review, webhook deliveries and secrets that cannot go on, readiness
without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.webhooks import TargetPolicy
from app.services import health
from app.services import obligations as obligations_service
from app.services import webhooks as webhook_service
from app.services.secret_box import SecretBox
from tests.api.helpers import problem
from tests.api.test_assessment import open_cycle, recognized_centers, record
from tests.api.test_bounded_lists import old_centers
from tests.api.test_centers import at, beijing, center_action, import_center, orgs, ready_for_acceptance
from tests.conftest import TokenFactory
from tests.factories import create_org

__all__ = ["at"]  # the fixture, used by name below

API = "/api/v1"


async def test_a_page_of_obligations_stops_at_the_scan_bound_and_the_cursor_reads_on(
    client: httpx.AsyncClient, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of 2 centers and at most 4 scanned per page: five centers take two pages whatever the limit.
    monkeypatch.setattr(obligations_service, "BATCH_CENTERS", 2)
    monkeypatch.setattr(obligations_service, "SCAN_CENTERS", 4)
    province = auth("province")
    lead = await create_org(client, province, is_leading_enterprise=True)
    centers = await old_centers(client, province, lead["id"], 5)
    params: dict[str, Any] = {"as_of": "2026-12-02", "kind": "acceptance", "limit": 200}
    first = (await client.get(f"{API}/obligations", params=params, headers=province)).json()
    assert len(first["items"]) == 4
    assert first["next_cursor"] is not None
    rest = (
        await client.get(f"{API}/obligations", params={**params, "cursor": first["next_cursor"]}, headers=province)
    ).json()
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
    seen = [i["center_id"] for i in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(c["id"] for c in centers)
    assert {i["kind"] for i in first["items"] + rest["items"]} == {"acceptance"}


async def test_an_unknown_annual_report_is_404_to_every_use(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    path = f"{API}/centers/{center['id']}/annual-reports/{uuid.uuid4()}"
    problem(await client.get(path, headers=w["applicant"]), 404, "not-found")
    problem(await client.get(f"{path}/actions", headers=w["applicant"]), 404, "not-found")
    problem(await client.patch(path, json={"summary": "总结"}, headers=w["applicant"]), 404, "not-found")
    problem(await client.post(f"{path}/submit", headers=w["applicant"]), 404, "not-found")


async def test_an_agency_records_only_its_own_acceptance_and_the_province_records_one_in_its_own_name(
    client: httpx.AsyncClient, auth: TokenFactory, at: Any
) -> None:
    w, center = await ready_for_acceptance(client, auth)
    path = f"{API}/centers/{center['id']}"
    entrusted = await client.patch(path, headers=w["province"], json={"acceptance_agency_org_id": w["agency"]["id"]})
    assert entrusted.status_code == 200, entrusted.text
    at(beijing(2025, 11, 1))
    await center_action(client, center["id"], "request_acceptance", w["applicant"])
    at(beijing(2026, 1, 20))
    other_agency = await create_org(client, w["province"], kind="agency")
    refused = await center_action(
        client,
        center["id"],
        "record_acceptance",
        w["third_party"],
        expected=422,
        result="passed",
        decided_on="2026-01-20",
        by_org_id=other_agency["id"],
    )
    assert refused["errors"][0]["loc"] == ["body", "by_org_id"]
    failed = await center_action(
        client, center["id"], "record_acceptance", w["province"], result="failed", decided_on="2026-01-20"
    )
    assert (failed["status"], failed["rectifying_kind"]) == ("rectifying", "acceptance")
    history = (await client.get(f"{path}/history", headers=w["province"])).json()["items"]
    assert history[-1]["data"]["by_org_id"] is None
    assert history[-1]["data"]["rectification_due_on"] == "2026-04-20"


async def test_a_failed_rectification_review_revokes_the_center(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    w, [center] = await recognized_centers(client, auth, 1)
    cycle = await open_cycle(client, w["province"])
    await record(client, w["province"], cycle["id"], center["id"], 50)
    finalized = await client.post(f"{API}/assessment-cycles/{cycle['id']}/finalize", headers=w["province"])
    assert finalized.status_code == 200, finalized.text
    rectifying = (await client.get(f"{API}/centers/{center['id']}", headers=w["province"])).json()
    assert (rectifying["status"], rectifying["rectifying_kind"]) == ("rectifying", "assessment")
    revoked = await center_action(
        client, center["id"], "record_rectification_review", w["province"], result="failed", decided_on="2026-11-15"
    )
    assert (revoked["status"], revoked["revocation_reason_code"], revoked["revoked_on"]) == (
        "revoked",
        "failed_rectification",
        "2026-11-15",
    )
    assert revoked["rectifying_kind"] is None


# --- webhook deliveries and secrets, and readiness without a database ----------------------------------------------


async def test_a_secret_no_configured_key_opens_is_counted_and_left_alone_by_sealing(
    client: httpx.AsyncClient, auth: TokenFactory, session: AsyncSession
) -> None:
    created = await client.post(f"{API}/webhooks", headers=auth("province"), json={"url": "https://example.org/tic"})
    assert created.status_code == 201, created.text
    stored = await session.scalar(text("SELECT secret FROM webhooks WHERE id = :id"), {"id": created.json()["id"]})
    stranger = SecretBox([Fernet.generate_key().decode()])  # a key the secret was never sealed with
    assert await webhook_service.seal_secrets(session, stranger) == webhook_service.Sealed(changed=0, unreadable=1)
    after = await session.scalar(text("SELECT secret FROM webhooks WHERE id = :id"), {"id": created.json()["id"]})
    assert after == stored


async def test_a_delivery_that_no_longer_exists_is_neither_prepared_nor_recorded(session: AsyncSession) -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    gone = uuid.uuid4()
    assert await webhook_service.prepare_delivery(session, gone, box) is None
    attempt = webhook_service.Attempt(ok=True, status_code=200, error=None)
    policy = webhook_service.RetryPolicy(max_attempts=3, base_seconds=1, max_seconds=10)
    now = datetime.now(UTC)
    assert await webhook_service.record_attempt(session, gone, attempt, now=now, policy=policy) is None


async def test_a_delivery_whose_secret_cannot_be_read_is_not_sent() -> None:
    request = webhook_service.DeliveryRequest(
        delivery_id=uuid.uuid4(),
        url="https://example.org/tic",
        key=None,
        event_id=str(uuid.uuid4()),
        event_type="organization.created",
        body=b"{}",
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing is sent without a signing key")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as unused:
        attempt = await webhook_service.send(unused, request, timestamp=1, policy=TargetPolicy())
    assert attempt == webhook_service.Attempt(ok=False, status_code=None, error="secret_unreadable")


async def test_an_app_without_an_engine_is_not_ready() -> None:
    assert await health.readiness(None) == health.Readiness(False, "not configured", "unknown")
