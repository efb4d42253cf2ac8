"""Schemathesis against the generated OpenAPI, in-process, on a real database (issue 8 item 3, issue 18 item 3).

Every operation is fuzzed, for every role allowed to call it (`fuzz_plans.callers`: the authorization matrix's
OK/LISTED cells, and its REFUSED cells the lifecycle tables grant in another state), in a state where it can succeed
(`fuzz_world.build`: a draft, a submitted, a reviewed application, a center pending acceptance, an open cycle whose
every center has a result...). The path is pinned to that state's resources and each generated positive request is
tied to it (`fuzz_plans.Setup`: ids, decision dates); the rest of the request stays generated. Every response goes
through Schemathesis' checks (no 5xx, status codes, content types, headers and bodies conform to the schema — so the
response schemas of successful writes are validated —, invalid data is refused) plus ours:

- `problem_details`: an error is an `application/problem+json` with a `code`;
- `documented_outcome` (instead of Schemathesis' positive-data check): a schema-valid request answers a 2xx, a 412
  only when it sent If-Match, or a refusal its state documents, each a precise (status, code, field or rule);
- the report (`fuzz-report.txt` in the test's tmp path, printed on failure): the statuses every operation × caller
  got; every one of them must include a 2xx.

One-shot operations (approve, finalize, sign_task_book, exit, DELETE a webhook...) succeed only once per state: each
request runs in a savepoint that is rolled back, so every example meets the same state and may succeed again. The
world itself lives in an outer transaction rolled back after the test.

How it runs: Hypothesis and Schemathesis are synchronous, and the app's sessions live on the session event loop (the
asyncpg connections belong to it). So the fuzzer runs in a worker thread, and a `requests` adapter hands each request
to the test's event loop, where an httpx client calls the ASGI app. Checks that send requests of their own go through
the same adapter.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from openpyxl import load_workbook
from requests.adapters import BaseAdapter, HTTPAdapter
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from urllib3 import HTTPHeaderDict, HTTPResponse

from app.api.deps import get_session
from app.api.problems import PROBLEM_MEDIA_TYPE, UNSTORABLE
from app.db.session import create_sessionmaker
from app.main import create_app
from app.settings import Settings
from tests.api.helpers import make_world
from tests.conftest import sequence_on
from tests.integration.fuzz_plans import PLANS, Ref, Refusal, Setup, callers, invalid, plan, rule
from tests.integration.fuzz_world import FuzzWorld, build

BASE_URL = "http://test"
# Examples per operation and set-up (each sent once per caller sharing the set-up): two keep the module well under a
# minute on a busy machine and stay deterministic; TIC_FUZZ_EXAMPLES=200 explores deeper.
MAX_EXAMPLES = int(os.environ.get("TIC_FUZZ_EXAMPLES", "2"))
REQUEST_TIMEOUT = 30


class LoopAdapter(BaseAdapter):
    """A `requests` transport that sends each request through `client` on `loop` and waits for the answer."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.client = client
        self.loop = loop
        self.builder = HTTPAdapter()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        assert request.method is not None
        assert request.url is not None
        coroutine = self.client.request(request.method, request.url, headers=dict(request.headers), content=body)
        answer = asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=REQUEST_TIMEOUT)
        raw = HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=HTTPHeaderDict(list(answer.headers.multi_items())),
            status=answer.status_code,
            reason=answer.reason_phrase,
            version=11,
            preload_content=False,
            decode_content=False,
        )
        return self.builder.build_response(request, raw)

    def close(self) -> None:
        self.builder.close()


def problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error answers RFC 9457 `application/problem+json` with a stable `code` and its own status."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type == PROBLEM_MEDIA_TYPE, f"an error answered {content_type!r}, not {PROBLEM_MEDIA_TYPE}"
    body = json.loads(response.content)
    assert isinstance(body.get("code"), str), f"a problem without a code: {body}"
    assert body["code"], f"a problem with an empty code: {body}"
    assert body.get("status") == response.status_code, f"the problem's status is not the response's: {body}"
    assert response.status_code != 500 or body["code"] == "internal-error"
    return None


