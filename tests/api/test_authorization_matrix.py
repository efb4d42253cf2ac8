"""Every route × every role × (own, other's) resource, decided in one table (issue 8, item 2).

domain.md §1: a resource outside the caller's reach answers 404, never 403. The DECISIONS table below names, for each
(method, path template) under /api/v1, what each role gets on a resource on its own side and on the other side:

- `OK`: 2xx — the call is reachable and succeeds (the main actions are probed with bodies that really succeed), and
  its body conforms to the operation's response schema in the generated contract;
- `REFUSED`: 409 with a refusal code (`invalid-transition`, `ineligible`, `conflict-of-interest`, `rule-violation`)
  — reachable, but the state, the role's rights or the rules say no. A 422 `validation-failed` is never a refusal:
  it means the probe's own body is wrong, and fails the test as such;
- `HIDDEN`: 404 `not-found`, the same answer as for an id that does not exist;
- for lists, `LISTED` / `UNLISTED`: 200, with or without side A's resource among the items.

"Own" and "other" are two callers of the same role looking at side A's resources: the supervising department of
lead A and that of lead B, applicant A and applicant B, an expert on A's review panel and one off it, the agency
entrusted with A's acceptance and assessment and one that is not. The province and observers have no side.

`test_every_route_has_a_decision` compares the table with `app.routes`: a new route without a decision fails it.

One world is built per module inside an outer transaction that is rolled back at the end; each probe runs in a
savepoint that is rolled back too, so probes can send real, valid bodies without changing what the next one sees.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.api.access import ACCESS
from app.api.deps import get_session
from app.api.problems import CATALOGUE, PROBLEM_MEDIA_TYPE
from app.db.session import create_sessionmaker
from app.domain.principal import ROLE_NAMES
from app.domain.workdays import is_working_day
from app.main import create_app
from app.settings import Settings
from tests.api.helpers import (
    FACTS,
    PDF_BYTES,
    PLAN,
    act,
    attach,
    attach_evidence,
    criteria_for_total,
    draft,
    drawn_under_review,
    expert,
    formal_review,
    make_world,
    open_call,
    score,
)
from tests.conftest import sequence_on
from tests.factories import create_org, credit_code

API = "/api/v1"
SIDELESS = frozenset({"province", "observer"})

OK = "ok"
REFUSED = "refused"
HIDDEN = "hidden"
LISTED = "listed"
UNLISTED = "unlisted"
STATUSES = {OK: range(200, 300), REFUSED: (409,), HIDDEN: (404,)}
# The codes that say "reachable, but no" (api.md "Errors"); any other 409 (a duplicate, a lost race) is not a refusal.
REFUSALS = frozenset({"invalid-transition", "ineligible", "conflict-of-interest", "rule-violation"})
INVALID_PROBE = "invalid probe body"

Cell = str | tuple[str, str]
# Reachable on one's own side only: (own, other).
MINE = (OK, HIDDEN)
MINE_REFUSED = (REFUSED, HIDDEN)
MINE_LISTED = (LISTED, UNLISTED)

# Which world resource a path parameter names unless a decision says otherwise.
DEFAULT_RESOURCES = {
    "org_id": "org",
    "expert_id": "expert",
    "call_id": "call",
    "application_id": "application",
    "center_id": "center",
    "report_id": "report",
    "request_id": "change",
    "cycle_id": "cycle",
    "webhook_id": "webhook",
    "scheme_id": "scheme",
    "document_id": "document",
    "publicity_id": "publicity",
    "objection_id": "objection",
    "attachment_id": "attachment",
}


@dataclass(frozen=True)
class Decision:
    cells: Mapping[str, Cell]
    body: Any = None
    params: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, str] = field(default_factory=dict)
    listed: str | None = None  # for a list: the world resource whose presence among the items is decided
    role_bodies: Mapping[str, Any] = field(default_factory=dict)  # a role that may only call with another body
    form: Mapping[str, str] | None = None  # a multipart upload: these fields and a small PDF as `file`

    def body_for(self, role: str) -> Any:
        return self.role_bodies.get(role, self.body)

    def expected(self, role: str, side: str) -> str:
        cell = self.cells[role]
        if isinstance(cell, tuple):
            return cell[0] if side == "own" else cell[1]
        return cell


def decide(
    *,
    province: Cell,
    supervisor: Cell,
    applicant: Cell,
    expert: Cell,
    third_party: Cell,
    observer: Cell,
    body: Any = None,
    params: Mapping[str, str] | None = None,
    listed: str | None = None,
    role_bodies: Mapping[str, Any] | None = None,
    form: Mapping[str, str] | None = None,
    **resources: str,
) -> Decision:
    """A row of the table: every role is a required keyword, so a decision cannot forget one."""
    cells = {
        "province": province,
        "supervisor": supervisor,
        "applicant": applicant,
        "expert": expert,
        "third_party": third_party,
        "observer": observer,
    }
    assert all(isinstance(c, str) or (isinstance(c, tuple) and len(c) == 2) for c in cells.values())
    assert all(isinstance(cells[r], str) for r in SIDELESS), "the province and observers have no side"
    if listed is not None:
        assert all(
            c in (LISTED, UNLISTED, HIDDEN)
            for cell in cells.values()
            for c in (cell if isinstance(cell, tuple) else (cell,))
        )
    return Decision(
        cells=cells,
        body=body,
        params=params or {},
        resources=resources,
        listed=listed,
        role_bodies=role_bodies or {},
        form=form,
    )


def everyone(outcome: str = OK, **extra: Any) -> Decision:
    return decide(
        province=outcome,
        supervisor=outcome,
        applicant=outcome,
        expert=outcome,
        third_party=outcome,
        observer=outcome,
        **extra,
    )


def province_only(outcome: str = OK, **extra: Any) -> Decision:
    """ProvinceDep routes: every other role gets 404 before anything is read."""
    return decide(
        province=outcome,
        supervisor=HIDDEN,
        applicant=HIDDEN,
        expert=HIDDEN,
        third_party=HIDDEN,
        observer=HIDDEN,
        **extra,
    )


def application_reader(**extra: Any) -> Decision:
    """Reads of A's application under review: its lead, its supervisor, its panel; never an agency."""
    return decide(province=OK, supervisor=MINE, applicant=MINE, expert=MINE, third_party=HIDDEN, observer=OK, **extra)


