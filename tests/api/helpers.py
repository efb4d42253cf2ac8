"""Scenario builders shared by the API tests: a call, an eligible application, a panel, a full review."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.domain.workdays import is_working_day
from app.services.clock import Clock
from tests.factories import create_org

SHANGHAI = ZoneInfo("Asia/Shanghai")

PLAN = {
    "background": "建设背景与意义……",
    "foundation": "基础条件与优势……",
    "goals_and_tasks": "建设目标与主要任务……",
    "organization": "建设方式与组织构架……",
    "governance": "管理模式与运行机制……",
    "funding": "经费投入与保障措施……",
    "schedule": "建设进度安排……",
}

FACTS: dict[str, Any] = {
    "major_projects": [{"name": "国家重点研发计划项目", "level": "national", "year": 2020}],
    "platforms": [{"name": "河南省工程技术研究中心", "level": "provincial", "field": "equipment_manufacturing"}],
    "ip_results_count": 12,
    "invention_patents": 40,
    "pct_patents": 3,
    "cooperation_mechanism": "与郑州大学共建联合实验室，签订长期合作协议。",
    "staff_total": 1000,
    "rd_staff": 100,
    "high_level_talents": [
        {"name": "张三", "level": "national"},
        {"name": "李四", "level": "provincial"},
        {"name": "王五", "level": "provincial"},
    ],
    "high_level_teams": [],
    "rd_spend_wan": ["4000.00", "4000.00", "4000.00"],
}

# What the henan-2025 rule set adds to FACTS to pass: three high-level teams.
TEAMS = [{"name": f"创新团队{i}", "leader": f"带头人{i}"} for i in range(3)]

CRITERIA_GOOD = {
    "foundation": 26,
    "goals_and_tasks": 20,
    "organization_and_governance": 16,
    "funding": 12,
    "schedule": 8,
}

# No document_no: the document register issues 豫科〔2026〕N号 (issue 16 §4), so approvals never collide on one.
APPROVAL = {"decision_date": "2026-08-11"}
# An approval is dated on or after the review's conclusion (issue 11 §3.15), so the reviews these helpers conclude
# are concluded on the day before APPROVAL's decision.
CONCLUDED_AT = datetime(2026, 8, 10, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


@dataclass(frozen=True)
class FixedClock(Clock):
    """A clock stopped at `at`, for date-dependent rules (an open call, a passed window)."""

    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.at

    @classmethod
    def on(cls, day: date) -> FixedClock:
        """Noon in Beijing on `day`."""
        return cls(tz=SHANGHAI, at=datetime.combine(day, time(12), SHANGHAI).astimezone(UTC))


@dataclass
class World:
    """A supervising department, an eligible enterprise lead, a university participant and an open call."""

    province: dict[str, str]
    department: dict[str, Any]
    lead: dict[str, Any]
    university: dict[str, Any]
    call: dict[str, Any]
    applicant: dict[str, str]
    supervisor: dict[str, str]


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with `status` and `code`; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def locs(body: dict[str, Any]) -> list[list[str | int]]:
    return [error["loc"] for error in body["errors"]]


async def open_call(client: httpx.AsyncClient, province: dict[str, str], **overrides: Any) -> dict[str, Any]:
    today = date.today()
    body = {
        "year": today.year,
        "title": "年度省技术创新中心申报",
        "opens_on": (today - timedelta(days=30)).isoformat(),
        "closes_on": (today + timedelta(days=30)).isoformat(),
        **overrides,
    }
    response = await client.post("/api/v1/calls", json=body, headers=province)
    assert response.status_code == 201, response.text
    call = response.json()
    response = await client.post(f"/api/v1/calls/{call['id']}/publish", headers=province)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def make_world(client: httpx.AsyncClient, auth: Any, **call_overrides: Any) -> World:
    province = auth("province")
    department = await create_org(client, province, kind="department", name="郑州市科学技术局")
    lead = await create_org(
        client,
        province,
        kind="enterprise",
        is_leading_enterprise=True,
        supervisor_id=department["id"],
        name="郑州某装备集团有限公司",
    )
    university = await create_org(client, province, kind="university", name="某大学")
    call = await open_call(client, province, **call_overrides)
    return World(
        province=province,
        department=department,
        lead=lead,
        university=university,
        call=call,
        applicant=auth("applicant", org_id=lead["id"]),
        supervisor=auth("supervisor", org_id=department["id"]),
    )


async def other_lead(
    client: httpx.AsyncClient, world: World, auth: Any, **overrides: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Another lead organization under the world's department (unless overridden), and its applicant headers."""
    body: dict[str, Any] = {
        "kind": "enterprise",
        "is_leading_enterprise": True,
        "supervisor_id": world.department["id"],
        **overrides,
    }
    org = await create_org(client, world.province, **body)
    return org, auth("applicant", org_id=org["id"])