def config() -> SchemathesisConfig:
    # Schemathesis' own positive-data check accepts a fixed list of statuses for every request; `documented_outcome`
    # replaces it with the refusals each state documents (fuzz_plans.py), so it is switched off here.
    return SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                # The contract declares the bearer scheme (issue 15), which turns this check on: it re-sends each
                # request without credentials outside the session given to it (so to http://test, unreachable).
                # tests/test_openapi.py makes the same check on the test's own client: every operation that
                # declares the scheme answers 401 without a token and with a bad one.
                "ignored_auth": {"enabled": False},
            },
        }
    )


async def seed(client: httpx.AsyncClient, auth: Any) -> dict[str, str]:
    """One center with a lead in 郑州市, for the statistics regression below."""
    world = await make_world(client, auth)
    response = await client.post(
        "/api/v1/centers/import",
        headers=world.province,
        json={
            "name": "河南省某技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": world.lead["id"],
            "status": "under_construction",
            "approved_on": "2024-06-01",
            "document_no": "豫科〔2024〕50号",
            "construction_starts_on": "2024-07-01",
        },
    )
    assert response.status_code == 201, response.text
    return {"center_id": response.json()["id"]}


@dataclass
class Report:
    """Statuses answered to each (operation, caller): to positive (schema-valid) and to negative requests."""

    positive: dict[tuple[str, str], Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    negative: dict[tuple[str, str], Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)

    def without_2xx(self, expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [key for key in expected if not any(200 <= s < 300 for s in self.positive.get(key, Counter()))]

    def render(self, expected: list[tuple[str, str]]) -> str:
        lines = [f"{'operation':<72} {'caller':<12} 2xx  positive statuses / negative statuses"]
        for key in expected:
            got, refused = self.positive.get(key, Counter()), self.negative.get(key, Counter())
            ok = "yes" if any(200 <= s < 300 for s in got) else "NO "
            lines.append(
                f"{key[0]:<72} {key[1]:<12} {ok}  {dict(sorted(got.items()))} / {dict(sorted(refused.items()))}"
            )
        return "\n".join(lines) + "\n"


def documented_outcome(setup: Setup, record: Counter[int], negative: Counter[int]) -> Any:
    """Schemathesis check: a schema-valid request answers a 2xx, a 412 only when it sent If-Match, or one of the
    refusals its state documents. Every answer is counted for the report."""

    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        positive = case.meta is None or case.meta.generation.mode.is_positive
        (record if positive else negative)[response.status_code] += 1
        if not positive or 200 <= response.status_code < 300:
            return None
        problem = json.loads(response.content) if response.content else {}
        if response.status_code == 412 and "If-Match" in case.headers and problem.get("code") == "version-mismatch":
            return None
        if any(refusal.matches(response.status_code, problem) for refusal in setup.refusals):
            return None
        if response.status_code == 422 and strict_integers(problem, case, setup.refusals):
            return None
        documented = ", ".join(map(str, setup.refusals)) or "none"
        raise AssertionError(
            f"a schema-valid request was refused with {response.status_code} {problem.get('code')}"
            f" ({problem.get('rule') or problem.get('errors') or problem.get('detail')});"
            f" the refusals this state documents: {documented}"
        )

    return check


def strict_integers(problem: Mapping[str, Any], case: Any, refusals: tuple[Refusal, ...] = ()) -> bool:
    """JSON Schema counts 4194.0 as an integer; the API takes integers strictly (a count, a year) and answers 422
    `int_type` naming the field. Documented for every state: the refusal names only such fields, or fields the
    state's own 422 refusals name (one request can break both)."""
    errors = problem.get("errors") or []
    if problem.get("code") != "validation-failed":
        return False
    fields = [field for refusal in refusals if refusal.code == "validation-failed" for field in refusal.fields]

    def covered(error: Mapping[str, Any]) -> bool:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "int_type" and isinstance(sent(case, list(loc)), float):
            return True
        return any(loc[: len(field)] == field for field in fields)

    return bool(errors) and any(e.get("type") == "int_type" for e in errors) and all(map(covered, errors))


def sent(case: Any, loc: list[Any]) -> Any:
    """The value a request sent at a problem's `loc` (["body", "facts", "pct_patents"]), or None."""
    where, *rest = loc or [None]
    value = case.body if where == "body" else (case.query or {}) if where == "query" else None
    for part in rest:
        if (isinstance(value, dict) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and part < len(value)
        ):
            value = value[part]
        else:
            return None
    return value


def settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def fuzz(schema: Any, session: requests.Session, world: FuzzWorld) -> tuple[Report, list[tuple[str, str]]]:
    """Every operation, for every caller allowed to call it, with positive data tied to the state where it can
    succeed; then once with negative data. Callers that share a set-up receive the same generated requests (one
    Hypothesis run for them all keeps the module fast). Answers the report and the pairs it must cover."""
    report = Report()
    expected = []
    for result in schema.get_all_operations():
        operation = result.ok()
        method = operation.method.upper()
        entry = plan(method, operation.path)
        names = [p.name for p in operation.path_parameters]
        groups: dict[int, tuple[Setup, list[str]]] = {}
        for role in sorted(callers(method, operation.path)):
            setup = entry.for_role(role)
            groups.setdefault(id(setup), (setup, []))[1].append(role)
            expected.append((operation.label, role))
        # Invalid data is refused before any role or state is looked at: once per operation is enough.
        negatable = len(operation.body) > 0 or len(operation.query) > 0
        for setup, roles in groups.values():
            pinned = setup.path_parameters(names, world)
            positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=pinned)
            if setup.pins():
                positive = positive.map(lambda case, setup=setup: tie(case, setup, world))
            modes = [(GenerationMode.POSITIVE, positive)]
            if negatable:
                negatable = False
                negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=pinned)
                modes.append((GenerationMode.NEGATIVE, negative))
            sends = []
            for role in roles:
                key = (operation.label, role)
                checks = [problem_details, documented_outcome(setup, report.positive[key], report.negative[key])]
                sends.append((world.principals[role], checks))
            for mode, cases in modes:
                failure = run(cases, session, sends)
                if failure is not None:
                    report.failures.append(f"{operation.label} as {', '.join(roles)} [{mode.value}]: {failure}")
    return report, expected