def application_action(*, ok_for: str | None = None, **extra: Any) -> Decision:
    """An application action: those who see the application are refused by the state machine unless `ok_for`;
    the rest get 404. On the draft and submitted applications no expert sits on a panel, so experts see nothing.
    Observers read it but never write anything: 404, as for every role without the right (issue 12)."""
    on_review = extra.get("application", "application") == "application"
    cells: dict[str, Cell] = {
        "province": REFUSED,
        "supervisor": MINE_REFUSED,
        "applicant": MINE_REFUSED,
        "expert": MINE_REFUSED if on_review else HIDDEN,
        "third_party": HIDDEN,
        "observer": HIDDEN,
    }
    if ok_for is not None:
        cells[ok_for] = OK if ok_for in SIDELESS else MINE
    return decide(**cells, **extra)  # type: ignore[arg-type]


def center_reader(**extra: Any) -> Decision:
    """Reads of A's center: its lead, its supervisor, the agency entrusted with it; never an expert."""
    return decide(province=OK, supervisor=MINE, applicant=MINE, expert=HIDDEN, third_party=MINE, observer=OK, **extra)


def center_write(*, ok_for: tuple[str, ...] = (), **extra: Any) -> Decision:
    """A write on A's center (or its reports and changes): those within reach are refused unless in `ok_for`;
    observers, who read the center but never write anything, get 404 (issue 12)."""
    cells: dict[str, Cell] = {
        "province": REFUSED,
        "supervisor": MINE_REFUSED,
        "applicant": MINE_REFUSED,
        "expert": HIDDEN,
        "third_party": MINE_REFUSED,
        "observer": HIDDEN,
    }
    for role in ok_for:
        cells[role] = OK if role in SIDELESS else MINE
    return decide(**cells, **extra)  # type: ignore[arg-type]


def applicant_files(**extra: Any) -> Decision:
    """Filing under a center (annual reports, change requests) is the lead's: every other role gets 404, even the
    province, which reads the center but files nothing under it."""
    return decide(
        province=HIDDEN,
        supervisor=HIDDEN,
        applicant=MINE,
        expert=HIDDEN,
        third_party=HIDDEN,
        observer=HIDDEN,
        **extra,
    )


def cycle_reader(**extra: Any) -> Decision:
    return decide(
        province=OK, supervisor=HIDDEN, applicant=HIDDEN, expert=HIDDEN, third_party=MINE, observer=OK, **extra
    )


def not_for_experts(**extra: Any) -> Decision:
    return decide(province=OK, supervisor=OK, applicant=OK, expert=HIDDEN, third_party=OK, observer=OK, **extra)


def feed_reader(**extra: Any) -> Decision:
    return decide(
        province=OK, supervisor=HIDDEN, applicant=HIDDEN, expert=HIDDEN, third_party=HIDDEN, observer=OK, **extra
    )


TODAY = date.today()
NEXT_WORKING_DAY = next(TODAY + timedelta(days=n) for n in range(1, 30) if is_working_day(TODAY + timedelta(days=n)))
TASK_BOOK = {
    "targets": [
        {"code": "T1", "name": "发明专利授权", "unit": "件", "target_value": "30"},
        {"code": "T2", "name": "研发投入", "unit": "万元", "target_value": "12000"},
    ],
    "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00", "other_wan": "0"},
    "starts_on": "2022-12-01",
    "ends_on": "2025-11-30",
}
INDICATORS = dict.fromkeys(
    ("rd_investment", "st_results", "talent_team", "research_projects", "industry_academia_cooperation"), "80"
)
REPORTS = "/centers/{center_id}/annual-reports/{report_id}"
CHANGES = "/centers/{center_id}/change-requests/{request_id}"


def _fast_track_application() -> dict[str, Any]:
    body = {k: v for k, v in _new_application("").items() if k != "call_id"}
    return {**body, "fast_track": True, "fast_track_basis": "省政府专题会议纪要〔2026〕12号", "lead_org_id": "{org}"}


def _new_application(call: str) -> dict[str, Any]:
    # `call` is filled in from the world when the probe runs (see _materialize).
    return {
        "call_id": call,
        "proposed_name": "河南省某新技术创新中心",
        "field": "equipment_manufacturing",
        "formation_mode": "enterprise_led",
        "participants": [{"org_id": "{university}", "role": "参建单位"}],
        "zones": [],
        "plan": PLAN,
        "facts": FACTS,
    }