def application_body(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "call_id": world.call["id"],
        "proposed_name": "河南省智能装备技术创新中心",
        "field": "equipment_manufacturing",
        "formation_mode": "enterprise_led",
        "participants": [{"org_id": world.university["id"], "role": "参建单位"}],
        "zones": ["zhengluoxin"],
        "plan": PLAN,
        "facts": FACTS,
        **overrides,
    }


async def draft(
    client: httpx.AsyncClient, world: World, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/applications", json=application_body(world, **overrides), headers=headers or world.applicant
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def fast_track(client: httpx.AsyncClient, world: World, **overrides: Any) -> dict[str, Any]:
    """A fast-track (一事一议) application the province drafts for the world's lead."""
    body = application_body(world, **overrides)
    del body["call_id"]
    body.update(fast_track=True, fast_track_basis="省政府专题会议纪要〔2026〕12号", lead_org_id=world.lead["id"])
    body.update(overrides)
    response = await client.post("/api/v1/applications", json=body, headers=world.province)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _pinned_today(client: httpx.AsyncClient) -> date | None:
    """The service's today when the test pinned its clock, else None."""
    from app.api.deps import get_clock

    override = client._transport.app.dependency_overrides.get(get_clock)  # type: ignore[attr-defined]
    return override().today() if override is not None else None


async def run_publicity(
    client: httpx.AsyncClient,
    province: dict[str, str],
    kind: str,
    subject_ids: list[str],
    *,
    before: date | str | None = None,
) -> dict[str, Any]:
    """A 公示 (issue 16 §3) of `kind` listing `subject_ids`, one working day long, that ended before `before` (by
    default: ran on the day the helpers conclude reviews, CONCLUDED_AT, or before the test's pinned day): what
    `approve` and `recognize` wait for. Published on its first day, the service's clock pinned there unless the
    test pinned its own."""
    pinned = _pinned_today(client)
    last = date.fromisoformat(str(before)) - timedelta(days=1) if before else (pinned or CONCLUDED_AT.date())
    if pinned is not None:  # ended by the test's today
        last = min(last, pinned - timedelta(days=1))
    starts = last
    while not is_working_day(starts):
        starts -= timedelta(days=1)
    body = {"kind": kind, "subject_ids": subject_ids, "starts_on": starts.isoformat(), "working_days": 1}
    with pinned_clock(client, datetime.combine(starts, time(12), SHANGHAI)):
        response = await client.post("/api/v1/publicity", json=body, headers=province)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def act(
    client: httpx.AsyncClient,
    application_id: str,
    action: str,
    headers: dict[str, str],
    expected: int = 200,
    *,
    publicity: bool = True,
    **body: Any,
) -> dict[str, Any]:
    """Take an application action; `conclude_review` runs on CONCLUDED_AT unless the test pinned its own clock.

    A concluded review is then, unless `publicity=False`, listed in a 公示 that ran on the day the review concluded
    (`run_publicity`), so the province may approve from the next day (APPROVAL) as before issue 16."""
    path = f"/api/v1/applications/{application_id}/{action}"
    if action == "conclude_review":
        with pinned_clock(client, CONCLUDED_AT):
            response = await client.post(path, json=body or None, headers=headers)
    else:
        response = await client.post(path, json=body or None, headers=headers)
    assert response.status_code == expected, response.text
    out = dict(response.json())
    if action == "conclude_review" and publicity and out.get("status") == "reviewed":
        await run_publicity(client, headers, "approval", [application_id])
    return out


@contextmanager
def pinned_clock(client: httpx.AsyncClient, instant: datetime) -> Iterator[None]:
    """Pin the service's clock for a block, unless the test already pinned one (its clock then decides)."""
    from app.api.deps import get_clock

    overrides = client._transport.app.dependency_overrides  # type: ignore[attr-defined]
    if get_clock in overrides:
        yield
        return
    overrides[get_clock] = lambda: FixedClock(tz=SHANGHAI, at=instant.astimezone(UTC))
    try:
        yield
    finally:
        overrides.pop(get_clock, None)


# A minimal PDF: what the media-type check recognises (it reads the bytes, not the name or the header).
PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# The kinds that back FACTS's evidence-needing rules under henan-2021 and henan-2025 (app/domain/rulesets.py).
EVIDENCE_KINDS = ("rd_audit", "talent_proof", "patent_certificate", "integrity_pledge")


async def attach(
    client: httpx.AsyncClient,
    subject_path: str,
    headers: dict[str, str],
    kind: str = "audit_report",
    content: bytes = PDF_BYTES,
    file_name: str = "审计报告.pdf",
    expected: int | None = 201,
    **form: str,
) -> httpx.Response:
    """Upload `content` as an attachment of `subject_path` (`/api/v1/applications/{id}` or a center's)."""
    response = await client.post(
        f"{subject_path}/attachments",
        data={"kind": kind, **form},
        files={"file": (file_name, content, "application/octet-stream")},
        headers=headers,
    )
    if expected is not None:
        assert response.status_code == expected, response.text
    return response


async def attach_evidence(client: httpx.AsyncClient, application_id: str, headers: dict[str, str]) -> None:
    """The documents a formal review looks for, one per evidence kind (distinct bytes, so distinct objects)."""
    for kind in EVIDENCE_KINDS:
        content = PDF_BYTES + kind.encode()
        await attach(client, f"/api/v1/applications/{application_id}", headers, kind, content, f"{kind}.pdf")


async def formal_review(
    client: httpx.AsyncClient, application_id: str, province: dict[str, str], expected: int = 200, **body: Any
) -> dict[str, Any]:
    """Record a formal review; by default every rule that needs evidence `verified` and the outcome `complete`."""
    path = f"/api/v1/applications/{application_id}/formal-review"
    if "verdicts" not in body:
        checklist = await client.get(path, headers=province)
        assert checklist.status_code == 200, checklist.text
        body["verdicts"] = {item["rule"]: {"verdict": "verified"} for item in checklist.json()["evidence"]}
    body.setdefault("outcome", "complete")
    response = await client.post(path, json=body, headers=province)
    assert response.status_code == expected, response.text
    return dict(response.json())


async def submitted(client: httpx.AsyncClient, world: World, **overrides: Any) -> dict[str, Any]:
    application = await draft(client, world, **overrides)
    await attach_evidence(client, application["id"], world.applicant)
    return await act(client, application["id"], "submit", world.applicant)


async def recommended(client: httpx.AsyncClient, world: World, *, formally_reviewed: bool = True) -> dict[str, Any]:
    """A recommended application whose formal review (形式审查) is complete, so expert review may open; with
    `formally_reviewed=False`, one still waiting for it."""
    application = await submitted(client, world)
    application = await act(client, application["id"], "recommend", world.supervisor)
    if formally_reviewed:
        application = await formal_review(client, application["id"], world.province)
    return application


async def expert(
    client: httpx.AsyncClient, province: dict[str, str], category: str = "technical", **overrides: Any
) -> dict[str, Any]:
    body = {
        "name": f"专家{uuid.uuid4().hex[:6]}",
        "category": category,
        "fields": ["equipment_manufacturing"],
        **overrides,
    }
    response = await client.post("/api/v1/experts", json=body, headers=province)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def experts(
    client: httpx.AsyncClient,
    province: dict[str, str],
    n: int = 5,
    categories: tuple[str, ...] = ("technical", "financial", "management"),
) -> list[dict[str, Any]]:
    return [await expert(client, province, categories[i % len(categories)]) for i in range(n)]


async def put_panel(
    client: httpx.AsyncClient, application_id: str, province: dict[str, str], panel: list[dict[str, Any]]
) -> httpx.Response:
    return await client.put(
        f"/api/v1/applications/{application_id}/panel", json={"expert_ids": [e["id"] for e in panel]}, headers=province
    )


async def under_review(
    client: httpx.AsyncClient, world: World, auth: Any, n: int = 5
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    application = await recommended(client, world)
    panel = await experts(client, world.province, n)
    response = await put_panel(client, application["id"], world.province, panel)
    assert response.status_code == 200, response.text
    application = await act(client, application["id"], "open_review", world.province)
    return application, panel


async def score(
    client: httpx.AsyncClient,
    application_id: str,
    auth: Any,
    expert: dict[str, Any],
    criteria: dict[str, Any],
    support: bool = True,
    expected: int | None = None,
    opinion: str | None = None,
) -> httpx.Response:
    # The default opinion names nobody, so anonymity tests can look for expert names anywhere in a response.
    text = opinion or ("基础扎实，建议支持。" if support else "条件不足，建议不予支持。")
    response = await client.put(
        f"/api/v1/applications/{application_id}/scores/me",
        json={"criteria": criteria, "opinion": text, "support": support},
        headers=auth("expert", expert_id=expert["id"]),
    )
    if expected is not None:
        assert response.status_code == expected, response.text
    return response


async def reviewed(
    client: httpx.AsyncClient,
    world: World,
    auth: Any,
    totals: tuple[int, ...] = (95, 60, 80, 75, 70),
    supports: tuple[bool, ...] | None = None,
    *,
    publicity: bool = True,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An application whose panel scored `totals` (with `supports` votes) and whose review is concluded (and, unless
    `publicity=False`, listed in a 公示 that has ended: see `act`)."""
    application, panel = await under_review(client, world, auth, n=len(totals))
    votes = supports or (True,) * len(totals)
    for member, total, support in zip(panel, totals, votes, strict=True):
        await score(client, application["id"], auth, member, criteria_for_total(total), support, expected=201)
    return await act(client, application["id"], "conclude_review", world.province, publicity=publicity), panel


def criteria_for_total(total: int) -> dict[str, int]:
    """Criteria within their maxima (30, 25, 20, 15, 10) adding up to `total`."""
    maxima = [
        ("foundation", 30),
        ("goals_and_tasks", 25),
        ("organization_and_governance", 20),
        ("funding", 15),
        ("schedule", 10),
    ]
    out, left = {}, total
    for name, maximum in maxima:
        take = min(maximum, left)
        out[name] = take
        left -= take
    assert left == 0
    return out


# --- panel draws (issue 17 §1) -------------------------------------------------------------------------------------


async def draw_panel(
    client: httpx.AsyncClient, application_id: str, province: dict[str, str], expected: int = 201, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/applications/{application_id}/panel/draw", json=body, headers=province)
    assert response.status_code == expected, response.text
    return dict(response.json())


async def answer_invitation(
    client: httpx.AsyncClient, application_id: str, auth: Any, expert_id: str, *, decline: str | None = None
) -> httpx.Response:
    """Accept (or, with a reason, decline) the panel invitation as `expert_id`."""
    path = f"/api/v1/applications/{application_id}/panel/invitation/"
    headers = auth("expert", expert_id=expert_id)
    if decline is None:
        return await client.post(path + "accept", headers=headers)
    return await client.post(path + "decline", json={"reason": decline}, headers=headers)


async def drawn_under_review(
    client: httpx.AsyncClient, world: World, auth: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An application under review whose panel was drawn and accepted by every member. The pool must hold no expert
    yet: the five created here are then the whole pool, so all five are drawn whatever the seed."""
    application = await recommended(client, world)
    panel = await experts(client, world.province, 5)
    await draw_panel(client, application["id"], world.province, backups=0)
    for member in panel:
        response = await answer_invitation(client, application["id"], auth, member["id"])
        assert response.status_code == 200, response.text
    return await act(client, application["id"], "open_review", world.province), panel
