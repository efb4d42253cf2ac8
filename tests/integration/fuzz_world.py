"""One world with a resource in every state some operation needs in order to succeed, built through the API for the
fuzzer (tests/integration/test_fuzz_contract.py).

Every lifecycle step that only succeeds from a precise state has its own resource here: a draft, a submitted, a
recommended-with-a-panel, an under-review, a reviewed, a revising and an approved application, one whose drawn panel
is invited and one under review on a drawn panel; centers that are
approved (task book drafted), under construction near their end, waiting for an extension decision, pending
acceptance, accepted, recognized, asked to exit and rectifying after an assessment; annual reports and change
requests at each step; an open assessment cycle whose every center has a result. The fuzzer runs each request in a
savepoint that is rolled back, so one-shot operations (approve, finalize, sign_task_book, DELETE a webhook) succeed
again on every example from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from tests.api.helpers import (
    APPROVAL,
    SHANGHAI,
    World,
    act,
    answer_invitation,
    attach,
    criteria_for_total,
    draft,
    draw_panel,
    experts,
    fast_track,
    make_world,
    open_call,
    put_panel,
    recommended,
    run_publicity,
    score,
    submitted,
)
from tests.factories import create_org, credit_code

API = "/api/v1"

TASK_BOOK = {
    "targets": [
        {"code": "T1", "name": "发明专利授权", "unit": "件", "target_value": "30"},
        {"code": "T2", "name": "研发投入", "unit": "万元", "target_value": "12000"},
    ],
    "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00", "other_wan": "0"},
}
INDICATORS = ("rd_investment", "st_results", "talent_team", "research_projects", "industry_academia_cooperation")


@dataclass
class FuzzWorld:
    """`ids` names every resource by the state it is in; `principals` the headers of each caller."""

    ids: dict[str, Any]
    principals: dict[str, dict[str, str]]
    today: date


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json()) if response.content else {}


async def _center(client: httpx.AsyncClient, province: dict[str, str], lead: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"河南省{fields.pop('label', '某')}技术创新中心",
        "field": "equipment_manufacturing",
        "lead_org_id": lead,
        "document_no": "豫科〔2019〕1号",
        **fields,
    }
    return await _ok(await client.post(f"{API}/centers/import", json=body, headers=province), 201)


async def _report(
    client: httpx.AsyncClient, center: str, year: int, steps: tuple[tuple[str, dict[str, str]], ...], applicant: Any
) -> dict[str, Any]:
    base = f"{API}/centers/{center}/annual-reports"
    body = {"period_year": year, "summary": f"{year}年度总结", "kpi_actuals": {"T1": "10"}, "plan_next_year": "计划"}
    report = await _ok(await client.post(base, json=body, headers=applicant), 201)
    for action, headers in steps:
        report = await _ok(await client.post(f"{base}/{report['id']}/{action}", headers=headers))
    return report


async def _change(
    client: httpx.AsyncClient,
    center: str,
    kind: str,
    value: Any,
    steps: tuple[tuple[str, dict[str, str]], ...],
    who: Any,
) -> dict[str, Any]:
    base = f"{API}/centers/{center}/change-requests"
    body = {"kind": kind, "new_value": value, "reason": "调整"}
    change = await _ok(await client.post(base, json=body, headers=who), 201)
    for action, headers in steps:
        change = await _ok(await client.post(f"{base}/{change['id']}/{action}", headers=headers))
    return change


async def build(client: httpx.AsyncClient, auth: Any) -> FuzzWorld:
    """Build the world; every step asserts its own success, so a broken set-up fails here, not as a fuzz report."""
    today = datetime.now(SHANGHAI).date()  # the service's calendar, not the machine's
    base = await make_world(client, auth)
    province, applicant, supervisor = base.province, base.applicant, base.supervisor
    lead, university = base.lead["id"], base.university["id"]
    agency = await create_org(client, province, kind="agency", name="甲评估机构")
    # A lead without a supervising department (省直单位): the province takes the supervisor's steps for it.
    orphan = await create_org(client, province, kind="enterprise", is_leading_enterprise=True, name="省直某集团")
    orphan_applicant = auth("applicant", org_id=orphan["id"])

    # --- applications, one per state; each in a call of its own (one live application per lead and call) --------
    async def in_call(title: str) -> World:
        return replace(base, call=await open_call(client, province, title=title))

    draft_app = await draft(client, await in_call("草稿批"))
    free_call = await open_call(client, province, title="未申报批")
    fast_draft = await fast_track(client, base)
    submitted_app = await submitted(client, await in_call("提交批"))
    orphan_world = replace(await in_call("省直批"), applicant=orphan_applicant)
    orphan_submitted = await submitted(client, orphan_world)
    # One panel sits on every review: it covers the three categories, and nobody on it is tied to the lead.
    panel = await experts(client, province, 5)

    async def in_review(title: str, *, totals: tuple[int, ...] | None = None) -> dict[str, Any]:
        """An application of its own call in review; with `totals`, every member has scored and it is concluded."""
        application = await recommended(client, await in_call(title))
        await _ok(await put_panel(client, application["id"], province, panel))
        if totals is None:
            return application
        application = await act(client, application["id"], "open_review", province)
        for member, total in zip(panel, totals, strict=True):
            await score(client, application["id"], auth, member, criteria_for_total(total), expected=201)
        return application

    recommended_app = await in_review("推荐批")
    # Recommended, its formal review (形式审查) not yet recorded; the verdicts that complete it.
    unreviewed_app = await recommended(client, await in_call("形式审查批"), formally_reviewed=False)
    checklist = await _ok(
        await client.get(f"{API}/applications/{unreviewed_app['id']}/formal-review", headers=province)
    )
    formal_verdicts = {item["rule"]: {"verdict": "verified"} for item in checklist["evidence"]}
    reading = await in_review("评审批", totals=(80,) * 5)
    passing = (95, 60, 80, 75, 70)
    reviewed_app = await act(client, (await in_review("评毕批", totals=passing))["id"], "conclude_review", province)
    revising_app = await act(client, (await in_review("修改批", totals=passing))["id"], "conclude_review", province)
    revising_app = await act(client, revising_app["id"], "request_revision", province, reason="请完善建设方案")
    approved_app = await act(client, (await in_review("批准批", totals=passing))["id"], "conclude_review", province)
    approved_app = await act(client, approved_app["id"], "approve", province, **APPROVAL)
    # Drawn panels (issue 17 §1), drawn while the pool is exactly the panel (the off-panel expert comes after), so
    # all five are drawn whatever the seed: one application's invitations wait for answers, the other's were all
    # accepted and its review is open.
    invited_app = await recommended(client, await in_call("抽取批"))
    await draw_panel(client, invited_app["id"], province, backups=0)
    drawn_review = await recommended(client, await in_call("抽评批"))
    await draw_panel(client, drawn_review["id"], province, backups=0)
    for member in panel:
        await _ok(await answer_invitation(client, drawn_review["id"], auth, member["id"]))
    drawn_review = await act(client, drawn_review["id"], "open_review", province)
    off_panel = (await experts(client, province, 1))[0]
    listed = await _ok(await client.get(f"{API}/applications/{reading['id']}/attachments", headers=province))
    review_attachment = listed["items"][0]

    # --- centers ------------------------------------------------------------------------------------------------
    approved_center = approved_app["center_id"]
    book = {**TASK_BOOK, "starts_on": APPROVAL["decision_date"]}
    await _ok(await client.put(f"{API}/centers/{approved_center}/task-book", json=book, headers=province))

    recognized = {
        "status": "recognized",
        "construction_starts_on": "2019-07-01",
        "construction_ends_on": "2022-06-30",
        "task_book": {**TASK_BOOK, "starts_on": "2019-07-01", "ends_on": "2022-06-30"},
    }
    # Recognized on 2023-06-01: due in the open 2023–2025 cycle; the rectifying one, recognized 2021, was graded
    # unqualified in 2020–2022.
    center = await _center(
        client,
        province,
        lead,
        label="认定",
        approved_on="2019-06-01",
        recognized_on="2023-06-01",
        participants=[{"org_id": university, "role": "参建单位"}],
        **recognized,
    )
    path = f"{API}/centers/{center['id']}"
    await _ok(await client.patch(path, json={"acceptance_agency_org_id": agency["id"]}, headers=province))
    exiting = await _center(
        client, province, lead, label="退出", approved_on="2019-06-01", recognized_on="2023-06-01", **recognized
    )
    await _ok(
        await client.post(f"{API}/centers/{exiting['id']}/request_exit", json={"reason": "战略调整"}, headers=applicant)
    )
    rectifying = await _center(
        client, province, lead, label="整改", approved_on="2019-06-01", recognized_on="2021-06-01", **recognized
    )

    # This year's approval: no annual report is due yet, so acceptance hinges only on dates and the legal entity.
    approved_on = date(today.year, 1, 5).isoformat()
    started = date(today.year, 1, 10).isoformat()
    independent = {"legal_entity": {"status": "independent", "kind": "enterprise", "credit_code": credit_code()}}

    async def building(label: str, ends_on: date) -> dict[str, Any]:
        made = await _center(
            client,
            province,
            lead,
            label=label,
            status="under_construction",
            approved_on=approved_on,
            construction_starts_on=started,
            construction_ends_on=ends_on.isoformat(),
        )
        at = f"{API}/centers/{made['id']}"
        entity = {"legal_entity": {**independent["legal_entity"], "credit_code": credit_code()}}
        await _ok(await client.patch(at, json=entity, headers=applicant))
        await _ok(await client.patch(at, json={"acceptance_agency_org_id": agency["id"]}, headers=province))
        return made

    # Ends within three months: the lead may ask for an extension or for acceptance.
    near_end = await building("近期竣工", today + timedelta(days=60))
    extension_asked = await building("申请延期", today + timedelta(days=200))
    await _ok(
        await client.post(
            f"{API}/centers/{extension_asked['id']}/request_extension",
            json={"months": 6, "reason": "设备到货延迟"},
            headers=applicant,
        )
    )
    pending = await building("待验收", today - timedelta(days=20))
    await _ok(await client.post(f"{API}/centers/{pending['id']}/request_acceptance", headers=applicant))
    accepted = await building("已验收", today - timedelta(days=20))
    await _ok(await client.post(f"{API}/centers/{accepted['id']}/request_acceptance", headers=applicant))
    await _ok(
        await client.post(
            f"{API}/centers/{accepted['id']}/record_acceptance",
            json={"result": "passed", "decided_on": today.isoformat()},
            headers=province,
        )
    )

    # Annual reports of the recognized center, one per step of their lifecycle; 2022 is left free to file.
    report_draft = await _report(client, center["id"], 2024, (), applicant)
    report_submitted = await _report(client, center["id"], 2025, (("submit", applicant),), applicant)
    report_endorsed = await _report(
        client, center["id"], 2023, (("submit", applicant), ("endorse", supervisor)), applicant
    )
    change_filed = await _change(client, center["id"], "director", "赵六", (), applicant)
    change_endorsed = await _change(
        client, center["id"], "research_direction", "智能装备", (("endorse", supervisor),), applicant
    )
    # The province's own steps for the lead without a department: a submitted report and a filed change.
    orphan_center = await _center(
        client, province, orphan["id"], label="省直", approved_on="2019-06-01", recognized_on="2023-06-01", **recognized
    )
    orphan_report = await _report(client, orphan_center["id"], 2025, (("submit", orphan_applicant),), orphan_applicant)
    orphan_change = await _change(client, orphan_center["id"], "director", "钱七", (), orphan_applicant)

    # --- assessment: the 2020–2022 cycle grades the rectifying center unqualified; the 2023–2025 one stays open ---
    async def cycle(year: int, start: int, end: int) -> dict[str, Any]:
        body = {"year": year, "period_start_year": start, "period_end_year": end, "entrusted_to_org_id": agency["id"]}
        return await _ok(await client.post(f"{API}/assessment-cycles", json=body, headers=province), 201)

    async def result(cycle_id: str, center_id: str, value: int) -> None:
        body = {"score": f"{value}.00", "indicators": dict.fromkeys(INDICATORS, str(value))}
        at = f"{API}/assessment-cycles/{cycle_id}/results/{center_id}"
        await _ok(await client.put(at, json=body, headers=province))

    past = await cycle(2023, 2020, 2022)
    assert rectifying["id"] in past["center_ids"], past
    for member in past["center_ids"]:
        await result(past["id"], member, 50 if member == rectifying["id"] else 80)
    await _ok(await client.post(f"{API}/assessment-cycles/{past['id']}/finalize", headers=province))
    # The unqualified grade sent it to rectification with a numbered notice (整改通知), which the documents routes read:
    # within the reach of every center reader, the agency too (it assessed the center).
    documents = await _ok(await client.get(f"{API}/centers/{rectifying['id']}/documents", headers=province))
    (rectification_notice,) = documents["items"]
    open_cycle = await cycle(2026, 2023, 2025)
    assert center["id"] in open_cycle["center_ids"], open_cycle
    for member in open_cycle["center_ids"]:
        await result(open_cycle["id"], member, 80)
    await _ok(
        await client.post(
            f"{path}/funding",
            json={"kind": "post_subsidy", "amount_wan": "100.00", "year": 2025, "decision_ref": "豫财科〔2025〕1号"},
            headers=province,
        ),
        201,
    )
    webhook = await _ok(
        await client.post(f"{API}/webhooks", json={"url": "https://example.org/hook"}, headers=province), 201
    )
    # --- 公示 (issue 16 §3): the accepted center's recognition notice ended yesterday at the latest, so it may be
    # recognized today (the reviewed application's ran when its review concluded: tests/api/helpers.act). The
    # application now being revised was in the notice run when its review concluded: an objection against it,
    # received on the notice's first day, stays open for the province to resolve (and blocks nothing in use).
    await run_publicity(client, province, "recognition", [accepted["id"]], before=today)
    notices = (await _ok(await client.get(f"{API}/publicity", params={"limit": 200}, headers=province)))["items"]
    notice = next(n for n in notices if [e["subject_id"] for e in n["subjects"]] == [revising_app["id"]])
    objection = await _ok(
        await client.post(
            f"{API}/publicity/{notice['id']}/objections",
            json={
                "subject_id": revising_app["id"],
                "summary": "异议",
                "objector_name": "赵六",
                "objector_contact": "13800000000",
                "received_on": notice["starts_on"],
            },
            headers=province,
        ),
        201,
    )

    center_attachment = (await attach(client, path, applicant, "task_book", file_name="任务书.pdf")).json()
    draft_call = await _ok(
        await client.post(
            f"{API}/calls",
            json={
                "year": today.year,
                "title": "待发布通知",
                "opens_on": today.isoformat(),
                "closes_on": today.isoformat(),
            },
            headers=province,
        ),
        201,
    )

    ids = {
        "department": base.department["id"],
        "lead": lead,
        "university": university,
        "agency": agency["id"],
        "orphan": orphan["id"],
        "call": base.call["id"],
        "free_call": free_call["id"],
        "draft_call": draft_call["id"],
        "panel": [member["id"] for member in panel],
        "expert": off_panel["id"],
        "draft": draft_app["id"],
        "fast_draft": fast_draft["id"],
        "submitted": submitted_app["id"],
        "orphan_submitted": orphan_submitted["id"],
        "recommended": recommended_app["id"],
        "unreviewed": unreviewed_app["id"],
        "formal_verdicts": formal_verdicts,
        "review_attachment": review_attachment["id"],
        "center_attachment": center_attachment["id"],
        "under_review": reading["id"],
        "invited": invited_app["id"],
        "drawn_review": drawn_review["id"],
        "reviewed": reviewed_app["id"],
        "revising": revising_app["id"],
        "approved_center": approved_center,
        "center": center["id"],
        "exiting": exiting["id"],
        "rectifying": rectifying["id"],
        "near_end": near_end["id"],
        "extension_asked": extension_asked["id"],
        "pending": pending["id"],
        "accepted": accepted["id"],
        "orphan_center": orphan_center["id"],
        "report_draft": report_draft["id"],
        "report_submitted": report_submitted["id"],
        "report_endorsed": report_endorsed["id"],
        "orphan_report": orphan_report["id"],
        "change_filed": change_filed["id"],
        "change_endorsed": change_endorsed["id"],
        "orphan_change": orphan_change["id"],
        "cycle": open_cycle["id"],
        "past_cycle": past["id"],
        "webhook": webhook["id"],
        "scheme": "henan-2021-assessment",
        "document": rectification_notice["id"],
        "publicity": notice["id"],
        "publicity_starts_on": notice["starts_on"],
        "objection": objection["id"],
    }
    principals = {
        "anonymous": {},
        "province": province,
        "observer": auth("observer"),
        "supervisor": supervisor,
        "applicant": applicant,
        "expert": auth("expert", expert_id=panel[0]["id"]),
        "third_party": auth("third_party", org_id=agency["id"]),
    }
    return FuzzWorld(ids=ids, principals=principals, today=today)