DECISIONS: dict[tuple[str, str], Decision] = {
    # --- reference ---------------------------------------------------------------------------------------------
    ("GET", "/reference"): everyone(),
    ("GET", "/reference/state-machines"): everyone(),
    ("GET", "/reference/assessment-schemes"): everyone(),
    ("GET", "/reference/assessment-schemes/{scheme_id}"): everyone(),
    ("GET", "/reference/attachment-kinds"): everyone(),
    # --- organizations and experts -------------------------------------------------------------------------------
    ("POST", "/organizations"): province_only(
        body={"name": "新单位", "credit_code": "{credit_code}", "kind": "enterprise", "region": "郑州市"}
    ),
    ("GET", "/organizations"): decide(
        province=LISTED,
        supervisor=MINE_LISTED,
        applicant=MINE_LISTED,
        expert=UNLISTED,
        third_party=UNLISTED,
        observer=LISTED,
        listed="org",
    ),
    ("GET", "/organizations/{org_id}"): decide(
        province=OK, supervisor=MINE, applicant=MINE, expert=HIDDEN, third_party=HIDDEN, observer=OK
    ),
    ("PATCH", "/organizations/{org_id}"): province_only(body={"region": "洛阳市"}),
    ("POST", "/experts"): province_only(
        body={"name": "新专家", "category": "technical", "fields": ["equipment_manufacturing"]}
    ),
    ("GET", "/experts"): province_only(LISTED, listed="expert"),
    ("GET", "/experts/{expert_id}"): province_only(),
    ("PATCH", "/experts/{expert_id}"): province_only(body={"name": "改名专家"}),
    # An expert declares their own conflicts: there is no "other's" list.
    ("POST", "/experts/me/conflicts"): decide(
        province=HIDDEN,
        supervisor=HIDDEN,
        applicant=HIDDEN,
        expert=OK,
        third_party=HIDDEN,
        observer=HIDDEN,
        body={"org_id": "{university}", "kind": "relative"},
    ),
    ("GET", "/experts/me/conflicts"): decide(
        province=HIDDEN, supervisor=HIDDEN, applicant=HIDDEN, expert=OK, third_party=HIDDEN, observer=HIDDEN
    ),
    # --- calls ---------------------------------------------------------------------------------------------------
    ("POST", "/calls"): province_only(
        body={
            "year": TODAY.year,
            "title": "再一次申报",
            "opens_on": TODAY.isoformat(),
            "closes_on": (TODAY + timedelta(days=30)).isoformat(),
        }
    ),
    ("GET", "/calls"): everyone(LISTED, listed="call"),  # published calls are public
    ("GET", "/calls/{call_id}"): everyone(),
    ("POST", "/calls/{call_id}/publish"): province_only(REFUSED),
    ("POST", "/calls/{call_id}/close"): province_only(),
    # --- applications ----------------------------------------------------------------------------------------------
    ("POST", "/applications"): decide(
        province=OK,  # the province drafts only fast-track (一事一议) applications, for a lead it names
        supervisor=HIDDEN,
        applicant=OK,  # applicant B applies for itself: there is no "other's" application to create
        expert=HIDDEN,
        third_party=HIDDEN,
        observer=HIDDEN,
        body=_new_application("{draft_call}"),
        role_bodies={"province": _fast_track_application()},
    ),
    ("GET", "/applications"): decide(
        province=LISTED,
        supervisor=MINE_LISTED,
        applicant=MINE_LISTED,
        expert=MINE_LISTED,
        third_party=UNLISTED,
        observer=LISTED,
        listed="application",
    ),
    ("GET", "/applications/{application_id}"): application_reader(),
    ("PATCH", "/applications/{application_id}"): application_action(
        ok_for="applicant", application="draft", body={"proposed_name": "改名后的中心"}
    ),
    ("GET", "/applications/{application_id}/eligibility"): decide(
        province=OK, supervisor=MINE, applicant=MINE, expert=HIDDEN, third_party=HIDDEN, observer=HIDDEN
    ),
    ("GET", "/applications/{application_id}/actions"): application_reader(),
    ("GET", "/applications/{application_id}/history"): application_reader(),
    ("POST", "/applications/{application_id}/submit"): application_action(ok_for="applicant", application="draft"),
    ("POST", "/applications/{application_id}/withdraw"): application_action(ok_for="applicant", application="draft"),
    ("POST", "/applications/{application_id}/recommend"): application_action(
        ok_for="supervisor", application="submitted"
    ),
    ("POST", "/applications/{application_id}/return"): application_action(
        ok_for="supervisor", application="submitted", body={"reason": "材料不全"}
    ),
    ("POST", "/applications/{application_id}/reject"): application_action(
        ok_for="supervisor", application="submitted", body={"reason": "不予推荐"}
    ),
    ("POST", "/applications/{application_id}/open_review"): application_action(),
    ("POST", "/applications/{application_id}/conclude_review"): application_action(ok_for="province"),
    ("POST", "/applications/{application_id}/request_revision"): application_action(body={"reason": "请修改"}),
    ("POST", "/applications/{application_id}/resubmit"): application_action(),
    ("POST", "/applications/{application_id}/approve"): application_action(
        body={"decision_date": TODAY.isoformat(), "document_no": "豫科〔2026〕99号"}
    ),
    ("PUT", "/applications/{application_id}/panel"): province_only(
        application="submitted", body={"expert_ids": "{panel}"}
    ),
    ("PUT", "/applications/{application_id}/scores/me"): decide(
        province=HIDDEN,  # scores are the experts' own; nobody scores in another's name
        supervisor=HIDDEN,
        applicant=HIDDEN,
        expert=MINE,
        third_party=HIDDEN,
        observer=HIDDEN,
        body={"criteria": criteria_for_total(85), "opinion": "建议支持。", "support": True},
    ),
    ("POST", "/applications/{application_id}/site-visits"): province_only(
        body={"visited_on": TODAY.isoformat(), "members": ["考察组"], "findings": "现场条件良好。"}
    ),
    ("GET", "/applications/{application_id}/review"): application_reader(),
    # A's panel was drawn before its review opened: a new draw is refused while it is under review; the draw is read
    # like the application. Its members have all accepted, so answering again is refused; an expert off it sees
    # nothing.
    ("POST", "/applications/{application_id}/panel/draw"): province_only(REFUSED),
    ("GET", "/applications/{application_id}/panel/draw"): application_reader(),
    ("POST", "/applications/{application_id}/panel/invitation/accept"): decide(
        province=HIDDEN, supervisor=HIDDEN, applicant=HIDDEN, expert=MINE_REFUSED, third_party=HIDDEN, observer=HIDDEN
    ),
    ("POST", "/applications/{application_id}/panel/invitation/decline"): decide(
        province=HIDDEN,
        supervisor=HIDDEN,
        applicant=HIDDEN,
        expert=MINE_REFUSED,
        third_party=HIDDEN,
        observer=HIDDEN,
        body={"reason": "时间冲突"},
    ),
    # --- attachments and the formal review (issue 16) -------------------------------------------------------------
    # Uploads go to A's draft (editable): its lead and the province; readers who do not write get 404.
    ("POST", "/applications/{application_id}/attachments"): decide(
        province=OK,
        supervisor=HIDDEN,
        applicant=MINE,
        expert=HIDDEN,
        third_party=HIDDEN,
        observer=HIDDEN,
        application="draft",
        form={"kind": "audit_report"},
    ),
    ("GET", "/applications/{application_id}/attachments"): application_reader(),
    ("GET", "/applications/{application_id}/attachments/{attachment_id}"): application_reader(),
    ("GET", "/applications/{application_id}/attachments/{attachment_id}/content"): application_reader(),
    ("GET", "/applications/{application_id}/formal-review"): decide(
        province=OK, supervisor=MINE, applicant=MINE, expert=HIDDEN, third_party=HIDDEN, observer=OK
    ),
    # A's application is under review: a formal review is recorded only on a recommended one.
    ("POST", "/applications/{application_id}/formal-review"): province_only(
        REFUSED, body={"verdicts": {}, "outcome": "complete"}
    ),
    # --- centers -----------------------------------------------------------------------------------------------
    ("GET", "/centers"): decide(
        province=LISTED,
        supervisor=MINE_LISTED,
        applicant=MINE_LISTED,
        expert=UNLISTED,
        third_party=MINE_LISTED,
        observer=LISTED,
        listed="center",
    ),
    ("POST", "/centers/import"): province_only(
        body={
            "name": "河南省另一技术创新中心",
            "field": "green_food",
            "lead_org_id": "{org}",
            "status": "under_construction",
            "approved_on": "2024-06-01",
            "document_no": "豫科〔2024〕8号",
            "construction_starts_on": "2024-07-01",
        }
    ),
    ("GET", "/centers/{center_id}"): center_reader(),
    ("PATCH", "/centers/{center_id}"): center_write(
        ok_for=("province", "applicant"), body={"governance": {"board": ["理事甲"]}}
    ),
    ("PUT", "/centers/{center_id}/task-book"): province_only(REFUSED, body=TASK_BOOK),  # signed: change requests only
    ("GET", "/centers/{center_id}/actions"): center_reader(),
    ("GET", "/centers/{center_id}/history"): center_reader(),
    ("POST", "/centers/{center_id}/sign_task_book"): center_write(),
    # A's center is recognized: extensions are over for everyone.
    ("POST", "/centers/{center_id}/request_extension"): center_write(body={"months": 6, "reason": "设备到货延迟"}),
    # Not asked for yet: refused to everyone within reach.
    ("POST", "/centers/{center_id}/extend"): center_write(
        body={"months": 6, "reason": "设备到货延迟", "decided_on": TODAY.isoformat()}
    ),
    ("POST", "/centers/{center_id}/decline_extension"): center_write(body={"reason": "理由不充分"}),
    ("POST", "/centers/{center_id}/request_acceptance"): center_write(),
    ("POST", "/centers/{center_id}/record_acceptance"): center_write(
        body={"result": "passed", "decided_on": TODAY.isoformat()}
    ),
    ("POST", "/centers/{center_id}/recognize"): center_write(  # not accepted yet
        body={"decided_on": TODAY.isoformat(), "document_no": "豫科〔2026〕30号"}
    ),
    ("POST", "/centers/{center_id}/record_rectification_review"): center_write(
        body={"result": "passed", "decided_on": TODAY.isoformat()}
    ),
    ("POST", "/centers/{center_id}/revoke"): center_write(
        ok_for=("province",), body={"reason_code": "fraud", "reason": "弄虚作假", "decided_on": TODAY.isoformat()}
    ),
    ("POST", "/centers/{center_id}/request_exit"): center_write(ok_for=("applicant",), body={"reason": "战略调整"}),
    ("POST", "/centers/{center_id}/exit"): center_write(body={"decided_on": TODAY.isoformat()}),  # not asked yet
    ("POST", "/centers/{center_id}/decline_exit"): center_write(body={"reason": "不同意"}),  # not asked yet
    ("POST", "/centers/{center_id}/withdraw_exit"): center_write(),  # not asked yet
    ("POST", "/centers/{center_id}/annual-reports"): applicant_files(
        body={"period_year": 2023, "summary": "2023年度总结", "kpi_actuals": {"T1": "5"}, "plan_next_year": "计划"}
    ),
    ("GET", "/centers/{center_id}/annual-reports"): center_reader(),
    ("GET", REPORTS): center_reader(),
    ("GET", REPORTS + "/actions"): center_reader(),
    ("PATCH", REPORTS): center_write(ok_for=("applicant",), body={"summary": "修改后的总结"}),
    ("POST", REPORTS + "/submit"): center_write(ok_for=("applicant",)),
    ("POST", REPORTS + "/endorse"): center_write(ok_for=("supervisor",), report="submitted_report"),
    ("POST", REPORTS + "/accept"): center_write(report="submitted_report"),  # not endorsed yet
    ("POST", REPORTS + "/return"): center_write(
        ok_for=("supervisor",), report="submitted_report", body={"reason": "请补充数据"}
    ),
    ("POST", "/centers/{center_id}/change-requests"): applicant_files(
        body={"kind": "research_direction", "new_value": "智能装备", "reason": "调整方向"}
    ),
    ("GET", "/centers/{center_id}/change-requests"): center_reader(),
    ("GET", CHANGES): center_reader(),
    ("GET", CHANGES + "/actions"): center_reader(),
    ("POST", CHANGES + "/endorse"): center_write(ok_for=("supervisor",)),
    ("POST", CHANGES + "/approve"): center_write(),  # not endorsed yet
    ("POST", CHANGES + "/reject"): center_write(ok_for=("supervisor",), body={"reason": "理由不充分"}),
    ("GET", "/obligations"): everyone(params={"as_of": TODAY.isoformat()}),
    ("GET", "/inbox"): everyone(params={"as_of": TODAY.isoformat()}),
    # --- assessment and funding ------------------------------------------------------------------------------
    ("POST", "/assessment-cycles"): province_only(
        body={"year": 2027, "period_start_year": 2024, "period_end_year": 2026}
    ),
    ("GET", "/assessment-cycles"): decide(
        province=LISTED,
        supervisor=UNLISTED,
        applicant=UNLISTED,
        expert=UNLISTED,
        third_party=MINE_LISTED,
        observer=LISTED,
        listed="cycle",
    ),
    ("GET", "/assessment-cycles/{cycle_id}"): cycle_reader(),
    ("GET", "/assessment-cycles/{cycle_id}/results"): cycle_reader(),
    ("PUT", "/assessment-cycles/{cycle_id}/results/{center_id}"): decide(
        province=OK,
        supervisor=HIDDEN,
        applicant=HIDDEN,
        expert=HIDDEN,
        third_party=MINE,
        observer=HIDDEN,  # an observer reads the cycle but records nothing
        body={"score": "75.00", "indicators": dict.fromkeys(INDICATORS, "75")},
    ),
    ("GET", "/assessment-cycles/{cycle_id}/actions"): cycle_reader(),
    # The evaluators who record results: an observer reads the cycle but is no evaluator.
    ("GET", "/assessment-cycles/{cycle_id}/results/{center_id}/proposal"): decide(
        province=OK, supervisor=HIDDEN, applicant=HIDDEN, expert=HIDDEN, third_party=MINE, observer=HIDDEN
    ),
    ("POST", "/assessment-cycles/{cycle_id}/finalize"): province_only(),
    ("GET", "/assessment-cycles/{cycle_id}/national-candidates"): cycle_reader(),
    ("POST", "/centers/{center_id}/funding"): province_only(
        body={"kind": "post_subsidy", "amount_wan": "50.00", "year": 2026, "decision_ref": "豫财科〔2026〕9号"}
    ),
    ("GET", "/centers/{center_id}/funding"): center_reader(),
    ("POST", "/centers/{center_id}/attachments"): decide(
        province=OK,
        supervisor=HIDDEN,
        applicant=MINE,
        expert=HIDDEN,
        third_party=HIDDEN,
        observer=HIDDEN,
        form={"kind": "annual_report"},
    ),
    ("GET", "/centers/{center_id}/attachments"): center_reader(),
    ("GET", "/centers/{center_id}/attachments/{attachment_id}"): center_reader(attachment="center_attachment"),
    ("GET", "/centers/{center_id}/attachments/{attachment_id}/content"): center_reader(attachment="center_attachment"),
    ("GET", "/funding/summary"): not_for_experts(),
    # --- official documents: A's second center's revocation (撤销) ----------------------------------------------
    ("GET", "/documents/{document_id}"): center_reader(),
    ("GET", "/documents/{document_id}.pdf"): center_reader(),
    ("GET", "/applications/{application_id}/documents"): application_reader(),
    ("GET", "/centers/{center_id}/documents"): center_reader(),
    # --- the feed, statistics and exports ------------------------------------------------------------------------
    ("GET", "/events"): feed_reader(),
    ("GET", "/events/verify"): feed_reader(),
    # The transparency log: a checkpoint, the key and a consistency proof hold only sizes and hashes (public); an
    # inclusion proof carries the event itself, so it is for the feed's readers.
    ("GET", "/log/checkpoint"): everyone(),
    ("GET", "/log/key"): everyone(),
    ("GET", "/log/proof/inclusion"): feed_reader(params={"seq": "1"}),
    ("GET", "/log/proof/consistency"): everyone(params={"from": "1"}),
    ("GET", "/stats/centers"): everyone(params={"group_by": "status"}),
    ("GET", "/stats/applications"): everyone(params={"group_by": "status"}),
    ("GET", "/stats/figures"): everyone(params={"group_by": "field"}),
    ("GET", "/exports/centers"): not_for_experts(),
    ("GET", "/exports/applications"): not_for_experts(),
    ("GET", "/exports/annual-figures"): not_for_experts(),
    # --- public notices (公示) and objections: the province and observers read notices; what a notice publishes is
    # public; objections carry the objector's contact, so they are the province's alone ----------------------------
    ("POST", "/publicity"): province_only(
        body={"kind": "approval", "subject_ids": ["{reviewed}"], "starts_on": NEXT_WORKING_DAY.isoformat()}
    ),
    ("GET", "/publicity"): decide(
        province=LISTED,
        supervisor=HIDDEN,
        applicant=HIDDEN,
        expert=HIDDEN,
        third_party=HIDDEN,
        observer=LISTED,
        listed="publicity",
    ),
    ("GET", "/publicity/{publicity_id}"): feed_reader(),
    ("POST", "/publicity/{publicity_id}/objections"): province_only(
        body={
            "subject_id": "{reviewed}",
            "summary": "异议",
            "objector_name": "赵六",
            "objector_contact": "13800000000",
            "received_on": "{publicity_starts_on}",
        }
    ),
    ("GET", "/publicity/{publicity_id}/objections"): province_only(),
    ("POST", "/publicity/{publicity_id}/objections/{objection_id}/resolve"): province_only(
        body={"outcome": "dismissed", "reason": "不属实"}
    ),
    ("GET", "/public/publicity/{publicity_id}"): everyone(),
    ("GET", "/public/publicity/{publicity_id}.pdf"): everyone(),
    # --- webhooks ----------------------------------------------------------------------------------------------
    ("POST", "/webhooks"): province_only(body={"url": "https://example.org/tic-events"}),
    ("GET", "/webhooks"): province_only(LISTED, listed="webhook"),
    ("GET", "/webhooks/{webhook_id}"): province_only(),
    ("DELETE", "/webhooks/{webhook_id}"): province_only(),
    ("GET", "/webhooks/{webhook_id}/deliveries"): province_only(),
}


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, template without /api/v1) for every route the application serves under /api/v1, in the schema or
    not. FastAPI ≥ 0.16x resolves included routers lazily, so `app.routes` is walked through its route contexts."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = walk(app.routes) if walk is not None else app.routes
    out: set[tuple[str, str]] = set()
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods and path.startswith(API + "/"):
            out.update((method, path.removeprefix(API)) for method in set(methods) - {"HEAD", "OPTIONS"})
    return out


