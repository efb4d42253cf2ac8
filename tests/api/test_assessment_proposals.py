"""Structured annual-report figures → the assessment scheme's proposal → a result with adjustments; statistics of
the figures (issue 17 §2)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.helpers import locs, problem
from tests.api.test_query_counts import SINGLE_READ, sent_by
from tests.factories import create_org

API = "/api/v1"
TASK_BOOK = {
    "targets": [
        {"code": "T1", "name": "发明专利授权", "unit": "件", "target_value": "30"},
        {"code": "T2", "name": "主导制定标准", "unit": "项", "target_value": "10"},
    ],
    "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00", "other_wan": "0.00"},
    "starts_on": "2019-07-01",
    "ends_on": "2022-06-30",
}


def figures(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rd_spend": "0.00",
        "staff_total": 0,
        "rd_staff": 0,
        "invention_patents_filed": 0,
        "invention_patents_granted": 0,
        "pct_filings": 0,
        "standards_led": 0,
        "projects": [],
        "incubated_enterprises": 0,
        "served_enterprises": 0,
        "tech_transfer_income": "0.00",
        "platform_income": "0.00",
        "shared_equipment_hours": 0,
    }
    return base | overrides


# The same three years as tests/unit/domain/test_assessment_scheme.py, whose proposal is worked out by hand there.
YEARS: dict[int, tuple[dict[str, Any], dict[str, str]]] = {
    2023: (
        figures(
            rd_spend="4000.00",
            invention_patents_granted=3,
            standards_led=1,
            projects=[{"level": "national", "title": "甲", "amount": "800.00"}],
            tech_transfer_income="100.00",
            platform_income="50.00",
            incubated_enterprises=2,
            served_enterprises=10,
            shared_equipment_hours=400,
        ),
        {"T1": "3"},
    ),
    2024: (
        figures(
            rd_spend="4500.00",
            invention_patents_granted=4,
            pct_filings=1,
            projects=[{"level": "provincial", "title": "乙", "amount": "200.50"}],
            tech_transfer_income="120.25",
            platform_income="30.00",
            incubated_enterprises=3,
            served_enterprises=10,
            shared_equipment_hours=300,
        ),
        {"T1": "8"},
    ),
    2025: (
        figures(
            rd_spend="4400.00",
            staff_total=1000,
            rd_staff=150,
            invention_patents_granted=5,
            pct_filings=1,
            standards_led=1,
            tech_transfer_income="200.00",
            incubated_enterprises=5,
            served_enterprises=20,
            shared_equipment_hours=300,
        ),
        {"T1": "15", "T2": "12"},
    ),
}


async def recognized_center(client: httpx.AsyncClient, auth: Any, *, region: str = "郑州市", n: int = 1) -> Any:
    province = auth("province")
    department = await create_org(client, province, kind="department")
    lead = await create_org(
        client, province, kind="enterprise", is_leading_enterprise=True, supervisor_id=department["id"], region=region
    )
    response = await client.post(
        f"{API}/centers/import",
        headers=province,
        json={
            "name": f"河南省某{region}{n}技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": lead["id"],
            "status": "recognized",
            "approved_on": "2019-06-01",
            "document_no": f"豫科〔2019〕{n}号",
            "construction_starts_on": "2019-07-01",
            "construction_ends_on": "2022-06-30",
            "recognized_on": "2023-06-01",
            "task_book": TASK_BOOK,
        },
    )
    assert response.status_code == 201, response.text
    return {
        "center": response.json(),
        "province": province,
        "applicant": auth("applicant", org_id=lead["id"]),
        "supervisor": auth("supervisor", org_id=department["id"]),
    }


async def file_report(
    client: httpx.AsyncClient,
    w: Any,
    year: int,
    body_figures: dict[str, Any] | None,
    kpi: dict[str, str],
    *,
    accept: bool = True,
) -> dict[str, Any]:
    base = f"{API}/centers/{w['center']['id']}/annual-reports"
    body: dict[str, Any] = {"period_year": year, "summary": "总结", "kpi_actuals": kpi, "plan_next_year": "计划"}
    if body_figures is not None:
        body["figures"] = body_figures
    response = await client.post(base, json=body, headers=w["applicant"])
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    steps = [("submit", "applicant"), ("endorse", "supervisor"), ("accept", "province")] if accept else []
    for action, who in steps:
        response = await client.post(f"{base}/{report['id']}/{action}", headers=w[who])
        assert response.status_code == 200, response.text
        report = response.json()
    return report


async def open_cycle(client: httpx.AsyncClient, province: dict[str, str]) -> dict[str, Any]:
    body = {"year": 2026, "period_start_year": 2023, "period_end_year": 2025}
    response = await client.post(f"{API}/assessment-cycles", json=body, headers=province)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_three_accepted_reports_produce_a_proposal_whose_every_indicator_shows_its_inputs(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await recognized_center(client, auth)
    reports = {year: await file_report(client, w, year, f, kpi) for year, (f, kpi) in YEARS.items()}
    assert reports[2023]["figures"]["rd_spend"] == "4000.00"
    assert reports[2024]["figures"]["projects"] == [{"level": "provincial", "title": "乙", "amount": "200.50"}]
    cycle = await open_cycle(client, w["province"])
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}/proposal"
    response = await client.get(at, headers=w["province"])
    assert response.status_code == 200, response.text
    proposal = response.json()
    assert (proposal["scheme"], proposal["complete"], proposal["missing"]) == ("henan-2021-assessment", True, [])
    assert proposal["indicator_values"] == {
        "rd_investment": "71.00",
        "st_results": "68.74",
        "talent_team": "70.00",
        "research_projects": "64.01",
        "industry_academia_cooperation": "63.43",
    }
    assert (proposal["score"], proposal["grade"]) == ("68.77", "qualified")
    ids = {r["id"]: year for year, r in reports.items()}
    for indicator in proposal["indicators"]:
        assert indicator["parts"], indicator["code"]
        for part in indicator["parts"]:
            assert part["inputs"], part["code"]
            assert "piecewise-linear" in part["formula"]
            for figure in part["inputs"]:
                assert ids[figure["report_id"]] == figure["period_year"]
    growth = proposal["indicators"][0]["parts"][0]
    assert growth == {
        "code": "rd_spend_growth",
        "share": 50,
        "value": "10.00",
        "score": "80.00",
        "formula": growth["formula"],
        "inputs": [
            {"report_id": reports[2023]["id"], "period_year": 2023, "field": "rd_spend", "value": "4000.00"},
            {"report_id": reports[2025]["id"], "period_year": 2025, "field": "rd_spend", "value": "4400.00"},
        ],
    }
    # The entrusted-agency rule: an observer reads the cycle but is no evaluator; the lead is not either.
    for role in ("observer", "applicant"):
        headers = auth("observer") if role == "observer" else w["applicant"]
        problem(await client.get(at, headers=headers), 404, "not-found")


async def test_an_adjustment_keeps_the_computed_value_and_its_reason(client: httpx.AsyncClient, auth: Any) -> None:
    w = await recognized_center(client, auth)
    for year, (f, kpi) in YEARS.items():
        await file_report(client, w, year, f, kpi)
    cycle = await open_cycle(client, w["province"])
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}"
    adjusted = {"talent_team": {"score": "80", "reason": "引进国家级人才2名，年报未计入"}}
    # The score must be the weighted sum of the indicators as recorded: 68.77 + (80 − 70) × 10 / 100.
    wrong = await client.put(
        at, json={"score": "68.77", "from_proposal": True, "adjustments": adjusted}, headers=w["province"]
    )
    body = problem(wrong, 422, "validation-failed")
    assert locs(body) == [["body", "score"]]
    assert "69.77" in body["errors"][0]["msg"]
    response = await client.put(
        at, json={"score": "69.77", "from_proposal": True, "adjustments": adjusted}, headers=w["province"]
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["score"] == "69.77"
    assert result["indicators"]["talent_team"] == "80.00"
    assert result["indicators"]["rd_investment"] == "71.00"
    assert result["proposal"] == {
        "scheme": "henan-2021-assessment",
        "computed": {
            "rd_investment": "71.00",
            "st_results": "68.74",
            "talent_team": "70.00",
            "research_projects": "64.01",
            "industry_academia_cooperation": "63.43",
        },
        "computed_score": "68.77",
        "adjustments": {
            "talent_team": {"computed": "70.00", "adjusted": "80.00", "reason": "引进国家级人才2名，年报未计入"}
        },
    }
    listed = (await client.get(f"{API}/assessment-cycles/{cycle['id']}/results", headers=w["province"])).json()
    assert listed["items"][0]["proposal"] == result["proposal"]
    events = (await client.get(f"{API}/events", headers=w["province"], params={"limit": 200})).json()["items"]
    recorded = [e for e in events if e["type"] == "assessment.result_recorded"][-1]
    assert recorded["data"] == {
        "cycle_id": cycle["id"],
        "score": "69.77",
        "scheme": "henan-2021-assessment",
        "adjusted": ["talent_team"],
    }
    # Typed in by hand afterwards: the result no longer claims to come from the proposal.
    by_hand = {"score": "70", "indicators": dict.fromkeys(result["indicators"], "70")}
    assert (await client.put(at, json=by_hand, headers=w["province"])).json()["proposal"] is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"score": "70", "indicators": {"rd_investment": "70"}, "from_proposal": True}, ["body", "from_proposal"]),
        ({"score": "70", "adjustments": {"talent_team": {"score": "1", "reason": "x"}}}, ["body", "adjustments"]),
        (
            {"score": "70", "from_proposal": True, "adjustments": {"talent_team": {"score": "101", "reason": "x"}}},
            ["body", "adjustments", "talent_team", "score"],
        ),
        (
            {"score": "70", "from_proposal": True, "adjustments": {"talent_team": {"score": "1", "reason": ""}}},
            ["body", "adjustments", "talent_team", "reason"],
        ),
    ],
)
async def test_a_proposal_result_refuses_bad_adjustments(
    client: httpx.AsyncClient, auth: Any, body: dict[str, Any], loc: list[str]
) -> None:
    w = await recognized_center(client, auth)
    cycle = await open_cycle(client, w["province"])
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}"
    assert loc in locs(problem(await client.put(at, json=body, headers=w["province"]), 422, "validation-failed"))


async def test_an_unknown_or_blank_adjustment_is_refused_once_the_proposal_is_complete(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await recognized_center(client, auth)
    for year, (f, kpi) in YEARS.items():
        await file_report(client, w, year, f, kpi)
    cycle = await open_cycle(client, w["province"])
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}"
    body = {"score": "68.77", "from_proposal": True, "adjustments": {"talent": {"score": "1", "reason": "x"}}}
    assert locs(problem(await client.put(at, json=body, headers=w["province"]), 422, "validation-failed")) == [
        ["body", "adjustments", "talent"]
    ]
    body = {"score": "68.77", "from_proposal": True, "adjustments": {"talent_team": {"score": "1", "reason": " "}}}
    assert locs(problem(await client.put(at, json=body, headers=w["province"]), 422, "validation-failed")) == [
        ["body", "adjustments", "talent_team", "reason"]
    ]
    body = {"score": "68.77", "from_proposal": True}
    assert (await client.put(at, json=body, headers=w["province"])).status_code == 200


async def test_a_cycle_without_three_accepted_reports_with_figures_proposes_nothing_and_says_why(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await recognized_center(client, auth)
    accepted = await file_report(client, w, 2023, None, {})  # accepted, but without figures
    draft = await file_report(client, w, 2024, YEARS[2024][0], {}, accept=False)
    cycle = await open_cycle(client, w["province"])
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}"
    proposal = (await client.get(f"{at}/proposal", headers=w["province"])).json()
    assert proposal["complete"] is False
    assert (proposal["indicators"], proposal["indicator_values"], proposal["score"], proposal["grade"]) == (
        [],
        {},
        None,
        None,
    )
    missing = [
        {"reason": "no-figures", "period_year": 2023, "report_id": accepted["id"], "status": "accepted"},
        {"reason": "not-accepted", "period_year": 2024, "report_id": draft["id"], "status": "draft"},
        {"reason": "no-report", "period_year": 2025, "report_id": None, "status": None},
    ]
    assert proposal["missing"] == missing
    refused = problem(
        await client.put(at, json={"score": "0", "from_proposal": True}, headers=w["province"]), 409, "rule-violation"
    )
    assert (refused["rule"], refused["missing"]) == ("proposal-incomplete", missing)


async def test_a_center_without_task_book_targets_gets_no_proposal(client: httpx.AsyncClient, auth: Any) -> None:
    province = auth("province")
    lead = await create_org(client, province, kind="enterprise", is_leading_enterprise=True)
    center = await client.post(
        f"{API}/centers/import",
        headers=province,
        json={
            "name": "河南省无任务书技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": lead["id"],
            "status": "recognized",
            "approved_on": "2019-06-01",
            "document_no": "豫科〔2019〕9号",
            "construction_starts_on": "2019-07-01",
            "construction_ends_on": "2022-06-30",
            "recognized_on": "2023-06-01",
        },
    )
    assert center.status_code == 201, center.text
    w = {"center": center.json(), "province": province, "applicant": auth("applicant", org_id=lead["id"])}
    for year, (f, _) in YEARS.items():
        report = await file_report(client, w, year, f, {}, accept=False)
        base = f"{API}/centers/{w['center']['id']}/annual-reports/{report['id']}"
        for action, who in (("submit", "applicant"), ("endorse", "province"), ("accept", "province")):
            assert (await client.post(f"{base}/{action}", headers=w[who])).status_code == 200
    cycle = await open_cycle(client, province)
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}/proposal"
    proposal = (await client.get(at, headers=province)).json()
    assert proposal["missing"] == [
        {"reason": "no-task-book-targets", "period_year": None, "report_id": None, "status": None}
    ]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"rd_spend": "-1.00"}, ["body", "figures", "rd_spend"]),
        ({"rd_spend": "12.345"}, ["body", "figures", "rd_spend"]),
        ({"rd_spend": 12}, ["body", "figures", "rd_spend"]),
        ({"rd_spend": 12.5}, ["body", "figures", "rd_spend"]),
        ({"rd_spend": "1e3"}, ["body", "figures", "rd_spend"]),
        ({"rd_spend": "10000000.01"}, ["body", "figures", "rd_spend"]),
        ({"platform_income": "99999999.99"}, ["body", "figures", "platform_income"]),
        ({"staff_total": -1}, ["body", "figures", "staff_total"]),
        ({"staff_total": "10"}, ["body", "figures", "staff_total"]),
        ({"pct_filings": 1.5}, ["body", "figures", "pct_filings"]),
        ({"served_enterprises": 100_001}, ["body", "figures", "served_enterprises"]),
        ({"shared_equipment_hours": 8_784_001}, ["body", "figures", "shared_equipment_hours"]),
        ({"staff_total": 10, "rd_staff": 11}, ["body", "figures", "rd_staff"]),
        ({"projects": [{"level": "municipal", "title": "x", "amount": "1.00"}]}, ["body", "figures", "projects", 0]),
        ({"projects": [{"level": "national", "title": "x", "amount": "-1"}]}, ["body", "figures", "projects", 0]),
        ({"unknown": 1}, ["body", "figures", "unknown"]),
    ],
)
async def test_figures_are_validated_strictly(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], loc: list[str | int]
) -> None:
    w = await recognized_center(client, auth)
    body = {"period_year": 2025, "summary": "总结", "plan_next_year": "计划", "figures": figures(**change)}
    response = await client.post(f"{API}/centers/{w['center']['id']}/annual-reports", json=body, headers=w["applicant"])
    found = locs(problem(response, 422, "validation-failed"))
    assert any(found_loc[: len(loc)] == loc for found_loc in found), found


async def test_figures_are_patched_as_a_whole_and_checked_again(client: httpx.AsyncClient, auth: Any) -> None:
    w = await recognized_center(client, auth)
    report = await file_report(client, w, 2025, None, {}, accept=False)
    assert report["figures"] is None
    at = f"{API}/centers/{w['center']['id']}/annual-reports/{report['id']}"
    bad = await client.patch(at, json={"figures": figures(staff_total=1, rd_staff=2)}, headers=w["applicant"])
    assert locs(problem(bad, 422, "validation-failed")) == [["body", "figures", "rd_staff"]]
    good = await client.patch(at, json={"figures": figures(rd_spend="12.3")}, headers=w["applicant"])
    assert good.status_code == 200, good.text
    assert good.json()["figures"]["rd_spend"] == "12.30"


async def test_statistics_sum_the_figures_of_accepted_reports_exactly(client: httpx.AsyncClient, auth: Any) -> None:
    a = await recognized_center(client, auth, region="郑州市", n=1)
    b = await recognized_center(client, auth, region="洛阳市", n=2)
    await file_report(client, a, 2025, figures(rd_spend="1000.10", staff_total=10, rd_staff=3), {})
    await file_report(
        client,
        b,
        2025,
        figures(
            rd_spend="2000.20", platform_income="0.01", projects=[{"level": "national", "title": "x", "amount": "1.00"}]
        ),
        {},
    )
    await file_report(client, b, 2024, figures(rd_spend="5.00"), {})
    await file_report(client, a, 2024, figures(rd_spend="7.00"), {}, accept=False)  # not accepted: not counted
    province = a["province"]
    response = await client.get(
        f"{API}/stats/figures", params={"year": 2025, "status": "recognized", "group_by": "region"}, headers=province
    )
    assert response.status_code == 200, response.text
    stats = response.json()
    assert (stats["group_by"], stats["year"], stats["status"]) == ("region", 2025, "recognized")
    by_region = {item["key"]: item for item in stats["items"]}
    assert by_region["郑州市"]["rd_spend"] == "1000.10"
    assert by_region["洛阳市"]["rd_spend"] == "2000.20"
    assert stats["totals"]["rd_spend"] == "3000.30"
    assert stats["totals"]["platform_income"] == "0.01"
    assert (stats["totals"]["reports"], stats["totals"]["centers"], stats["totals"]["projects"]) == (2, 2, 1)
    assert (stats["totals"]["staff_total"], stats["totals"]["rd_staff"]) == (10, 3)
    by_year = (await client.get(f"{API}/stats/figures", params={"group_by": "year"}, headers=province)).json()
    assert [(i["key"], i["rd_spend"]) for i in by_year["items"]] == [("2024", "5.00"), ("2025", "3000.30")]
    assert by_year["totals"]["rd_spend"] == "3005.30"
    assert (by_year["totals"]["reports"], by_year["totals"]["centers"]) == (3, 2)
    # Within reach: a lead sees its own center's figures only; no center in the status → zero totals.
    own = (await client.get(f"{API}/stats/figures", headers=a["applicant"])).json()
    assert own["totals"]["rd_spend"] == "1000.10"
    none = (await client.get(f"{API}/stats/figures", params={"status": "revoked"}, headers=province)).json()
    assert (none["items"], none["totals"]["rd_spend"], none["totals"]["reports"]) == ([], "0.00", 0)
    bad = await client.get(f"{API}/stats/figures", params={"status": "nonsense"}, headers=province)
    assert locs(problem(bad, 422, "validation-failed")) == [["query", "status"]]


async def test_the_assessment_scheme_is_published(client: httpx.AsyncClient, auth: Any) -> None:
    headers = auth("observer")
    listed = (await client.get(f"{API}/reference/assessment-schemes", headers=headers)).json()
    assert [s["name"] for s in listed] == ["henan-2021-assessment"]
    one = (await client.get(f"{API}/reference/assessment-schemes/henan-2021-assessment", headers=headers)).json()
    assert one == listed[0]
    assert one["rule_sets"] == ["henan-2021", "henan-2025"]
    assert {i["code"]: i["weight"] for i in one["indicators"]} == {
        "rd_investment": 40,
        "st_results": 30,
        "talent_team": 10,
        "research_projects": 10,
        "industry_academia_cooperation": 10,
    }
    problem(await client.get(f"{API}/reference/assessment-schemes/henan-1999", headers=headers), 404, "not-found")


@pytest.mark.race  # commits for real; committed_client empties the tables afterwards
async def test_a_proposal_and_the_figure_statistics_send_at_most_3_statements(
    committed_client: httpx.AsyncClient, engine: AsyncEngine, auth: Any
) -> None:
    w = await recognized_center(committed_client, auth)
    for year, (f, kpi) in YEARS.items():
        await file_report(committed_client, w, year, f, kpi)
    cycle = await open_cycle(committed_client, w["province"])
    at = f"{API}/assessment-cycles/{cycle['id']}/results/{w['center']['id']}/proposal"
    response, sent = await sent_by(engine, committed_client.get(at, headers=w["province"]))
    assert response.json()["complete"] is True
    assert len(sent) <= SINGLE_READ, sent.render()
    stats = committed_client.get(f"{API}/stats/figures", params={"group_by": "year"}, headers=w["province"])
    response, sent = await sent_by(engine, stats)
    assert response.json()["totals"]["rd_spend"] == "12900.00"
    assert len(sent) <= SINGLE_READ, sent.render()


@pytest.mark.race  # commits for real; committed_client empties the tables afterwards
async def test_the_figures_export_has_one_row_per_accepted_report(
    committed_client: httpx.AsyncClient, auth: Any
) -> None:
    # The export reads in a transaction of its own, so the data must be committed.
    client = committed_client
    a = await recognized_center(client, auth)
    projects = [
        {"level": "national", "title": "x", "amount": "800.00"},
        {"level": "provincial", "title": "y", "amount": "0.05"},
        {"level": "provincial", "title": "z", "amount": "0.10"},
    ]
    await file_report(client, a, 2025, figures(rd_spend="1000.10", staff_total=10, rd_staff=3, projects=projects), {})
    await file_report(client, a, 2024, figures(rd_spend="7.00"), {}, accept=False)  # not accepted: not exported
    response = await client.get(f"{API}/exports/annual-figures", headers=a["province"])
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith('attachment; filename="annual-figures-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:7] == ["编号", "名称", "技术领域", "所在地区", "状态", "年度", "研发经费（万元）"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["名称"], row["年度"], row["研发经费（万元）"], row["职工总数"], row["研发人员"]) == (
        a["center"]["name"],
        "2025",
        "1000.10",
        "10",
        "3",
    )
    assert (row["国家级项目"], row["省级项目"], row["项目经费（万元）"]) == ("1", "2", "800.15")
    assert (row["状态"], row["所在地区"]) == ("已认定", "郑州市")
    expert = auth("expert", expert_id=str(uuid.uuid4()))
    problem(await client.get(f"{API}/exports/annual-figures", headers=expert), 404, "not-found")
    xlsx = await client.get(f"{API}/exports/annual-figures", params={"format": "xlsx"}, headers=a["province"])
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


async def test_a_proposal_for_a_center_outside_the_cycle_is_not_found_and_a_closed_cycle_records_nothing(
    client: httpx.AsyncClient, auth: Any
) -> None:
    w = await recognized_center(client, auth)
    for year, (f, kpi) in YEARS.items():
        await file_report(client, w, year, f, kpi)
    cycle = await open_cycle(client, w["province"])
    base = f"{API}/assessment-cycles/{cycle['id']}/results"
    problem(await client.get(f"{base}/{uuid.uuid4()}/proposal", headers=w["province"]), 404, "not-found")
    problem(await client.get(f"{API}/assessment-cycles/{uuid.uuid4()}/results/x/proposal"), 401, "unauthenticated")
    by_hand = {
        "score": "80",
        "indicators": dict.fromkeys(
            ("rd_investment", "st_results", "talent_team", "research_projects", "industry_academia_cooperation"), "80"
        ),
    }
    assert (await client.put(f"{base}/{w['center']['id']}", json=by_hand, headers=w["province"])).status_code == 200
    finalized = await client.post(f"{API}/assessment-cycles/{cycle['id']}/finalize", headers=w["province"])
    assert finalized.status_code == 200, finalized.text
    # The proposal stays readable after finalizing; recording from it is refused like any result.
    assert (await client.get(f"{base}/{w['center']['id']}/proposal", headers=w["province"])).json()["complete"]
    late = await client.put(
        f"{base}/{w['center']['id']}", json={"score": "68.77", "from_proposal": True}, headers=w["province"]
    )
    problem(late, 409, "invalid-transition")
