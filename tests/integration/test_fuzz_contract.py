"""Schemathesis against the generated OpenAPI, in-process, on a real database (issue 8, item 3).

Every operation of `app.openapi()` is fuzzed with schema-valid and schema-invalid data, with a province token and with
an applicant token, and every response goes through Schemathesis' checks (no 5xx, status codes, content types,
headers and bodies conform to the schema, invalid data is refused, valid data is not refused) plus ours: an error is
an `application/problem+json` with a `code`.

How it runs: Hypothesis and Schemathesis are synchronous, and the app's sessions live on the session event loop (the
asyncpg connections belong to it). So the fuzzer runs in a worker thread, and a `requests` adapter hands each request
to the test's event loop, where an httpx client calls the ASGI app. Checks that send requests of their own go through
the same adapter. Requests commit for real; `committed_client` empties the tables afterwards. Path parameters are
pinned to records seeded through the API, so requests reach the rules rather than stopping at 404.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import os
import uuid
from collections.abc import Mapping
from datetime import date
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
from urllib3 import HTTPHeaderDict, HTTPResponse

from app.api.problems import PROBLEM_MEDIA_TYPE, UNSTORABLE
from tests.api.helpers import draft, expert, make_world

BASE_URL = "http://test"
# A few examples per operation keep the suite fast and deterministic; TIC_FUZZ_EXAMPLES=200 explores deeper.
MAX_EXAMPLES = int(os.environ.get("TIC_FUZZ_EXAMPLES", "5"))
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
    return SchemathesisConfig.from_dict(
        {
            "checks": {
                # 422 also answers what JSON Schema cannot say (a credit code's check characters, a reference to
                # an existing record, dates in order across fields); 412 an If-Match naming another version.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "404", "409", "412", "422"],
                },
            },
        }
    )


async def seed(client: httpx.AsyncClient, auth: Any) -> dict[str, str]:
    """One record of each kind the path parameters name, created through the API."""
    world = await make_world(client, auth)
    province = world.province
    application = await draft(client, world)
    pool_member = await expert(client, province)
    response = await client.post(
        "/api/v1/centers/import",
        headers=province,
        json={
            "name": "河南省某技术创新中心",
            "field": "equipment_manufacturing",
            "lead_org_id": world.lead["id"],
            "participants": [{"org_id": world.university["id"], "role": "参建单位"}],
            "status": "under_construction",
            "approved_on": "2024-06-01",
            "document_no": "豫科〔2024〕50号",
            "construction_starts_on": "2024-07-01",
            "task_book": {
                "targets": [{"code": "T1", "name": "发明专利授权", "unit": "件", "target_value": "30"}],
                "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00", "other_wan": "0"},
                "starts_on": "2024-07-01",
            },
        },
    )
    assert response.status_code == 201, response.text
    center = response.json()
    base = f"/api/v1/centers/{center['id']}"
    response = await client.post(
        f"{base}/annual-reports",
        headers=world.applicant,
        json={"period_year": 2024, "summary": "总结", "kpi_actuals": {"T1": "3"}, "plan_next_year": "计划"},
    )
    assert response.status_code == 201, response.text
    report = response.json()
    response = await client.post(
        f"{base}/change-requests",
        headers=world.applicant,
        json={"kind": "director", "new_value": "赵六", "reason": "换届"},
    )
    assert response.status_code == 201, response.text
    change = response.json()
    response = await client.post(
        "/api/v1/assessment-cycles",
        headers=province,
        json={"year": 2026, "period_start_year": 2023, "period_end_year": 2025},
    )
    assert response.status_code == 201, response.text
    cycle = response.json()
    response = await client.post("/api/v1/webhooks", headers=province, json={"url": "https://example.org/hook"})
    assert response.status_code == 201, response.text
    return {
        "org_id": world.lead["id"],
        "expert_id": pool_member["id"],
        "call_id": world.call["id"],
        "application_id": application["id"],
        "center_id": center["id"],
        "report_id": report["id"],
        "request_id": change["id"],
        "cycle_id": cycle["id"],
        "webhook_id": response.json()["id"],
        "lead_org_id": world.lead["id"],
    }


def fuzz(schema: Any, session: requests.Session, headers: Mapping[str, str], ids: Mapping[str, str]) -> list[str]:
    """Run every operation in both generation modes; answer one report per failing operation and mode."""
    failures = []
    settings = hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        pinned = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        # With its path pinned, an operation without a body or query parameters has nothing to make invalid.
        negatable = len(operation.body) > 0 or len(operation.query) > 0
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if negatable else (GenerationMode.POSITIVE,):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned)

            @settings
            @hypothesis.given(case=strategy)
            def run(case: Any) -> None:
                case.call_and_validate(
                    base_url=BASE_URL, session=session, headers=dict(headers), additional_checks=[problem_details]
                )

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # one report per operation and mode, then the next
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


@pytest.mark.race  # commits for real; committed_client cleans up
@pytest.mark.parametrize("role", ["province", "applicant"])
async def test_every_operation_honours_the_contract_under_fuzzing(
    committed_client: httpx.AsyncClient, app: FastAPI, auth: Any, role: str
) -> None:
    ids = await seed(committed_client, auth)
    headers = auth("province") if role == "province" else auth("applicant", org_id=ids["lead_org_id"])
    schema = schemathesis.openapi.from_dict(copy.deepcopy(app.openapi()), config=config())
    session = requests.Session()
    session.mount(BASE_URL, LoopAdapter(committed_client, asyncio.get_running_loop()))
    try:
        failures = await asyncio.to_thread(fuzz, schema, session, headers, ids)
    finally:
        session.close()
    assert not failures, f"{len(failures)} failing operations:\n\n" + "\n\n".join(failures)


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