def test_every_route_has_a_decision(app: FastAPI) -> None:
    served = api_routes(app)
    assert served, "no API routes found"
    undecided = sorted(served - DECISIONS.keys())
    assert not undecided, f"routes without a decision in DECISIONS (add a row for every role): {undecided}"
    stale = sorted(DECISIONS.keys() - served)
    assert not stale, f"decisions for routes that no longer exist: {stale}"


def test_every_decision_covers_every_role() -> None:
    for route, decision in DECISIONS.items():
        assert set(decision.cells) == set(ROLE_NAMES), f"{route} does not decide for every role in {ROLE_NAMES}"


def test_a_route_added_without_a_decision_is_caught(app_factory: Any) -> None:
    application = app_factory()
    router = fastapi.APIRouter(prefix=API + "/novelties")

    @router.post("/{novelty_id}/celebrate")
    async def celebrate(novelty_id: uuid.UUID) -> None:
        """A route nobody decided on."""

    application.include_router(router)
    assert api_routes(application) - DECISIONS.keys() == {("POST", "/novelties/{novelty_id}/celebrate")}


def test_the_documented_roles_agree_with_the_decisions(app: FastAPI) -> None:
    """app/api/access.py ACCESS is what the OpenAPI descriptions say about who may call each operation: it covers
    every route, and it agrees with what the probes below observe. A role's own-side cell OK, LISTED or UNLISTED
    (answered 2xx) means the role may call it; HIDDEN (404, everywhere) means it may not. REFUSED is reachable but
    refused, by the state (a listed role) or by the role's rights (a role not listed), so it holds either way; a
    lifecycle action takes its roles from the transition table, which the state-machine tests check."""
    assert ACCESS.keys() == api_routes(app), "ACCESS must have exactly one entry per route under /api/v1"
    assert ACCESS.keys() == DECISIONS.keys()
    disagreements = []
    for route, decision in DECISIONS.items():
        for role in ROLE_NAMES:
            own = decision.expected(role, "own")
            documented = role in ACCESS[route].roles
            if own in (OK, LISTED, UNLISTED) and not documented:
                disagreements.append(f"{route}: {role} is answered {own} but ACCESS does not list it")
            if own == HIDDEN and documented:
                disagreements.append(f"{route}: ACCESS lists {role}, but it is answered 404 even on its own side")
    assert disagreements == []


