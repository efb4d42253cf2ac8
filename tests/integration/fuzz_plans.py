"""For every operation and every role allowed to call it: the state in which it can succeed, the request fields that
must name that state (ids, decision dates) and the refusals the state documents for the rest of a fuzzed request.

`callers` says who may call an operation; `setup` where and how. The fuzzer (test_fuzz_contract.py) pins the path to
the state's resources, overwrites the pinned body fields of each generated positive case, and accepts from a
schema-valid request only a 2xx, a 412 when it sent If-Match, or one of the setup's `refusals` — each a precise
(status, code, field or rule), never a blanket 4xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.domain.lifecycles import (
    ANNUAL_REPORT,
    APPLICATION,
    APPLICATION_FAST_TRACK,
    ASSESSMENT_CYCLE,
    CALL,
    CENTER,
    CHANGE_REQUEST,
    StateMachine,
)
from app.domain.workdays import is_working_day
from tests.api.helpers import PDF_BYTES
from tests.api.test_authorization_matrix import DECISIONS, LISTED, OK, REFUSED
from tests.factories import credit_code
from tests.integration.fuzz_world import TASK_BOOK, FuzzWorld

API = "/api/v1"
ANONYMOUS = "anonymous"  # the routes outside /api/v1 (health, readiness, metrics) take no token

# The lifecycle whose table grants a `…/{id}/{action}` route, by the route's prefix.
LIFECYCLES: dict[str, tuple[StateMachine, ...]] = {
    "/applications/{application_id}/": (APPLICATION, APPLICATION_FAST_TRACK),
    "/centers/{center_id}/annual-reports/{report_id}/": (ANNUAL_REPORT,),
    "/centers/{center_id}/change-requests/{request_id}/": (CHANGE_REQUEST,),
    "/centers/{center_id}/": (CENTER,),
    "/calls/{call_id}/": (CALL,),
    "/assessment-cycles/{cycle_id}/": (ASSESSMENT_CYCLE,),
}
# Writes that are not lifecycle actions, refused in the matrix's world only by its state: the province drafts and
# edits fast-track applications (app.domain.applications.update_blockers) and edits a task book until it is signed.
EDITORS_IN_ANOTHER_STATE: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/applications"): frozenset({"province"}),
    ("PATCH", "/applications/{application_id}"): frozenset({"province"}),
    ("PUT", "/centers/{center_id}/task-book"): frozenset({"province"}),
    # The matrix's application is under review on an accepted drawn panel: the province draws a recommended one,
    # an expert answers a pending invitation (issue 17 §1).
    ("POST", "/applications/{application_id}/panel/draw"): frozenset({"province"}),
    ("POST", "/applications/{application_id}/panel/invitation/accept"): frozenset({"expert"}),
    ("POST", "/applications/{application_id}/panel/invitation/decline"): frozenset({"expert"}),
    # The formal review is recorded on a recommended application (the matrix's is under review).
    ("POST", "/applications/{application_id}/formal-review"): frozenset({"province"}),
}


def lifecycle_roles(method: str, template: str) -> frozenset[str]:
    """The roles a lifecycle table lets take the action a route names, in any state; empty for other routes."""
    if method != "POST":
        return EDITORS_IN_ANOTHER_STATE.get((method, template), frozenset())
    for prefix, machines in sorted(LIFECYCLES.items(), key=lambda item: -len(item[0])):
        action = template.removeprefix(prefix)
        if template.startswith(prefix) and "/" not in action:
            roles = frozenset(r for m in machines for row in m.transitions if row.action == action for r in row.roles)
            # A write under the prefix that is no action of the table (…/formal-review, …/attachments) falls through.
            if roles:
                return roles
            break
    return EDITORS_IN_ANOTHER_STATE.get((method, template), frozenset())


def callers(method: str, path: str) -> frozenset[str]:
    """Who may call an operation: the authorization matrix's roles that get OK/LISTED on their own side, plus those it
    finds REFUSED there only because of its world's state (the lifecycle table grants them the action in another).
    The one place that reads the access table, so it can follow the table if it moves."""
    if not path.startswith(API + "/"):
        return frozenset({ANONYMOUS})
    template = path.removeprefix(API)
    decision = DECISIONS[(method, template)]
    own = {role: decision.expected(role, "own") for role in decision.cells}
    granted = {role for role, cell in own.items() if cell in (OK, LISTED)}
    refused = {role for role, cell in own.items() if cell == REFUSED}
    return frozenset(granted | (refused & lifecycle_roles(method, template)))


# --- refusals ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A refusal a state documents for a schema-valid request: `status` and `code`, and, for a 422, the fields it
    may name (every error's loc must start with one of them); for a 409 `rule-violation`, the rules it may cite."""

    status: int
    code: str
    fields: tuple[tuple[str, ...], ...] = ()
    rules: frozenset[str] = frozenset()

    def matches(self, status: int, problem: Mapping[str, Any]) -> bool:
        if (status, problem.get("code")) != (self.status, self.code):
            return False
        if self.code == "validation-failed":
            locs = [tuple(error.get("loc", ())) for error in problem.get("errors", [])]
            return bool(locs) and all(any(loc[: len(f)] == f for f in self.fields) for loc in locs)
        if self.code == "rule-violation":
            return problem.get("rule") in self.rules
        return True

    def __str__(self) -> str:
        where = [".".join(f) for f in self.fields] + sorted(self.rules)
        return f"{self.status} {self.code}" + (f" ({', '.join(where)})" if where else "")