def tie(case: Any, setup: Setup, world: FuzzWorld) -> Any:
    shaped = setup.shape(case.body, world)
    if shaped is not case.body:  # an object is shaped in place; re-assigning an untouched body would mark it changed
        case.body = shaped
    query = setup.shape_query(case.query, world)
    if query is not case.query:
        case.query = query
    return case


def run(cases: Any, session: requests.Session, sends: list[tuple[Mapping[str, str], list[Any]]]) -> str | None:
    """Send each generated case once per caller, each with its own checks; answer the failure, if any."""

    @settings()
    @hypothesis.given(case=cases)
    def test(case: Any) -> None:
        for headers, checks in sends:
            case.call_and_validate(
                base_url=BASE_URL,
                session=session,
                headers=dict(headers),
                additional_checks=checks,
                excluded_checks=[positive_data_acceptance],
            )

    try:
        test()
    except (Exception, BaseExceptionGroup) as exc:  # one report per operation, caller and mode, then the next
        return str(exc)
    return None


@pytest.fixture
async def fuzzed_app(settings: Settings, engine: AsyncEngine, auth: Any) -> AsyncIterator[tuple[FastAPI, FuzzWorld]]:
    """The fuzz world, built in an outer transaction rolled back after the test (its uncommitted rows would hold
    locks other tests wait on, so it lives no longer than the one test that uses it). While it is built every
    request's savepoint is kept; afterwards each fuzzed request runs in a savepoint that is rolled back, so every
    example meets the same state and one-shot operations (approve, finalize, DELETE) succeed on each of them."""
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
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url=BASE_URL) as c:
                world = await build(c, auth)
            await sequence_on(connection)  # the world's events, in the feed as the sequencer would put them
            keep["savepoints"] = False
            yield application, world
        finally:
            await outer.rollback()