# --- the world ------------------------------------------------------------------------------------------------


@dataclass
class World:
    client: httpx.AsyncClient
    headers: dict[tuple[str, str], dict[str, str]]
    ids: dict[str, Any]


async def _build(client: httpx.AsyncClient, auth: Any) -> World:
    base = await make_world(client, auth)
    province = base.province
    department_b = await create_org(client, province, kind="department", name="洛阳市科学技术局")
    lead_b = await create_org(
        client, province, kind="enterprise", is_leading_enterprise=True, supervisor_id=department_b["id"]
    )
    agency_a = await create_org(client, province, kind="agency", name="甲评估机构")
    agency_b = await create_org(client, province, kind="agency", name="乙评估机构")

    # A's application under review, its panel drawn (issue 17 §1) and accepted, every member has scored (so the
    # province can conclude it). No expert exists before: the drawn five are the whole pool.
    application, panel = await drawn_under_review(client, base, auth)
    for member in panel:
        await score(client, application["id"], auth, member, criteria_for_total(80), expected=201)
    off_panel = await expert(client, province, "technical")
    # A's draft and A's submitted application, each in a call of its own (one live application per call).
    draft_call = await open_call(client, province, title="第二批申报")
    draft_application = await draft(client, base, call_id=draft_call["id"])
    submitted_call = await open_call(client, province, title="第三批申报")
    submitted_application = await act(
        client, (await draft(client, base, call_id=submitted_call["id"]))["id"], "submit", base.applicant
    )

    # A's recognized center: entrusted to agency A for acceptance and, through a cycle, for assessment.
    response = await client.post(
        f"{API}/centers/import",
        headers=province,
        json={
            "name": "河南省某技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": base.lead["id"],
            "participants": [{"org_id": base.university["id"], "role": "参建单位"}],
            "status": "recognized",
            "approved_on": "2019-06-01",
            "document_no": "豫科〔2019〕1号",
            "construction_starts_on": "2019-07-01",
            "construction_ends_on": "2022-06-30",
            "recognized_on": "2023-06-01",
            "task_book": TASK_BOOK,
        },
    )
    assert response.status_code == 201, response.text
    center = response.json()
    path = f"{API}/centers/{center['id']}"
    response = await client.patch(path, headers=province, json={"acceptance_agency_org_id": agency_a["id"]})
    assert response.status_code == 200, response.text
    reports = {}
    for year, submit in ((2024, False), (2025, True)):
        body = {
            "period_year": year,
            "summary": f"{year}年度总结",
            "kpi_actuals": {"T1": "10"},
            "plan_next_year": "计划",
        }
        response = await client.post(f"{path}/annual-reports", headers=base.applicant, json=body)
        assert response.status_code == 201, response.text
        reports[year] = response.json()
        if submit:
            response = await client.post(f"{path}/annual-reports/{reports[year]['id']}/submit", headers=base.applicant)
            assert response.status_code == 200, response.text
    response = await client.post(
        f"{path}/change-requests",
        headers=base.applicant,
        json={"kind": "director", "new_value": "赵六", "reason": "换届"},
    )
    assert response.status_code == 201, response.text
    change = response.json()
    response = await client.post(
        f"{path}/funding",
        headers=province,
        json={"kind": "post_subsidy", "amount_wan": "100.00", "year": 2025, "decision_ref": "豫财科〔2025〕1号"},
    )
    assert response.status_code == 201, response.text
    response = await client.post(
        f"{API}/assessment-cycles",
        headers=province,
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025, "entrusted_to_org_id": agency_a["id"]},
    )
    assert response.status_code == 201, response.text
    cycle = response.json()
    assert cycle["center_ids"] == [center["id"]]
    response = await client.put(
        f"{API}/assessment-cycles/{cycle['id']}/results/{center['id']}",
        headers=province,
        json={"score": "80.00", "indicators": INDICATORS},
    )
    assert response.status_code == 200, response.text
    # A's second center, revoked: its revocation document (撤销) is the one the document routes read. Imported after
    # the cycle, so the cycle holds A's first center only.
    response = await client.post(
        f"{API}/centers/import",
        headers=province,
        json={
            "name": "河南省另一技术创新中心",
            "field": "green_food",
            "lead_org_id": base.lead["id"],
            "status": "under_construction",
            "approved_on": "2019-06-01",
            "document_no": "豫科〔2019〕8号",
            "construction_starts_on": "2019-07-01",
        },
    )
    assert response.status_code == 201, response.text
    revoked_path = f"{API}/centers/{response.json()['id']}"
    response = await client.patch(revoked_path, headers=province, json={"acceptance_agency_org_id": agency_a["id"]})
    assert response.status_code == 200, response.text
    response = await client.post(
        f"{revoked_path}/revoke",
        headers=province,
        # Over three years ago, so A's lead may still apply (a recent revocation for cause would bar it).
        json={"reason_code": "fraud", "reason": "弄虚作假", "decided_on": "2022-06-01"},
    )
    assert response.status_code == 200, response.text
    response = await client.get(f"{revoked_path}/documents", headers=province)
    assert response.status_code == 200, response.text
    (document,) = response.json()["items"]
    listed = await client.get(f"{API}/applications/{application['id']}/attachments", headers=province)
    attachment = listed.json()["items"][0]
    center_attachment = (await attach(client, path, base.applicant, "task_book", file_name="任务书.pdf")).json()
    response = await client.post(f"{API}/webhooks", headers=province, json={"url": "https://example.org/hook"})
    assert response.status_code == 201, response.text
    webhook = response.json()

    # A's reviewed application, in a call of its own: concluding it runs its 公示 (tests/api/helpers.run_publicity),
    # against which an objection is recorded.
    reviewed_call = await open_call(client, province, title="第四批申报")
    reviewed_draft = await draft(client, base, call_id=reviewed_call["id"])
    await attach_evidence(client, reviewed_draft["id"], base.applicant)
    reviewed_app = await act(client, reviewed_draft["id"], "submit", base.applicant)
    await act(client, reviewed_app["id"], "recommend", base.supervisor)
    await formal_review(client, reviewed_app["id"], province)
    reviewers = [await expert(client, province, c) for c in ("technical", "financial", "management") * 2][:5]
    response = await client.put(
        f"{API}/applications/{reviewed_app['id']}/panel",
        headers=province,
        json={"expert_ids": [e["id"] for e in reviewers]},
    )
    assert response.status_code == 200, response.text
    await act(client, reviewed_app["id"], "open_review", province)
    for member in reviewers:
        await score(client, reviewed_app["id"], auth, member, criteria_for_total(80), expected=201)
    await act(client, reviewed_app["id"], "conclude_review", province)
    notice = (await client.get(f"{API}/publicity", headers=province)).json()["items"][0]
    response = await client.post(
        f"{API}/publicity/{notice['id']}/objections",
        headers=province,
        json={
            "subject_id": reviewed_app["id"],
            "summary": "异议",
            "objector_name": "赵六",
            "objector_contact": "13800000000",
            "received_on": notice["starts_on"],
        },
    )
    assert response.status_code == 201, response.text
    objection = response.json()

    headers = {
        ("province", "own"): province,
        ("observer", "own"): auth("observer"),
        ("supervisor", "own"): base.supervisor,
        ("supervisor", "other"): auth("supervisor", org_id=department_b["id"]),
        ("applicant", "own"): base.applicant,
        ("applicant", "other"): auth("applicant", org_id=lead_b["id"]),
        ("expert", "own"): auth("expert", expert_id=panel[0]["id"]),
        ("expert", "other"): auth("expert", expert_id=off_panel["id"]),
        ("third_party", "own"): auth("third_party", org_id=agency_a["id"]),
        ("third_party", "other"): auth("third_party", org_id=agency_b["id"]),
    }
    ids = {
        "org": base.lead["id"],
        "university": base.university["id"],
        "expert": off_panel["id"],
        "call": base.call["id"],
        "draft_call": draft_call["id"],
        "application": application["id"],
        "draft": draft_application["id"],
        "submitted": submitted_application["id"],
        "panel": [member["id"] for member in panel],
        "center": center["id"],
        "report": reports[2024]["id"],
        "submitted_report": reports[2025]["id"],
        "change": change["id"],
        "cycle": cycle["id"],
        "webhook": webhook["id"],
        "scheme": "henan-2021-assessment",
        "document": document["id"],
        "reviewed": reviewed_app["id"],
        "publicity": notice["id"],
        "publicity_starts_on": notice["starts_on"],
        "objection": objection["id"],
        "attachment": attachment["id"],
        "center_attachment": center_attachment["id"],
    }
    return World(client=client, headers=headers, ids=ids)