def invalid(*fields: str) -> Refusal:
    """422 `validation-failed` naming only these fields ("body.decision_date", "query.cursor", "body.criteria")."""
    return Refusal(422, "validation-failed", tuple(tuple(f.split(".")) for f in fields))


def rule(*rules: str) -> Refusal:
    return Refusal(409, "rule-violation", rules=frozenset(rules))


# Opaque cursors are the server's own: any other string is refused by name (api.md "Lists").
LIST = (invalid("query.cursor"),)


# --- set-ups ----------------------------------------------------------------------------------------------------

Value = Any  # a literal, a Ref, or a callable (world, body) -> value


@dataclass(frozen=True)
class Ref:
    """A resource of the world, by its state's name."""

    name: str


def _today(world: FuzzWorld, body: Mapping[str, Any]) -> str:
    return world.today.isoformat()


def _fresh_code(world: FuzzWorld, body: Mapping[str, Any]) -> str:
    return credit_code()


@dataclass(frozen=True)
class Setup:
    """Where an operation can succeed for one role and how a generated positive request is tied to that state.

    `path` maps path parameters to world resources (unnamed ones take DEFAULT_PATH); `body` fields are always set,
    `need` fields only when the generator left them out or null (fields the rules require), `fix` fields only when it
    sent them (references that must name a real record); `drop` fields are removed. `query` parameters are always
    set (a seq that exists). `refusals` are what the state documents for the parts left free.
    """

    path: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Value] = field(default_factory=dict)
    need: Mapping[str, Value] = field(default_factory=dict)
    fix: Mapping[str, Value] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    query: Mapping[str, Value] = field(default_factory=dict)
    refusals: tuple[Refusal, ...] = ()

    def path_parameters(self, names: list[str], world: FuzzWorld) -> dict[str, str]:
        return {name: world.ids[self.path.get(name, DEFAULT_PATH[name])] for name in names}

    def pins(self) -> bool:
        return bool(self.body or self.need or self.fix or self.drop or self.query)

    def shape_query(self, query: dict[str, Any] | None, world: FuzzWorld) -> dict[str, Any] | None:
        if not self.query:
            return query
        pinned = dict(query or {})
        pinned.update({name: _resolve(value, world, pinned) for name, value in self.query.items()})
        return pinned

    def shape(self, body: Any, world: FuzzWorld) -> Any:
        """The generated body tied to the state (a null body becomes an object when something must be set)."""
        if not isinstance(body, dict):
            if body is not None or not (self.body or self.need):
                return body
            body = {}
        for name in self.drop:
            body.pop(name, None)
        for name, value in self.body.items():
            body[name] = _resolve(value, world, body)
        for name, value in self.need.items():
            if body.get(name) is None:
                body[name] = _resolve(value, world, body)
        for name, value in self.fix.items():
            if name in body:
                body[name] = _resolve(value, world, body)
        return body