async def test_every_operation_succeeds_under_fuzzing_for_every_role_allowed_to_call_it(
    fuzzed_app: tuple[FastAPI, FuzzWorld], tmp_path: Path
) -> None:
    """Issue 18, item 3: each operation × allowed caller is fuzzed in a state where it can succeed; the report of which
    got a 2xx is written to the test's tmp path and must show a 2xx for every one of them."""
    application, world = fuzzed_app
    schema = schemathesis.openapi.from_dict(copy.deepcopy(application.openapi()), config=config())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url=BASE_URL) as client:
        session = requests.Session()
        session.mount(BASE_URL, LoopAdapter(client, asyncio.get_running_loop()))
        try:
            report, expected = await asyncio.to_thread(fuzz, schema, session, world)
        finally:
            session.close()
    rendered = report.render(expected)
    (tmp_path / "fuzz-report.txt").write_text(rendered, encoding="utf-8")
    (tmp_path / "fuzz-failures.txt").write_text("\n\n".join(report.failures), encoding="utf-8")
    missing = report.without_2xx(expected)
    assert not report.failures, f"{len(report.failures)} failing:\n\n" + "\n\n".join(report.failures) + rendered
    assert not missing, f"{len(missing)} of {len(expected)} without a 2xx: {missing}\n\n{rendered}"


def test_every_plan_names_an_operation_and_a_caller_allowed_to_call_it(app: FastAPI) -> None:
    """A plan for a route that is gone, or for a role that may not call it, is a mistake in the fuzz set-up."""
    operations = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    templates = {(method, path.removeprefix("/api/v1")) for method, path in operations}
    assert set(PLANS) <= templates, sorted(set(PLANS) - templates)
    for (method, template), entry in PLANS.items():
        allowed = callers(method, "/api/v1" + template)
        assert set(entry.roles) <= allowed, (method, template, sorted(set(entry.roles) - allowed))
    assert [operation for operation in sorted(operations) if not callers(*operation)] == []


@pytest.mark.parametrize(
    ("refusal", "status", "problem", "documented"),
    [
        (
            invalid("body.decision_date"),
            422,
            {"code": "validation-failed", "errors": [{"loc": ["body", "decision_date"]}]},
            True,
        ),
        # A 422 naming another field too is not the documented one; nor is a 422 that names none.
        (
            invalid("body.decision_date"),
            422,
            {"code": "validation-failed", "errors": [{"loc": ["body", "decision_date"]}, {"loc": ["body", "reason"]}]},
            False,
        ),
        (invalid("body.decision_date"), 422, {"code": "validation-failed", "errors": []}, False),
        (
            invalid("body.targets"),
            422,
            {"code": "validation-failed", "errors": [{"loc": ["body", "targets", 0, "code"]}]},
            True,
        ),
        (rule("stable-support-ineligible"), 409, {"code": "rule-violation", "rule": "stable-support-ineligible"}, True),
        (rule("stable-support-ineligible"), 409, {"code": "rule-violation", "rule": "center-closed"}, False),
        (rule("stable-support-ineligible"), 409, {"code": "invalid-transition"}, False),
        (rule("stable-support-ineligible"), 404, {"code": "not-found"}, False),
    ],
)
def test_a_documented_refusal_matches_only_its_own_status_code_and_fields_or_rules(
    refusal: Refusal, status: int, problem: dict[str, Any], documented: bool
) -> None:
    assert refusal.matches(status, problem) is documented