@pytest.fixture(scope="module")
async def world(settings: Settings, engine: AsyncEngine, auth: Any) -> AsyncIterator[World]:
    """The world, built once in an outer transaction that is rolled back after the module. While it is built every
    request's savepoint is kept; afterwards every probe's savepoint is rolled back."""
    application = create_app(settings)
    application.state.engine = engine
    application.state.sessionmaker = create_sessionmaker(engine)
    keep = {"savepoints": True}
    async with engine.connect() as connection:
        outer = await connection.begin()

        async def savepoint_session() -> AsyncIterator[AsyncSession]:
            async with AsyncSession(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            ) as session:
                if keep["savepoints"]:
                    async with session.begin():
                        yield session
                else:
                    try:
                        yield session
                    finally:
                        await session.rollback()

        application.dependency_overrides[get_session] = savepoint_session
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as c:
                built = await _build(c, auth)
                await sequence_on(connection)  # the world's events, in the feed as the sequencer would put them
                keep["savepoints"] = False
                yield built
        finally:
            await outer.rollback()


def _materialize(value: Any, ids: Mapping[str, Any]) -> Any:
    """Fill "{name}" placeholders in a body from the world (and "{credit_code}" with a fresh one)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        name = value[1:-1]
        return credit_code() if name == "credit_code" else ids[name]
    if isinstance(value, dict):
        return {k: _materialize(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialize(v, ids) for v in value]
    return value


def _url(template: str, decision: Decision, ids: Mapping[str, Any]) -> str:
    """The template with each path parameter naming its world resource (a decision may pick another one, keyed by
    the default resource's name: `application="draft"`)."""
    values = {}
    for param in _params(template):
        assert param in DEFAULT_RESOURCES, f"no world resource for path parameter {param!r}: extend DEFAULT_RESOURCES"
        default = DEFAULT_RESOURCES[param]
        values[param] = ids[decision.resources.get(default, default)]
    return API + template.format(**values)


def _params(template: str) -> list[str]:
    """The path parameters of a template, also one followed by a suffix (`/documents/{document_id}.pdf`)."""
    return re.findall(r"\{(\w+)\}", template)


def _anonymous(response: httpx.Response) -> dict[str, Any]:
    """A problem without the members that name this very request."""
    return {k: v for k, v in response.json().items() if k not in ("instance", "request_id")}


def _outcome(response: httpx.Response, decision: Decision, ids: Mapping[str, Any]) -> str:
    if decision.listed is not None and response.status_code == 200:
        listed = {item["id"] for item in response.json()["items"]}
        return LISTED if ids[decision.listed] in listed else UNLISTED
    if response.status_code == 422 and response.json().get("code") == "validation-failed":
        return INVALID_PROBE
    if response.status_code == 409 and response.json().get("code") not in REFUSALS:
        return f"409 {response.json().get('code')}"
    for outcome, statuses in STATUSES.items():
        if response.status_code in statuses:
            return outcome
    return f"status {response.status_code}"


@pytest.fixture(scope="module")
def contract(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()


def assert_conforms(contract: Mapping[str, Any], method: str, template: str, response: httpx.Response) -> None:
    """The body of a successful call validates against the response schema the contract declares for its status."""
    operation = contract["paths"][API + template][method.lower()]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{method} {template} answered {response.status_code}, which it does not document"
    content = declared.get("content") or {}
    if not content:
        assert not response.content, f"{method} {template}: a body where the contract declares none"
        return
    media = response.headers["content-type"].split(";")[0]
    assert media in content, f"{method} {template}: {media} is not among {sorted(content)}"
    schema = content[media].get("schema")
    if schema is None or media != "application/json":
        return
    validator = Draft202012Validator({**schema, "components": contract["components"]})
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} {template}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:5]
    )


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: Any, decision: Decision
) -> httpx.Response:
    """The probe: a JSON body, or a multipart upload of a small PDF with the decision's form fields."""
    if decision.form is not None:
        files = {"file": ("probe.pdf", PDF_BYTES, "application/pdf")}
        return await client.request(
            method, url, headers=headers, data=dict(decision.form), files=files, params=dict(decision.params)
        )
    return await client.request(method, url, headers=headers, json=body, params=dict(decision.params))