def _resolve(value: Value, world: FuzzWorld, body: Mapping[str, Any]) -> Any:
    if isinstance(value, Ref):
        return world.ids[value.name]
    if callable(value):
        return value(world, body)
    return value


DEFAULT_PATH = {
    "org_id": "lead",
    "expert_id": "expert",
    "call_id": "call",
    "application_id": "under_review",
    "center_id": "center",
    "report_id": "report_draft",
    "request_id": "change_filed",
    "cycle_id": "cycle",
    "webhook_id": "webhook",
    "scheme_id": "scheme",
    "document_id": "document",
    "publicity_id": "publicity",
    "objection_id": "objection",
    "attachment_id": "review_attachment",
}


@dataclass(frozen=True)
class Plan:
    """An operation's set-up for every caller, with per-role exceptions."""

    default: Setup = field(default_factory=Setup)
    roles: Mapping[str, Setup] = field(default_factory=dict)

    def for_role(self, role: str) -> Setup:
        return self.roles.get(role, self.default)


def _participants(world: FuzzWorld, body: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"org_id": world.ids["university"], "role": "参建单位"}]


def _change_value(world: FuzzWorld, body: Mapping[str, Any]) -> Any:
    """A value each kind of change takes, so the generated kind is kept and reaches its own checks."""
    return {
        "name": "河南省更名后技术创新中心",
        "lead_org": world.ids["orphan"],
        "research_direction": "高端装备",
        "director": "孙八",
        "participants": [{"org_id": world.ids["university"], "role": "共建单位"}],
        "task_book": {**TASK_BOOK, "starts_on": "2019-07-01", "ends_on": "2022-06-30"},
    }[body["kind"]]


def _in_a_month(world: FuzzWorld, body: Mapping[str, Any]) -> str:
    return (world.today + timedelta(days=30)).isoformat()


def _decimal_targets(world: FuzzWorld, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The generated targets with decimal values: a target value is decimal text, which the schema's string (no
    pattern) does not say, so generated values would stop every request at 422 before the task-book rules."""
    return [{**target, "target_value": str(index + 1)} for index, target in enumerate(body["targets"])]


def _decimal(value: Any, fallback: str) -> Any:
    """A generated number as is; generated text replaced by a decimal, since the schema's string branch (decimal
    text) carries no pattern and anything else would stop the request at 422 before the rules."""
    return value if isinstance(value, int | float) else fallback


def _decimal_criteria(world: FuzzWorld, body: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _decimal(value, "10") for name, value in body["criteria"].items()}


def _decimal_score(world: FuzzWorld, body: Mapping[str, Any]) -> Any:
    return _decimal(body["score"], "75.00")


def _positive_amount(world: FuzzWorld, body: Mapping[str, Any]) -> str:
    """An amount above zero: the schema's pattern admits "0", the rule does not (domain.md §7 funding records)."""
    amount = str(body["amount_wan"])
    return amount if Decimal(amount) > 0 else "1.00"


