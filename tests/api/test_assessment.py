"""Periodic assessment, grades, consequences and funding through the API (issue 6)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from tests.api.helpers import SHANGHAI, pinned_clock
from tests.factories import create_org

INDICATORS = ("rd_investment", "st_results", "talent_team", "research_projects", "industry_academia_cooperation")


def indicators(value: int) -> dict[str, str]:
    """Every indicator at `value`, so the weighted sum is `value` itself."""
    return dict.fromkeys(INDICATORS, str(value))


async def recognized_centers(client: httpx.AsyncClient, auth: Any, n: int) -> tuple[dict[str, Any], list[dict]]:
    province = auth("province")
    department = await create_org(client, province, kind="department")
    centers = []
    for i in range(n):
        lead = await create_org(
            client, province, kind="enterprise", is_leading_enterprise=True, supervisor_id=department["id"]
        )
        response = await client.post(
            "/api/v1/centers/import",
            headers=province,
            json={
                "name": f"中心{i:02d}",
                "field": "equipment_manufacturing",
                "lead_org_id": lead["id"],
                "status": "recognized",
                "approved_on": "2019-06-01",
                "document_no": f"豫科〔2019〕{i + 1}号",
                "construction_starts_on": "2019-07-01",
                "construction_ends_on": "2022-06-30",
                "recognized_on": "2023-06-01",
            },
        )
        assert response.status_code == 201, response.text
        centers.append({**response.json(), "applicant": auth("applicant", org_id=lead["id"])})
    return {"province": province, "department": department}, centers


async def open_cycle(client: httpx.AsyncClient, province: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/assessment-cycles",
        headers=province,
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025, **extra},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def record(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    cycle_id: str,
    center_id: str,
    score: int,
    expected: int = 200,
    **extra: Any,
) -> httpx.Response:
    response = await client.put(
        f"/api/v1/assessment-cycles/{cycle_id}/results/{center_id}",
        headers=headers,
        json={"score": str(score), "indicators": indicators(score), **extra},
    )
    assert response.status_code == expected, response.text
    return response


async def test_ten_centers_are_graded_capped_and_their_consequences_applied(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 10)
    cycle = await open_cycle(client, w["province"], max_excellent_ratio="0.2")
    assert set(cycle["center_ids"]) == {c["id"] for c in centers}
    scores = (95, 93, 91, 85, 82, 75, 70, 65, 59, 40)
    for center, score in zip(centers, scores, strict=True):
        await record(client, w["province"], cycle["id"], center["id"], score)
    response = await client.post(
        f"/api/v1/assessment-cycles/{cycle['id']}/finalize", headers=w["province"], json={"decided_on": "2026-03-31"}
    )
    assert response.status_code == 200, response.text
    grades = {r["center_id"]: r["grade"] for r in response.json()["results"]}
    by_score = {score: grades[c["id"]] for c, score in zip(centers, scores, strict=True)}
    assert by_score == {
        95: "excellent",
        93: "excellent",
        91: "good",
        85: "good",
        82: "good",
        75: "good",
        70: "good",
        65: "qualified",
        59: "unqualified",
        40: "unqualified",
    }
    for center, score in zip(centers, scores, strict=True):
        shown = (await client.get(f"/api/v1/centers/{center['id']}", headers=w["province"])).json()
        assert shown["grade"] == by_score[score]
        assert shown["graded_in_cycle_id"] == cycle["id"]
        assert shown["grade_history"][-1]["grade"] == by_score[score]
        if score < 60:
            assert (shown["status"], shown["rectifying_kind"], shown["rectification_due_on"]) == (
                "rectifying",
                "assessment",
                "2027-03-31",
            )
        else:
            assert shown["status"] == "recognized"
    candidates = (
        await client.get(f"/api/v1/assessment-cycles/{cycle['id']}/national-candidates", headers=w["province"])
    ).json()["items"]
    assert [(c["rank"], c["score"]) for c in candidates] == [(1, "95.00"), (2, "93.00")]
    # stable support only for excellent or good
    funding = {"kind": "stable_support", "amount_wan": "500.00", "year": 2026, "decision_ref": "豫科〔2026〕8号"}
    for center, score in zip(centers, scores, strict=True):
        response = await client.post(f"/api/v1/centers/{center['id']}/funding", headers=w["province"], json=funding)
        if score >= 70:
            assert response.status_code == 201, response.text
        else:
            assert response.status_code == 409
            assert response.json()["rule"] == "stable-support-ineligible"
    summary = (await client.get("/api/v1/funding/summary", params={"year": 2026}, headers=w["province"])).json()
    assert summary["totals_by_kind"] == {"stable_support": "3500.00"}


async def test_finalize_waits_for_every_result_and_happens_once(client: httpx.AsyncClient, auth: Any) -> None:
    w, centers = await recognized_centers(client, auth, 2)
    cycle = await open_cycle(client, w["province"])
    await record(client, w["province"], cycle["id"], centers[0]["id"], 80)
    early = await client.post(f"/api/v1/assessment-cycles/{cycle['id']}/finalize", headers=w["province"])
    assert early.status_code == 409
    assert early.json()["rule"] == "results-missing"
    await record(client, w["province"], cycle["id"], centers[1]["id"], 75)
    assert (
        await client.post(f"/api/v1/assessment-cycles/{cycle['id']}/finalize", headers=w["province"])
    ).status_code == 200
    again = await client.post(f"/api/v1/assessment-cycles/{cycle['id']}/finalize", headers=w["province"])
    assert again.status_code == 409
    assert again.json()["code"] == "invalid-transition"
    late = await record(client, w["province"], cycle["id"], centers[0]["id"], 90, expected=409)
    assert late.json()["code"] == "invalid-transition"


async def test_an_absent_center_is_revoked_and_no_rd_investment_is_unqualified(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 2)
    cycle = await open_cycle(client, w["province"])
    await record(client, w["province"], cycle["id"], centers[0]["id"], 95, rd_investment_reported=False)
    response = await client.post(
        f"/api/v1/assessment-cycles/{cycle['id']}/finalize",
        headers=w["province"],
        json={"absent_center_ids": [centers[1]["id"]], "decided_on": "2026-03-31"},
    )
    assert response.status_code == 200, response.text
    results = {r["center_id"]: r for r in response.json()["results"]}
    assert results[centers[0]["id"]]["grade"] == "unqualified"
    assert results[centers[1]["id"]]["status"] == "revoked"
    absent = (await client.get(f"/api/v1/centers/{centers[1]['id']}", headers=w["province"])).json()
    assert (absent["revocation_reason_code"], absent["revoked_on"]) == ("absent_from_assessment", "2026-03-31")


async def test_unqualified_again_while_rectifying_revokes_and_a_review_can_restore(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 2)
    first = await open_cycle(client, w["province"])
    for center in centers:
        await record(client, w["province"], first["id"], center["id"], 50)
    await client.post(f"/api/v1/assessment-cycles/{first['id']}/finalize", headers=w["province"])
    restored = await client.post(
        f"/api/v1/centers/{centers[0]['id']}/record_rectification_review",
        headers=w["province"],
        json={"result": "passed", "decided_on": "2026-11-15"},
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "recognized"
    second = await client.post(
        "/api/v1/assessment-cycles",
        headers=w["province"],
        json={"year": 2029, "period_start_year": 2026, "period_end_year": 2028},
    )
    assert centers[1]["id"] in second.json()["center_ids"]
    await record(client, w["province"], second.json()["id"], centers[1]["id"], 55)
    if centers[0]["id"] in second.json()["center_ids"]:
        await record(client, w["province"], second.json()["id"], centers[0]["id"], 80)
    await client.post(f"/api/v1/assessment-cycles/{second.json()['id']}/finalize", headers=w["province"])
    revoked = (await client.get(f"/api/v1/centers/{centers[1]['id']}", headers=w["province"])).json()
    assert (revoked["status"], revoked["revocation_reason_code"]) == ("revoked", "failed_rectification")


async def test_results_are_bounded_and_must_match_the_weighted_indicators(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 1)
    cycle = await open_cycle(client, w["province"])
    path = f"/api/v1/assessment-cycles/{cycle['id']}/results/{centers[0]['id']}"
    for score in ("-1", "100.01", "101"):
        response = await client.put(path, headers=w["province"], json={"score": score})
        assert response.status_code == 422, score
        assert response.json()["errors"][0]["loc"] == ["body", "score"]
    mismatch = await client.put(path, headers=w["province"], json={"score": "80", "indicators": indicators(70)})
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["type"] == "score_mismatch"
    weighted = {
        "rd_investment": "100",
        "st_results": "50",
        "talent_team": "0",
        "research_projects": "0",
        "industry_academia_cooperation": "0",
    }
    assert (
        await client.put(path, headers=w["province"], json={"score": "55", "indicators": weighted})
    ).status_code == 200


async def test_a_cycle_spans_three_years_and_a_center_is_in_one_open_cycle(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 1)
    wrong = await client.post(
        "/api/v1/assessment-cycles",
        headers=w["province"],
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2026},
    )
    assert wrong.status_code == 422
    first = await open_cycle(client, w["province"])
    second = await open_cycle(client, w["province"])
    assert first["center_ids"] == [centers[0]["id"]]
    assert second["center_ids"] == []


async def test_only_the_entrusted_agency_reaches_a_cycle_and_records_its_results(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 1)
    agency = await create_org(client, w["province"], kind="agency")
    other = await create_org(client, w["province"], kind="agency")
    cycle = await open_cycle(client, w["province"], entrusted_to_org_id=agency["id"])
    mine, theirs = auth("third_party", org_id=agency["id"]), auth("third_party", org_id=other["id"])
    assert (await client.get(f"/api/v1/assessment-cycles/{cycle['id']}", headers=mine)).status_code == 200
    assert (await client.get(f"/api/v1/centers/{centers[0]['id']}", headers=mine)).status_code == 200
    for headers in (theirs, centers[0]["applicant"], auth("supervisor", org_id=w["department"]["id"])):
        assert (await client.get(f"/api/v1/assessment-cycles/{cycle['id']}", headers=headers)).status_code == 404
    await record(client, theirs, cycle["id"], centers[0]["id"], 80, expected=404)
    await record(client, mine, cycle["id"], centers[0]["id"], 80)
    refused = await client.post(f"/api/v1/assessment-cycles/{cycle['id']}/finalize", headers=mine)
    assert refused.status_code == 404


async def test_construction_funding_only_during_construction_and_amounts_are_positive(
    client: httpx.AsyncClient,
    auth: Any,
) -> None:
    w, centers = await recognized_centers(client, auth, 1)
    path = f"/api/v1/centers/{centers[0]['id']}/funding"
    body = {"kind": "construction", "amount_wan": "100.00", "year": 2026, "decision_ref": "豫财科〔2026〕1号"}
    refused = await client.post(path, headers=w["province"], json=body)
    assert refused.status_code == 409
    assert refused.json()["rule"] == "not-under-construction"
    for amount in ("0", "-5", 12.5):
        response = await client.post(
            path, headers=w["province"], json={**body, "kind": "post_subsidy", "amount_wan": amount}
        )
        assert response.status_code == 422, amount
    ok = await client.post(path, headers=w["province"], json={**body, "kind": "post_subsidy"})
    assert ok.status_code == 201
    assert ok.json()["amount_wan"] == "100.00"
    listed = await client.get(path, headers=centers[0]["applicant"])
    assert [f["kind"] for f in listed.json()["items"]] == ["post_subsidy"]
    assert (await client.post(path, headers=centers[0]["applicant"], json=body)).status_code == 404


# --- issue 11: the cycle's lifecycle and guard, periods, closed centers, the R&D flag, recovery ---------------------


async def period_cycle(client: httpx.AsyncClient, province: dict[str, str], start: int) -> dict[str, Any]:
    """A cycle assessing start..start+2, opened the year after it ends."""
    return await open_cycle(client, province, year=start + 3, period_start_year=start, period_end_year=start + 2)


async def finalize(
    client: httpx.AsyncClient, province: dict[str, str], cycle_id: str, expected: int = 200, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/assessment-cycles/{cycle_id}/finalize", headers=province, json=body)
    assert response.status_code == expected, response.text
    return dict(response.json())


async def cycle_actions(client: httpx.AsyncClient, headers: dict[str, str], cycle_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/assessment-cycles/{cycle_id}/actions", headers=headers)
    assert response.status_code == 200, response.text
    return {view["action"]: view for view in response.json()}


async def test_a_refused_finalize_carries_exactly_the_blockers_the_cycle_actions_list(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w, centers = await recognized_centers(client, auth, 3)
    cycle = await open_cycle(client, w["province"])
    assert cycle["allowed_actions"] == []
    await record(client, w["province"], cycle["id"], centers[0]["id"], 80)
    listed = (await cycle_actions(client, w["province"], cycle["id"]))["finalize"]
    assert listed["allowed"] is False
    assert [b["code"] for b in listed["blocked_by"]] == ["results-missing"]
    assert listed["blocked_by"][0]["missing_codes"] == [centers[1]["code"], centers[2]["code"]]
    assert listed["blocked_by"][0]["missing_count"] == 2

    refused = await finalize(client, w["province"], cycle["id"], expected=409)
    assert (refused["code"], refused["rule"]) == ("rule-violation", "results-missing")
    assert refused["blocked_by"] == listed["blocked_by"]
    assert refused["allowed_actions"] == []
    # Absences declared by the request count as facts of that request: only the undeclared center still blocks.
    declared = await finalize(client, w["province"], cycle["id"], expected=409, absent_center_ids=[centers[1]["id"]])
    assert declared["missing_codes"] == [centers[2]["code"]]

    for center in centers[1:]:
        await record(client, w["province"], cycle["id"], center["id"], 75)
    assert (await cycle_actions(client, w["province"], cycle["id"]))["finalize"] == {
        "action": "finalize",
        "allowed": True,
        "blocked_by": [],
    }
    shown = (await client.get(f"/api/v1/assessment-cycles/{cycle['id']}", headers=w["province"])).json()
    assert shown["allowed_actions"] == ["finalize"]
    listed_cycles = (await client.get("/api/v1/assessment-cycles", headers=w["province"])).json()["items"]
    assert next(c for c in listed_cycles if c["id"] == cycle["id"])["allowed_actions"] == ["finalize"]
    observer = (await cycle_actions(client, auth("observer"), cycle["id"]))["finalize"]
    assert (observer["allowed"], [b["code"] for b in observer["blocked_by"]]) == (False, ["wrong-role"])

    done = await finalize(client, w["province"], cycle["id"])
    assert (done["cycle"]["status"], done["cycle"]["allowed_actions"]) == ("finalized", [])
    after = (await cycle_actions(client, w["province"], cycle["id"]))["finalize"]
    assert [b["code"] for b in after["blocked_by"]] == ["wrong-state"]
    again = await finalize(client, w["province"], cycle["id"], expected=409)
    assert (again["code"], again["blocked_by"]) == ("invalid-transition", after["blocked_by"])


async def test_the_cycle_actions_are_hidden_from_callers_outside_the_cycles_reach(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w, centers = await recognized_centers(client, auth, 1)
    agency = await create_org(client, w["province"], kind="agency")
    cycle = await open_cycle(client, w["province"], entrusted_to_org_id=agency["id"])
    entrusted = (await cycle_actions(client, auth("third_party", org_id=agency["id"]), cycle["id"]))["finalize"]
    assert [b["code"] for b in entrusted["blocked_by"]] == ["wrong-role"]
    response = await client.get(f"/api/v1/assessment-cycles/{cycle['id']}/actions", headers=centers[0]["applicant"])
    assert response.status_code == 404


async def test_a_center_assessed_in_2024_2026_is_not_due_in_2025_2027_but_is_due_in_2027_2029(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w, centers = await recognized_centers(client, auth, 1)
    first = await period_cycle(client, w["province"], 2024)
    assert first["center_ids"] == [centers[0]["id"]]
    # Open or finalized, the 2024-2026 assessment covers 2025 and 2026.
    assert (await period_cycle(client, w["province"], 2025))["center_ids"] == []
    await record(client, w["province"], first["id"], centers[0]["id"], 80)
    await finalize(client, w["province"], first["id"])
    assert (await period_cycle(client, w["province"], 2025))["center_ids"] == []
    assert (await period_cycle(client, w["province"], 2026))["center_ids"] == []
    assert (await period_cycle(client, w["province"], 2027))["center_ids"] == [centers[0]["id"]]


async def test_a_center_revoked_or_exited_during_the_cycle_is_skipped_and_cannot_be_declared_absent(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w, centers = await recognized_centers(client, auth, 3)
    cycle = await open_cycle(client, w["province"])
    await record(client, w["province"], cycle["id"], centers[2]["id"], 80)
    revoked = await client.post(
        f"/api/v1/centers/{centers[0]['id']}/revoke",
        headers=w["province"],
        json={"reason_code": "fraud", "reason": "弄虚作假", "decided_on": "2026-02-01"},
    )
    assert revoked.status_code == 200, revoked.text
    asked = await client.post(
        f"/api/v1/centers/{centers[1]['id']}/request_exit", headers=centers[1]["applicant"], json={"reason": "调整"}
    )
    assert asked.status_code == 200, asked.text
    exited = await client.post(
        f"/api/v1/centers/{centers[1]['id']}/exit", headers=w["province"], json={"decided_on": "2026-02-01"}
    )
    assert exited.status_code == 200, exited.text
    # Neither closed center needs a result: finalize is open now.
    assert (await cycle_actions(client, w["province"], cycle["id"]))["finalize"]["allowed"] is True
    # "Absent" is for live centers only: the live one at index 0 passes, the closed one at index 1 is refused.
    for closed in centers[:2]:
        body = {"absent_center_ids": [centers[2]["id"], closed["id"]]}
        refused = await finalize(client, w["province"], cycle["id"], expected=422, **body)
        assert refused["errors"][0]["loc"] == ["body", "absent_center_ids", 1]
    stranger = str(uuid.uuid4())
    refused = await finalize(client, w["province"], cycle["id"], expected=422, absent_center_ids=[stranger])
    assert refused["errors"][0]["loc"] == ["body", "absent_center_ids", 0]

    done = await finalize(client, w["province"], cycle["id"], decided_on="2026-03-31")
    results = {r["center_id"]: r for r in done["results"]}
    assert (results[centers[0]["id"]]["consequence"], results[centers[0]["id"]]["grade"]) == ("skipped_closed", None)
    assert results[centers[0]["id"]]["status"] == "revoked"
    assert (results[centers[1]["id"]]["consequence"], results[centers[1]["id"]]["status"]) == (
        "skipped_closed",
        "exited",
    )
    assert (results[centers[2]["id"]]["grade"], results[centers[2]["id"]]["status"]) == ("good", "recognized")
    shown = (await client.get(f"/api/v1/centers/{centers[0]['id']}", headers=w["province"])).json()
    assert (shown["revocation_reason_code"], shown["revoked_on"], shown["grade"]) == ("fraud", "2026-02-01", None)
    stored = (await client.get(f"/api/v1/assessment-cycles/{cycle['id']}/results", headers=w["province"])).json()[
        "items"
    ]
    assert {r["center_id"]: r["consequence"] for r in stored}[centers[1]["id"]] == "skipped_closed"


async def test_a_zero_rd_investment_indicator_is_a_score_and_only_the_explicit_flag_is_the_floor(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w, centers = await recognized_centers(client, auth, 2)
    cycle = await open_cycle(client, w["province"])
    no_rd_score = {**indicators(100), "rd_investment": "0"}  # 0 * 40 + 100 * 60 → 60.00, just qualified
    scored = await client.put(
        f"/api/v1/assessment-cycles/{cycle['id']}/results/{centers[0]['id']}",
        headers=w["province"],
        json={"score": "60.00", "indicators": no_rd_score},
    )
    assert scored.status_code == 200, scored.text
    assert scored.json()["rd_investment_reported"] is True
    flagged = await client.put(
        f"/api/v1/assessment-cycles/{cycle['id']}/results/{centers[1]['id']}",
        headers=w["province"],
        json={"score": "60.00", "indicators": no_rd_score, "rd_investment_reported": False},
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["rd_investment_reported"] is False
    done = await finalize(client, w["province"], cycle["id"])
    grades = {r["center_id"]: r["grade"] for r in done["results"]}
    assert grades == {centers[0]["id"]: "qualified", centers[1]["id"]: "unqualified"}


async def test_a_rectifying_center_graded_60_recovers_and_one_graded_59_99_is_revoked(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w, centers = await recognized_centers(client, auth, 2)
    first = await open_cycle(client, w["province"])
    for center in centers:
        await record(client, w["province"], first["id"], center["id"], 50)
    await finalize(client, w["province"], first["id"], decided_on="2026-03-31")
    second = await period_cycle(client, w["province"], 2026)
    assert set(second["center_ids"]) == {c["id"] for c in centers}
    for center, score in ((centers[0], "60.00"), (centers[1], "59.99")):
        response = await client.put(
            f"/api/v1/assessment-cycles/{second['id']}/results/{center['id']}",
            headers=w["province"],
            json={"score": score},
        )
        assert response.status_code == 200, response.text
    # A decision is not dated in the future (app.domain.dates.DECISION): the second cycle is decided in 2029.
    with pinned_clock(client, datetime(2029, 3, 31, 12, tzinfo=SHANGHAI)):
        done = await finalize(client, w["province"], second["id"], decided_on="2029-03-31")
    results = {r["center_id"]: r for r in done["results"]}
    assert (results[centers[0]["id"]]["grade"], results[centers[0]["id"]]["consequence"]) == ("qualified", "recover")
    assert (results[centers[1]["id"]]["grade"], results[centers[1]["id"]]["consequence"]) == (
        "unqualified",
        "revoke_failed_rectification",
    )
    recovered = (await client.get(f"/api/v1/centers/{centers[0]['id']}", headers=w["province"])).json()
    assert (recovered["status"], recovered["rectifying_kind"], recovered["rectification_due_on"]) == (
        "recognized",
        None,
        None,
    )
    assert recovered["grade"] == "qualified"
    revoked = (await client.get(f"/api/v1/centers/{centers[1]['id']}", headers=w["province"])).json()
    assert (revoked["status"], revoked["revocation_reason_code"]) == ("revoked", "failed_rectification")