@pytest.mark.parametrize(("method", "template"), sorted(DECISIONS), ids=lambda v: str(v))
async def test_each_role_gets_what_the_table_decides(
    world: World, contract: dict[str, Any], method: str, template: str
) -> None:
    decision = DECISIONS[(method, template)]
    url = _url(template, decision, world.ids)
    mismatches = []
    for (role, side), headers in world.headers.items():
        probe = decision.body_for(role)
        body = _materialize(probe, world.ids) if probe is not None else None
        response = await _send(world.client, method, url, headers, body, decision)
        expected = decision.expected(role, side)
        actual = _outcome(response, decision, world.ids)
        if actual != expected:
            mismatches.append(f"{role} ({side}): expected {expected}, got {response.status_code} {response.text[:300]}")
            continue
        if actual in (OK, LISTED, UNLISTED):
            assert_conforms(contract, method, template, response)
        if actual == HIDDEN:
            # Indistinguishable from a resource that does not exist: the same problem as for made-up ids.
            assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
            ghost = API + template.format(**{p: uuid.uuid4() for p in _params(template)})
            made_up = await _send(world.client, method, ghost, headers, body, decision)
            assert (made_up.status_code, _anonymous(made_up)) == (404, _anonymous(response)), (role, side)
            assert response.json()["detail"] == CATALOGUE["not-found"].detail_en
    assert not mismatches, f"{method} {template}:\n" + "\n".join(mismatches)