def _legal_entity(world: FuzzWorld, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": "independent", "kind": "enterprise", "credit_code": credit_code()}


def _reviewed_list(world: FuzzWorld, body: Mapping[str, Any]) -> list[str]:
    return [world.ids["reviewed"]]


def _next_working_day(world: FuzzWorld, body: Mapping[str, Any]) -> str:
    day = world.today + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day.isoformat()


REASON = "理由充分"
DECIDED_TODAY = {"decided_on": _today}
APPLICATION_BODY = {"participants": _participants}
# A registration date from 1949-10-01 to today (app.domain.dates); the schema says only "a date".
REGISTERED_ON = invalid("body.registered_on")
# The director changes only through a change request, never by editing the governance (domain.md §6).
DIRECTOR = rule("director-by-change-request")
# A major project's year runs up to this year (app.domain.dates, on the Asia/Shanghai calendar); the schema says only
# "an integer", since its bound moves with the date.
PROJECT_YEARS = invalid("body.facts.major_projects")
# An application action's body may carry fields only other actions use; the rules name them (422).
ACTION_FIELDS = invalid("body.resubmit_by")
# approve and recognize: a given document number that a document already has (issue 16 §4).
NUMBER_TAKEN = Refusal(409, "already-exists")

PLANS: dict[tuple[str, str], Plan] = {
    # The log proves what it holds: the first event, against the latest tree (a requests param of None is left out).
    ("GET", "/log/proof/inclusion"): Plan(Setup(query={"seq": 1, "tree_size": None})),
    ("GET", "/log/proof/consistency"): Plan(Setup(query={"from": 1, "to": None})),
    # --- organizations and experts ---------------------------------------------------------------------------
    ("POST", "/organizations"): Plan(
        Setup(
            body={"credit_code": _fresh_code},
            fix={"supervisor_id": Ref("department")},
            refusals=(REGISTERED_ON,),
        )
    ),
    ("PATCH", "/organizations/{org_id}"): Plan(
        Setup(fix={"credit_code": _fresh_code, "supervisor_id": Ref("department")}, refusals=(REGISTERED_ON,))
    ),
    ("POST", "/experts"): Plan(Setup(fix={"affiliation_org_id": Ref("university"), "declared_conflict_org_ids": []})),
    # One organisation, by id; only a former employer carries `until`, and needs it.
    ("POST", "/experts/me/conflicts"): Plan(
        Setup(
            need={"org_id": Ref("university")},
            fix={"org_id": Ref("university")},
            drop=("credit_code",),
            refusals=(invalid("body.until"),),
        )
    ),
    ("GET", "/experts/me/conflicts"): Plan(Setup(refusals=LIST)),
    ("PATCH", "/experts/{expert_id}"): Plan(
        Setup(fix={"affiliation_org_id": Ref("university"), "declared_conflict_org_ids": []})
    ),
    # --- calls -------------------------------------------------------------------------------------------------
    ("POST", "/calls"): Plan(
        Setup(body={"year": lambda w, b: w.today.year, "opens_on": _today, "closes_on": _in_a_month})
    ),
    ("POST", "/calls/{call_id}/publish"): Plan(Setup(path={"call_id": "draft_call"})),
    # --- applications ------------------------------------------------------------------------------------------
    ("POST", "/applications"): Plan(
        roles={
            "applicant": Setup(
                body={"call_id": Ref("free_call"), "fast_track": False},
                fix=APPLICATION_BODY,
                drop=("lead_org_id", "fast_track_basis"),
                refusals=(PROJECT_YEARS,),
            ),
            "province": Setup(
                body={"fast_track": True, "fast_track_basis": "省政府专题会议纪要", "lead_org_id": Ref("lead")},
                fix=APPLICATION_BODY,
                drop=("call_id",),
                refusals=(PROJECT_YEARS,),
            ),
        }
    ),
    ("PATCH", "/applications/{application_id}"): Plan(
        roles={
            "applicant": Setup(
                path={"application_id": "draft"},
                fix=APPLICATION_BODY,
                drop=("fast_track_basis",),
                refusals=(PROJECT_YEARS,),
            ),
            "province": Setup(path={"application_id": "fast_draft"}, fix=APPLICATION_BODY, refusals=(PROJECT_YEARS,)),
        }
    ),
    ("POST", "/applications/{application_id}/submit"): Plan(
        roles={
            "applicant": Setup(path={"application_id": "draft"}, refusals=(ACTION_FIELDS,)),
            "province": Setup(path={"application_id": "fast_draft"}, refusals=(ACTION_FIELDS,)),
        }
    ),
    ("POST", "/applications/{application_id}/withdraw"): Plan(
        Setup(path={"application_id": "draft"}, refusals=(ACTION_FIELDS,))
    ),
    **{
        ("POST", f"/applications/{{application_id}}/{action}"): Plan(
            Setup(path={"application_id": "submitted"}, need=need, refusals=(ACTION_FIELDS,)),
            roles={
                "province": Setup(path={"application_id": "orphan_submitted"}, need=need, refusals=(ACTION_FIELDS,))
            },
        )
        for action, need in (("recommend", {}), ("return", {"reason": REASON}), ("reject", {"reason": REASON}))
    },
    ("POST", "/applications/{application_id}/open_review"): Plan(
        Setup(path={"application_id": "recommended"}, refusals=(ACTION_FIELDS,))
    ),
    ("POST", "/applications/{application_id}/conclude_review"): Plan(Setup(refusals=(ACTION_FIELDS,))),
    ("POST", "/applications/{application_id}/request_revision"): Plan(
        Setup(path={"application_id": "reviewed"}, need={"reason": REASON}, refusals=(ACTION_FIELDS,))
    ),
    ("POST", "/applications/{application_id}/resubmit"): Plan(
        Setup(path={"application_id": "revising"}, refusals=(ACTION_FIELDS,))
    ),
    ("POST", "/applications/{application_id}/approve"): Plan(
        Setup(
            path={"application_id": "reviewed"},
            need={"decision_date": _today},
            # Not in the future, not before the review concluded or the 公示 ended (app.domain.applications.
            # argument_problems); a given document number a document already has (the world's approval took
            # 豫科〔YYYY〕1号 of its year).
            refusals=(invalid("body.decision_date", "body.resubmit_by"), NUMBER_TAKEN),
        )
    ),
    # --- attachments and the formal review (issue 16) ----------------------------------------------------------------
    # A draft takes uploads; the file is a real PDF (random bytes are refused by type, which is tested elsewhere).
    ("POST", "/applications/{application_id}/attachments"): Plan(
        Setup(path={"application_id": "draft"}, body={"kind": "audit_report", "file": PDF_BYTES}, drop=("note",))
    ),
    ("POST", "/centers/{center_id}/attachments"): Plan(
        Setup(body={"kind": "annual_report", "file": PDF_BYTES}, drop=("note",))
    ),
    ("GET", "/centers/{center_id}/attachments/{attachment_id}"): Plan(
        Setup(path={"attachment_id": "center_attachment"})
    ),
    ("GET", "/centers/{center_id}/attachments/{attachment_id}/content"): Plan(
        Setup(path={"attachment_id": "center_attachment"})
    ),
    # Every rule needing evidence verified; an outcome and its list of what is missing must agree.
    ("POST", "/applications/{application_id}/formal-review"): Plan(
        Setup(
            path={"application_id": "unreviewed"},
            body={"verdicts": Ref("formal_verdicts")},
            refusals=(invalid("body.missing"),),
        )
    ),
    ("PUT", "/applications/{application_id}/panel"): Plan(
        Setup(path={"application_id": "submitted"}, body={"expert_ids": Ref("panel")})
    ),
    # Criteria within their maxima (domain.md §5).
    ("PUT", "/applications/{application_id}/scores/me"): Plan(
        Setup(body={"criteria": _decimal_criteria}, refusals=(invalid("body.criteria"),))
    ),
    ("POST", "/applications/{application_id}/site-visits"): Plan(Setup(body={"visited_on": _today})),
    # The recommended application's pool holds six eligible experts: larger panels, a mix outside the rule set's
    # categories or more backups than allowed are refused by name (app.domain.draws).
    ("POST", "/applications/{application_id}/panel/draw"): Plan(
        Setup(
            path={"application_id": "recommended"},
            refusals=(invalid("body.size", "body.backups", "body.category_mix"), rule("draw-pool-too-small")),
        )
    ),
    ("GET", "/applications/{application_id}/panel/draw"): Plan(Setup(path={"application_id": "drawn_review"})),
    ("POST", "/applications/{application_id}/panel/invitation/accept"): Plan(Setup(path={"application_id": "invited"})),
    ("POST", "/applications/{application_id}/panel/invitation/decline"): Plan(
        Setup(path={"application_id": "invited"})
    ),
    # --- centers -------------------------------------------------------------------------------------------------
    ("POST", "/centers/import"): Plan(
        Setup(
            body={
                "lead_org_id": Ref("lead"),
                "status": "under_construction",
                "approved_on": "2024-06-01",
                "construction_starts_on": "2024-07-01",
            },
            fix=APPLICATION_BODY,
            drop=("construction_ends_on", "recognized_on", "recognition_no", "task_book"),
            # rule_set is a free string in the schema; only the shipped rule sets are accepted (domain.md §3).
            refusals=(invalid("body.rule_set"),),
        )
    ),
    # Under construction: the legal entity is still editable (it is frozen from the acceptance request on).
    ("PATCH", "/centers/{center_id}"): Plan(
        Setup(
            path={"center_id": "near_end"},
            fix={"legal_entity": _legal_entity, "acceptance_agency_org_id": Ref("agency")},
        ),
        roles={
            "applicant": Setup(
                path={"center_id": "near_end"},
                fix={"legal_entity": _legal_entity},
                drop=("acceptance_agency_org_id",),
                refusals=(DIRECTOR,),
            )
        },
    ),
    ("PUT", "/centers/{center_id}/task-book"): Plan(
        Setup(
            path={"center_id": "approved_center"},
            body={"starts_on": _today, "targets": _decimal_targets},
            drop=("ends_on",),
            # Codes are distinct within a task book (app.domain.centers.task_book_problems).
            refusals=(invalid("body.targets"),),
        )
    ),
    ("POST", "/centers/{center_id}/sign_task_book"): Plan(Setup(path={"center_id": "approved_center"})),
    ("POST", "/centers/{center_id}/request_extension"): Plan(
        Setup(path={"center_id": "near_end"}, need={"months": 6, "reason": REASON})
    ),
    ("POST", "/centers/{center_id}/extend"): Plan(
        Setup(path={"center_id": "extension_asked"}, need={"months": 6, "reason": REASON}, body=DECIDED_TODAY)
    ),
    ("POST", "/centers/{center_id}/decline_extension"): Plan(
        Setup(path={"center_id": "extension_asked"}, need={"reason": REASON})
    ),
    ("POST", "/centers/{center_id}/request_acceptance"): Plan(Setup(path={"center_id": "near_end"})),
    ("POST", "/centers/{center_id}/record_acceptance"): Plan(
        Setup(
            path={"center_id": "pending"},
            need={"result": "passed"},
            body=DECIDED_TODAY,
            fix={"by_org_id": Ref("agency")},
        )
    ),
    ("POST", "/centers/{center_id}/recognize"): Plan(
        Setup(path={"center_id": "accepted"}, body=DECIDED_TODAY, refusals=(NUMBER_TAKEN,))
    ),
    ("POST", "/centers/{center_id}/record_rectification_review"): Plan(
        Setup(path={"center_id": "rectifying"}, need={"result": "passed"}, body=DECIDED_TODAY)
    ),
    ("POST", "/centers/{center_id}/revoke"): Plan(
        Setup(
            need={"reason_code": "fraud", "reason": REASON},
            body=DECIDED_TODAY,
            # Recovery of funds is ordered only for fraud (domain.md §7).
            refusals=(invalid("body.recover_funds"),),
        )
    ),
    ("POST", "/centers/{center_id}/request_exit"): Plan(Setup(need={"reason": REASON})),
    ("POST", "/centers/{center_id}/exit"): Plan(Setup(path={"center_id": "exiting"}, body=DECIDED_TODAY)),
    ("POST", "/centers/{center_id}/decline_exit"): Plan(Setup(path={"center_id": "exiting"}, need={"reason": REASON})),
    ("POST", "/centers/{center_id}/withdraw_exit"): Plan(Setup(path={"center_id": "exiting"})),
    # --- annual reports and change requests ------------------------------------------------------------------------
    ("POST", "/centers/{center_id}/annual-reports"): Plan(
        # 2022 is the one finished year of the recognized center without a report; actuals name task-book targets.
        # Generated figures may put rd_staff above staff_total or money above its ceiling (app/domain/annual_figures).
        Setup(body={"period_year": 2022}, refusals=(invalid("body.kpi_actuals", "body.figures"),))
    ),
    ("PATCH", "/centers/{center_id}/annual-reports/{report_id}"): Plan(
        Setup(refusals=(invalid("body.kpi_actuals", "body.figures"),))
    ),
    ("POST", "/centers/{center_id}/annual-reports/{report_id}/endorse"): Plan(
        Setup(path={"report_id": "report_submitted"}),
        roles={"province": Setup(path={"center_id": "orphan_center", "report_id": "orphan_report"})},
    ),
    ("POST", "/centers/{center_id}/annual-reports/{report_id}/return"): Plan(
        Setup(path={"report_id": "report_submitted"}, need={"reason": REASON}),
        roles={"province": Setup(path={"report_id": "report_endorsed"}, need={"reason": REASON})},
    ),
    ("POST", "/centers/{center_id}/annual-reports/{report_id}/accept"): Plan(
        Setup(path={"report_id": "report_endorsed"})
    ),
    ("POST", "/centers/{center_id}/change-requests"): Plan(Setup(body={"new_value": _change_value})),
    ("POST", "/centers/{center_id}/change-requests/{request_id}/endorse"): Plan(
        Setup(),
        roles={"province": Setup(path={"center_id": "orphan_center", "request_id": "orphan_change"})},
    ),
    ("POST", "/centers/{center_id}/change-requests/{request_id}/reject"): Plan(
        Setup(need={"reason": REASON}),
        roles={"province": Setup(path={"request_id": "change_endorsed"}, need={"reason": REASON})},
    ),
    ("POST", "/centers/{center_id}/change-requests/{request_id}/approve"): Plan(
        Setup(path={"request_id": "change_endorsed"})
    ),
    # --- assessment and funding ------------------------------------------------------------------------------------
    ("POST", "/assessment-cycles"): Plan(
        Setup(
            body={"year": 2027, "period_start_year": 2024, "period_end_year": 2026},
            fix={"entrusted_to_org_id": Ref("agency")},
            refusals=(invalid("body.max_excellent_ratio"),),
        )
    ),
    ("PUT", "/assessment-cycles/{cycle_id}/results/{center_id}"): Plan(
        # A score given with indicators must be their weighted sum of known indicators (domain.md §7).
        # From the proposal: no center of the world has three accepted reports with figures (409), and a generated
        # adjustment names no indicator of the scheme or a score the weighted sum does not give (422).
        Setup(
            body={"score": _decimal_score},
            refusals=(
                invalid("body.score", "body.indicators", "body.from_proposal", "body.adjustments"),
                rule("proposal-incomplete"),
            ),
        )
    ),
    ("POST", "/assessment-cycles/{cycle_id}/finalize"): Plan(
        Setup(fix={"absent_center_ids": []}, refusals=(invalid("body.decided_on"),))
    ),
    ("POST", "/centers/{center_id}/funding"): Plan(
        Setup(
            # Under construction: construction support and post-subsidies succeed; stable support needs a good or
            # excellent grade, which a center under construction has not had yet (domain.md §7).
            path={"center_id": "near_end"},
            body={"amount_wan": _positive_amount},
            refusals=(rule("stable-support-ineligible"), invalid("body.year")),
        )
    ),
    # --- statistics and deadlines -----------------------------------------------------------------------------
    # Dates and years in query strings have ranges of their own (app.domain.dates): 10 years ahead, 5 years ahead.
    ("GET", "/obligations"): Plan(Setup(refusals=(invalid("query.as_of", "query.cursor"),))),
    ("GET", "/inbox"): Plan(Setup(refusals=(invalid("query.as_of", "query.cursor"),))),
    ("GET", "/funding/summary"): Plan(Setup(refusals=(invalid("query.year"),))),
    ("GET", "/stats/figures"): Plan(Setup(refusals=(invalid("query.year", "query.status"),))),
    # --- public notices (公示) and objections ---------------------------------------------------------------------
    ("POST", "/publicity"): Plan(
        Setup(
            # The reviewed application, from the next working day; the generated length may run the notice into a
            # year the official calendar does not cover yet (422 calendar-unavailable).
            body={"kind": "approval", "subject_ids": _reviewed_list, "starts_on": _next_working_day},
            refusals=(Refusal(422, "calendar-unavailable", (("body", "starts_on"),)),),
        )
    ),
    ("GET", "/publicity"): Plan(Setup(refusals=LIST)),
    ("POST", "/publicity/{publicity_id}/objections"): Plan(
        Setup(body={"subject_id": Ref("revising"), "received_on": Ref("publicity_starts_on")})
    ),
    ("GET", "/publicity/{publicity_id}/objections"): Plan(Setup(refusals=LIST)),
    # --- webhooks ------------------------------------------------------------------------------------------------
    ("POST", "/webhooks"): Plan(Setup(body={"url": "https://example.org/fuzzed"})),
}


def plan(method: str, path: str) -> Plan:
    """An operation's plan; reads and writes that need no particular state take the world's defaults (a list may
    refuse a made-up cursor)."""
    return PLANS.get((method, path.removeprefix(API)), Plan(Setup(refusals=LIST if method == "GET" else ())))
