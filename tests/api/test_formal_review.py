"""The formal review (形式审查, issue 16 §2): between recommendation and expert review the province checks the frozen
submission's plan and evidence; `complete` opens expert review, `incomplete` returns the application to its lead."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    World,
    act,
    attach,
    attach_evidence,
    draft,
    experts,
    formal_review,
    make_world,
    problem,
    put_panel,
    recommended,
)

APPS = "/api/v1/applications"
RULES = ["patent_standing", "high_level_talents", "rd_spend_3y_avg", "no_recent_revocation"]


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: Any) -> World:
    return await make_world(client, auth)


async def with_panel(client: httpx.AsyncClient, world: World, application_id: str) -> None:
    panel = await experts(client, world.province)
    assert (await put_panel(client, application_id, world.province, panel)).status_code == 200


async def blockers(client: httpx.AsyncClient, application_id: str, headers: dict[str, str], action: str) -> list[str]:
    views = (await client.get(f"{APPS}/{application_id}/actions", headers=headers)).json()
    return [b["code"] for b in next(v for v in views if v["action"] == action)["blocked_by"]]


async def test_open_review_waits_for_a_complete_formal_review_and_the_actions_endpoint_says_why(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world, formally_reviewed=False)
    await with_panel(client, world, application["id"])
    assert await blockers(client, application["id"], world.province, "open_review") == ["formal-review-incomplete"]
    refused = problem(
        await client.post(f"{APPS}/{application['id']}/open_review", headers=world.province), 409, "rule-violation"
    )
    assert refused["rule"] == "formal-review-incomplete"
    assert "open_review" not in application["allowed_actions"]

    reviewed = await formal_review(client, application["id"], world.province)
    assert reviewed["status"] == "recommended"
    assert reviewed["formal_review_outcome"] == "complete"
    assert "open_review" in reviewed["allowed_actions"]
    assert await blockers(client, application["id"], world.province, "open_review") == []
    opened = await act(client, application["id"], "open_review", world.province)
    assert opened["status"] == "under_review"
    # return_incomplete is applied by the formal review only: never offered as an action of its own.
    views = (await client.get(f"{APPS}/{application['id']}/actions", headers=world.province)).json()
    assert "return_incomplete" not in [v["action"] for v in views]


async def test_the_checklist_lists_each_rule_that_needs_evidence_against_the_frozen_attachments(
    client: httpx.AsyncClient, world: World, auth: Any
) -> None:
    application = await recommended(client, world, formally_reviewed=False)
    path = f"{APPS}/{application['id']}/formal-review"
    checklist = (await client.get(path, headers=world.province)).json()
    assert checklist["status"] == "recommended"
    assert checklist["complete"] is False
    assert checklist["missing_sections"] == []
    assert checklist["blockers"] == []
    assert checklist["latest"] is None
    assert sorted(item["rule"] for item in checklist["evidence"]) == sorted(RULES)
    rd = next(item for item in checklist["evidence"] if item["rule"] == "rd_spend_3y_avg")
    assert rd == {"rule": "rd_spend_3y_avg", "kinds": ["rd_audit", "audit_report"], "attached": True, "verdict": None}
    assert [a["kind"] for a in checklist["attachments"]] == [
        "rd_audit",
        "talent_proof",
        "patent_certificate",
        "integrity_pledge",
    ]
    for reader in (world.supervisor, world.applicant, auth("observer")):
        assert (await client.get(path, headers=reader)).status_code == 200
    problem(await client.get(path, headers=auth("expert", expert_id=world.lead["id"])), 404, "not-found")
    # Only the province records one.
    body = {"verdicts": {}, "outcome": "complete"}
    problem(await client.post(path, json=body, headers=world.supervisor), 404, "not-found")


async def test_missing_evidence_blocks_complete_and_an_incomplete_outcome_returns_the_application(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await draft(client, world)
    path = f"{APPS}/{application['id']}"
    # Everything but the R&D audit.
    for kind in ("talent_proof", "patent_certificate", "integrity_pledge"):
        await attach(client, path, world.applicant, kind, file_name=f"{kind}.pdf")
    await act(client, application["id"], "submit", world.applicant)
    await act(client, application["id"], "recommend", world.supervisor)
    checklist = (await client.get(f"{path}/formal-review", headers=world.province)).json()
    assert [b["code"] for b in checklist["blockers"]] == ["evidence-missing"]
    assert checklist["blockers"][0]["rules"] == ["rd_spend_3y_avg"]

    verdicts = {rule: {"verdict": "verified"} for rule in RULES}
    refused = problem(
        await client.post(
            f"{path}/formal-review", json={"verdicts": verdicts, "outcome": "complete"}, headers=world.province
        ),
        409,
        "rule-violation",
    )
    assert refused["rule"] == "evidence-missing"
    assert refused["rules"] == ["rd_spend_3y_avg"]

    verdicts["rd_spend_3y_avg"] = {"verdict": "not_evidenced", "note": "未提供研发投入专项审计报告"}
    returned = await formal_review(
        client,
        application["id"],
        world.province,
        verdicts=verdicts,
        outcome="incomplete",
        missing=["近三年研发投入专项审计报告"],
        note="请补充研发投入专项审计报告",
    )
    assert returned["status"] == "incomplete"
    assert returned["formal_review_outcome"] == "incomplete"
    history = (await client.get(f"{path}/history", headers=world.applicant)).json()["items"]
    assert history[-1]["action"] == "return_incomplete"
    assert history[-1]["data"]["missing"] == ["近三年研发投入专项审计报告"]
    latest = (await client.get(f"{path}/formal-review", headers=world.applicant)).json()["latest"]
    assert latest["outcome"] == "incomplete"
    assert latest["verdicts"]["rd_spend_3y_avg"]["verdict"] == "not_evidenced"

    # The lead supplies the audit and submits again: straight back to the province's formal review.
    audit = (await attach(client, path, world.applicant, "rd_audit", file_name="研发审计.pdf")).json()
    again = await act(client, application["id"], "submit", world.applicant)
    assert again["status"] == "recommended"
    assert again["formal_review_outcome"] is None
    assert audit["sha256"] in [a["sha256"] for a in again["submitted_attachments"]]
    assert "open_review" not in again["allowed_actions"]
    reviewed = await formal_review(client, application["id"], world.province)
    assert reviewed["formal_review_outcome"] == "complete"


async def test_a_not_evidenced_verdict_blocks_complete_and_verdicts_are_checked(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await recommended(client, world, formally_reviewed=False)
    path = f"{APPS}/{application['id']}/formal-review"
    verdicts: dict[str, Any] = {rule: {"verdict": "verified"} for rule in RULES}
    verdicts["high_level_talents"] = {"verdict": "not_evidenced", "note": "人才证明与申报人不符"}
    refused = problem(
        await client.post(path, json={"verdicts": verdicts, "outcome": "complete"}, headers=world.province),
        409,
        "rule-violation",
    )
    assert refused["rule"] == "not-evidenced"
    assert refused["rules"] == ["high_level_talents"]

    del verdicts["patent_standing"]
    verdicts["high_level_talents"] = {"verdict": "doubtful"}
    verdicts["leading_enterprise"] = {"verdict": "verified"}
    invalid = problem(
        await client.post(path, json={"verdicts": verdicts, "outcome": "complete"}, headers=world.province),
        422,
        "validation-failed",
    )
    assert sorted(tuple(e["loc"]) for e in invalid["errors"]) == [
        ("body", "verdicts", "high_level_talents", "note"),
        ("body", "verdicts", "leading_enterprise"),
        ("body", "verdicts", "patent_standing"),
    ]
    all_verified = {rule: {"verdict": "verified"} for rule in RULES}
    no_list = problem(
        await client.post(path, json={"verdicts": all_verified, "outcome": "incomplete"}, headers=world.province),
        422,
        "validation-failed",
    )
    assert no_list["errors"][0]["loc"] == ["body", "missing"]
    both = problem(
        await client.post(
            path, json={"verdicts": all_verified, "outcome": "complete", "missing": ["x"]}, headers=world.province
        ),
        422,
        "validation-failed",
    )
    assert both["errors"][0]["loc"] == ["body", "missing"]
    # A doubtful verdict with a note does not stop a complete review.
    doubtful = {**all_verified, "patent_standing": {"verdict": "doubtful", "note": "证书复印件不清晰"}}
    reviewed = await formal_review(client, application["id"], world.province, verdicts=doubtful)
    assert reviewed["formal_review_outcome"] == "complete"
    # Recorded once the application has left `recommended`: refused.
    await with_panel(client, world, application["id"])
    await act(client, application["id"], "open_review", world.province)
    late = problem(
        await client.post(path, json={"verdicts": all_verified, "outcome": "complete"}, headers=world.province),
        409,
        "invalid-transition",
    )
    assert late["current_status"] == "under_review"


async def test_the_eligibility_explanation_shows_each_rules_evidence_and_verdict(
    client: httpx.AsyncClient, world: World
) -> None:
    application = await draft(client, world)
    live = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.applicant)).json()
    rd = next(c for c in live["checks"] if c["rule"] == "rd_spend_3y_avg")
    assert rd["evidence"] == {"kinds": ["rd_audit", "audit_report"], "attached": False, "verdict": None}
    assert next(c for c in live["checks"] if c["rule"] == "field_in_layout")["evidence"] is None
    await attach_evidence(client, application["id"], world.applicant)
    await act(client, application["id"], "submit", world.applicant)
    await act(client, application["id"], "recommend", world.supervisor)
    verdicts: dict[str, Any] = {rule: {"verdict": "verified"} for rule in RULES}
    verdicts["patent_standing"] = {"verdict": "doubtful", "note": "排名依据不足"}
    await formal_review(client, application["id"], world.province, verdicts=verdicts)
    recorded = (await client.get(f"{APPS}/{application['id']}/eligibility", headers=world.province)).json()
    assert recorded["recorded"] is True
    by_rule = {c["rule"]: c["evidence"] for c in recorded["checks"]}
    assert by_rule["rd_spend_3y_avg"] == {
        "kinds": ["rd_audit", "audit_report"],
        "attached": True,
        "verdict": "verified",
    }
    assert by_rule["patent_standing"] == {"kinds": ["patent_certificate"], "attached": True, "verdict": "doubtful"}
    assert by_rule["one_center_one_plan"] is None


async def test_a_fast_track_application_also_passes_a_formal_review(client: httpx.AsyncClient, world: World) -> None:
    from tests.api.helpers import fast_track

    application = await fast_track(client, world)
    await attach_evidence(client, application["id"], world.province)
    submitted = await act(client, application["id"], "submit", world.province)
    assert submitted["status"] == "recommended"
    await with_panel(client, world, application["id"])
    assert await blockers(client, application["id"], world.province, "open_review") == ["formal-review-incomplete"]
    returned = await formal_review(
        client, application["id"], world.province, outcome="incomplete", missing=["诚信承诺书原件"]
    )
    assert returned["status"] == "incomplete"
    again = await act(client, application["id"], "submit", world.province)
    assert again["status"] == "recommended"
    await formal_review(client, application["id"], world.province)
    assert (await act(client, application["id"], "open_review", world.province))["status"] == "under_review"


async def test_an_incomplete_application_may_be_withdrawn(client: httpx.AsyncClient, world: World) -> None:
    application = await recommended(client, world, formally_reviewed=False)
    await formal_review(client, application["id"], world.province, outcome="incomplete", missing=["专利证书"])
    withdrawn = await act(client, application["id"], "withdraw", world.applicant)
    assert withdrawn["status"] == "withdrawn"