def test_observers_are_answered_404_on_every_write() -> None:
    """Observers read what is not confidential and never write (domain.md §1): every write is hidden from them, as
    from any role without the right, never a 409 that names the roles that may (issue 12)."""
    writes = {route: decision for route, decision in DECISIONS.items() if route[0] != "GET"}
    assert writes
    assert {route: decision.cells["observer"] for route, decision in writes.items()} == dict.fromkeys(writes, HIDDEN)


def test_a_probe_rejected_by_validation_is_not_counted_as_a_refusal() -> None:
    """A 422 `validation-failed` says the probe's body is wrong, not that the role is refused; nor is a 409 that is
    not a refusal (a duplicate)."""
    decision = DECISIONS[("POST", "/centers/{center_id}/request_extension")]
    invalid = httpx.Response(422, json={"status": 422, "code": "validation-failed", "errors": []})
    duplicate = httpx.Response(409, json={"status": 409, "code": "already-exists"})
    refused = httpx.Response(409, json={"status": 409, "code": "invalid-transition"})
    assert _outcome(invalid, decision, {}) == INVALID_PROBE
    assert _outcome(duplicate, decision, {}) == "409 already-exists"
    assert _outcome(refused, decision, {}) == REFUSED


async def test_an_allowed_call_whose_body_breaks_the_contract_fails(world: World, contract: dict[str, Any]) -> None:
    template = "/organizations/{org_id}"
    real = await world.client.get(f"{API}/organizations/{world.ids['org']}", headers=world.headers[("province", "own")])
    assert_conforms(contract, "GET", template, real)
    json_type = {"content-type": "application/json"}
    wrong_type = httpx.Response(200, json={**real.json(), "version": "one"}, headers=json_type)
    with pytest.raises(AssertionError, match="version: 'one' is not of type 'integer'"):
        assert_conforms(contract, "GET", template, wrong_type)
    missing = httpx.Response(200, json={k: v for k, v in real.json().items() if k != "credit_code"}, headers=json_type)
    with pytest.raises(AssertionError, match="'credit_code' is a required property"):
        assert_conforms(contract, "GET", template, missing)
    undocumented = httpx.Response(418, json={}, headers={"content-type": "application/json"})
    with pytest.raises(AssertionError, match="does not document"):
        assert_conforms(contract, "GET", template, undocumented)