def test_a_setup_ties_a_generated_request_to_its_state_and_leaves_the_rest_generated() -> None:
    world = FuzzWorld(ids={"agency": "A", "seq": 1}, principals={}, today=date(2026, 12, 3))
    setup = Setup(
        body={"decided_on": lambda w, b: w.today.isoformat()},
        need={"reason": "理由"},
        fix={"by_org_id": Ref("agency")},
        drop=("resubmit_by",),
        query={"seq": Ref("seq")},
    )
    generated = {"reason": "生成的理由", "by_org_id": "made-up", "resubmit_by": "2030-01-01", "months": 3}
    assert setup.shape(generated, world) == {
        "reason": "生成的理由",
        "by_org_id": "A",
        "months": 3,
        "decided_on": "2026-12-03",
    }
    assert setup.shape(None, world) == {"reason": "理由", "decided_on": "2026-12-03"}
    assert Setup(fix={"by_org_id": Ref("agency")}).shape(None, world) is None  # nothing the rules require
    assert setup.shape_query({"seq": 99, "tree_size": 5}, world) == {"seq": 1, "tree_size": 5}
    assert Setup().shape_query(None, world) is None


class _Sent:
    def __init__(self, body: Any) -> None:
        self.body, self.query = body, {}


def test_only_an_integer_sent_as_a_float_is_the_strict_integer_refusal() -> None:
    problem = {"code": "validation-failed", "errors": [{"loc": ["body", "facts", "pct_patents"], "type": "int_type"}]}
    assert strict_integers(problem, _Sent({"facts": {"pct_patents": 4194.0}}))
    assert not strict_integers(problem, _Sent({"facts": {"pct_patents": 4194}}))
    assert not strict_integers({"code": "validation-failed", "errors": []}, _Sent({}))
    # With another field's error: only when the state documents that field's refusal.
    year = {"loc": ["body", "facts", "major_projects", 0, "year"], "type": "value_error"}
    both = {**problem, "errors": [*problem["errors"], year]}
    sent = _Sent({"facts": {"pct_patents": 4194.0, "major_projects": [{"year": 2999}]}})
    assert not strict_integers(both, sent)
    assert strict_integers(both, sent, (invalid("body.facts.major_projects"),))
    assert not strict_integers(both, sent, (invalid("body.facts.staff_total"),))


# --- what the fuzzer found, pinned down -------------------------------------------------------------------------


async def test_center_statistics_group_by_the_leads_region(client: httpx.AsyncClient, auth: Any) -> None:
    await seed(client, auth)
    response = await client.get("/api/v1/stats/centers", params={"group_by": "region"}, headers=auth("province"))
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{"key": "郑州市", "count": 1}]


async def test_a_nul_character_the_database_cannot_store_is_a_422_not_a_500(
    client: httpx.AsyncClient, auth: Any
) -> None:
    province = auth("province")
    today = date.today().isoformat()
    call = {"year": 2026, "title": "申报\u0000通知", "opens_on": today, "closes_on": today}
    in_text = await client.post("/api/v1/calls", json=call, headers=province)
    assert in_text.status_code == 422, in_text.text
    assert in_text.json()["errors"] == [UNSTORABLE]
    world = await make_world(client, auth)
    center = await client.post(
        "/api/v1/centers/import",
        headers=province,
        json={
            "name": "河南省某技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": world.lead["id"],
            "status": "under_construction",
            "approved_on": "2024-06-01",
            "document_no": "豫科〔2024〕50号",
            "construction_starts_on": "2024-07-01",
        },
    )
    in_json = await client.patch(
        f"/api/v1/centers/{center.json()['id']}", json={"governance": {"board": ["\u0000"]}}, headers=province
    )
    assert in_json.status_code == 422, in_json.text
    assert in_json.json()["code"] == "validation-failed"
    assert (await client.get("/api/v1/calls", headers=province)).status_code == 200  # the request's, not the pool's


async def test_every_422_lists_its_errors_an_idempotency_key_reused_too(client: httpx.AsyncClient, auth: Any) -> None:
    province = {**auth("province"), "Idempotency-Key": "fuzzed-key"}
    today = date.today().isoformat()
    call = {"year": 2026, "title": "第一份", "opens_on": today, "closes_on": today}
    assert (await client.post("/api/v1/calls", json=call, headers=province)).status_code == 201
    reused = await client.post("/api/v1/calls", json={**call, "title": "第二份"}, headers=province)
    assert reused.status_code == 422, reused.text
    assert reused.json()["code"] == "idempotency-key-reused"
    assert [e["loc"] for e in reused.json()["errors"]] == [["header", "Idempotency-Key"]]


async def test_a_malformed_if_match_is_judged_after_the_resource_and_the_body(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """RFC 9110 §13.2.1: preconditions apply only to a request that would otherwise succeed."""
    province = {**auth("province"), "If-Match": "null"}
    world = await make_world(client, auth)
    org = f"/api/v1/organizations/{world.lead['id']}"
    missing = await client.patch(f"/api/v1/organizations/{uuid.uuid4()}", json={"region": "洛阳市"}, headers=province)
    assert (missing.status_code, missing.json()["code"]) == (404, "not-found")
    invalid = await client.patch(org, json={"zones": ["nowhere"]}, headers=province)
    assert (invalid.status_code, invalid.json()["code"]) == (422, "validation-failed")
    stale = await client.patch(org, json={"region": "洛阳市"}, headers=province)
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/organizations", {"updated_since": "-12694108782"}),
        ("/api/v1/organizations", {"updated_since": "1700000000"}),
        ("/api/v1/obligations", {"as_of": "86400"}),
        ("/api/v1/obligations", {"as_of": "2026-1-5"}),
    ],
)
async def test_dates_in_query_strings_are_rfc_3339_text_never_unix_times(
    client: httpx.AsyncClient, auth: Any, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params, headers=auth("province"))
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["query", next(iter(params))]]


@pytest.mark.parametrize("bad", [0, 0.0, "0", "1700000000", "2026-1-5"])
async def test_dates_in_bodies_are_text_never_unix_times(client: httpx.AsyncClient, auth: Any, bad: Any) -> None:
    province = auth("province")
    world = await make_world(client, auth)
    response = await client.patch(
        f"/api/v1/organizations/{world.lead['id']}", json={"registered_on": bad}, headers=province
    )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "registered_on"]]
    today = date.today().isoformat()
    call = await client.post(
        "/api/v1/calls", json={"year": 2026, "title": "通知", "opens_on": bad, "closes_on": today}, headers=province
    )
    assert call.status_code == 422, call.text


async def test_dates_in_query_strings_still_take_every_rfc_3339_spelling(client: httpx.AsyncClient, auth: Any) -> None:
    province = auth("province")
    for since in ("2026-01-31T08:00:00Z", "2026-01-31T16:00:00.123456+08:00", "2026-01-31t08:00z"):
        response = await client.get("/api/v1/organizations", params={"updated_since": since}, headers=province)
        assert response.status_code == 200, (since, response.text)
    response = await client.get("/api/v1/obligations", params={"as_of": "2026-01-31"}, headers=province)
    assert response.status_code == 200, response.text


@pytest.mark.race  # the export reads in a transaction of its own, so the center must be committed
async def test_an_xlsx_export_survives_control_characters_and_keeps_text_as_text(
    committed_client: httpx.AsyncClient, auth: Any
) -> None:
    province = auth("province")
    world = await make_world(committed_client, auth)
    for name in ("河南省\x1f控制字符中心", '=HYPERLINK("https://example.org")'):
        response = await committed_client.post(
            "/api/v1/centers/import",
            headers=province,
            json={
                "name": name,
                "field": "equipment_manufacturing",
                "lead_org_id": world.lead["id"],
                "status": "under_construction",
                "approved_on": "2024-06-01",
                "document_no": "豫科〔2024〕50号",
                "construction_starts_on": "2024-07-01",
            },
        )
        assert response.status_code == 201, response.text
    exported = await committed_client.get("/api/v1/exports/centers", params={"format": "xlsx"}, headers=province)
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert sorted(cell.value for cell in cells) == ['=HYPERLINK("https://example.org")', "河南省控制字符中心"]
    assert {cell.data_type for cell in cells} == {"s"}
