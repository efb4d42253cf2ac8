"""Reproductions from a hostile tester (issue 12), each a 500, a leak or a wrong answer on the code before it.

Bad input always answers a clear RFC 9457 problem naming the field; no body, however deep, reaches a RecursionError;
the token is checked before the body is read; an idempotent replay needs the caller's own key and reach; `If-Match:
*` matches; observers are answered 404 on writes; integers are integers.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

from app.api import middleware
from app.api.deps import get_principal
from tests.api.helpers import application_body, make_world, problem
from tests.api.test_centers import import_center, orgs
from tests.conftest import AppFactory, TokenFactory
from tests.factories import create_org

API = "/api/v1"
# The bounds on a free-form JSON field (a change request's `new_value`): depth and serialized size.
MAX_FREE_JSON_DEPTH = 8
MAX_FREE_JSON_BYTES = 64 * 1024


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def deep_body(depth: int, **fields: str) -> bytes:
    """A JSON object whose `new_value` nests `depth` arrays, written by hand (json.dumps would recurse)."""
    head = "".join(f'"{name}": "{value}", ' for name, value in fields.items())
    return ("{" + head + '"new_value": ' + "[" * depth + '"x"' + "]" * depth + "}").encode()


JSON = {"Content-Type": "application/json"}


# --- 1. 500s from bad bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [260, 500, 980, 5000])
async def test_a_change_request_nesting_hundreds_of_levels_answers_422_for_any_token_on_any_center(
    client: httpx.AsyncClient, auth: TokenFactory, depth: int
) -> None:
    body = deep_body(depth, kind="name", reason="r")
    for headers in (auth("observer"), auth("applicant", org_id=uuid.uuid4())):
        response = await client.post(
            f"{API}/centers/{uuid.uuid4()}/change-requests", content=body, headers={**headers, **JSON}
        )
        refused = problem(response, 422, "validation-failed")
        assert refused["errors"] == [
            {"loc": ["body"], "msg": "JSON nests deeper than 16 levels of arrays and objects", "type": "json_too_deep"}
        ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/organizations"),
        ("POST", "/calls"),
        ("PATCH", "/centers/00000000-0000-4000-8000-000000000000"),
        ("POST", "/webhooks"),
    ],
)
async def test_no_route_parses_a_body_nesting_past_the_bound(
    client: httpx.AsyncClient, auth: TokenFactory, method: str, path: str
) -> None:
    content = b'{"name": ' + b"[" * 17 + b"]" * 17 + b"}"
    response = await client.request(method, API + path, content=content, headers={**auth("province"), **JSON})
    assert problem(response, 422, "validation-failed")["errors"][0]["type"] == "json_too_deep"
    # Sixteen levels pass the guard and meet the route's own validation.
    content = b'{"name": ' + b"[" * 15 + b"]" * 15 + b"}"
    response = await client.request(method, API + path, content=content, headers={**auth("province"), **JSON})
    assert problem(response, 422, "validation-failed")["errors"][0]["type"] != "json_too_deep"


async def test_brackets_inside_strings_do_not_count_as_nesting(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    response = await client.post(
        f"{API}/centers/{center['id']}/change-requests",
        json={"kind": "name", "new_value": "[[[[[[[[[[[[[[[[[[[[中心]]]]", "reason": '更名 \\" [[[[[[[[[[[[[[[[[['},
        headers=w["applicant"],
    )
    assert response.status_code == 201, response.text


async def test_a_free_form_new_value_nesting_9_levels_is_refused_naming_the_field(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    base = f"{API}/centers/{center['id']}/change-requests"
    deep = {"kind": "name", "new_value": nested(MAX_FREE_JSON_DEPTH + 1), "reason": "r"}
    refused = problem(await client.post(base, json=deep, headers=w["applicant"]), 422, "validation-failed")
    assert [(e["loc"], e["type"]) for e in refused["errors"]] == [(["body", "new_value"], "json_too_deep")]
    large = {"kind": "lead_org", "new_value": {"padding": "x" * MAX_FREE_JSON_BYTES}, "reason": "r"}
    refused = problem(await client.post(base, json=large, headers=w["applicant"]), 422, "validation-failed")
    assert [(e["loc"], e["type"]) for e in refused["errors"]] == [(["body", "new_value"], "json_too_large")]
    not_json = b'{"kind": "lead_org", "new_value": [NaN, Infinity], "reason": "r"}'
    refused = problem(
        await client.post(base, content=not_json, headers={**w["applicant"], **JSON}), 422, "validation-failed"
    )
    assert [(e["loc"], e["type"]) for e in refused["errors"]] == [(["body", "new_value"], "json_not_finite")]
    listed = await client.get(base, headers=w["applicant"])
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("participants", "loc", "kind"),
    [
        ([{"org_id": "zzz"}], ["body", "participants", 0, "org_id"], "uuid_parsing"),
        ([{"role": "参建单位"}], ["body", "participants", 0, "org_id"], "missing"),
        ([{"org_id": 7}], ["body", "participants", 0, "org_id"], "uuid_type"),
        (["zzz"], ["body", "participants", 0], None),
        ([{"org_id": "{university}", "role": {"nested": "x"}}], ["body", "participants", 0, "role"], "string_type"),
        ([{"org_id": "{university}", "rank": 1}], ["body", "participants", 0, "rank"], "extra_forbidden"),
        ([{"org_id": "{university}"}, {"org_id": "{university}"}], ["body", "participants", 1, "org_id"], None),
        ([{"org_id": "{lead}"}], ["body", "participants", 0, "org_id"], None),
        ([{"org_id": "{nobody}"}], ["body", "participants", 0, "org_id"], None),
    ],
)
async def test_an_import_with_bad_participants_answers_422_naming_the_participant(
    client: httpx.AsyncClient, auth: TokenFactory, participants: list[Any], loc: list[Any], kind: str | None
) -> None:
    w = await orgs(client, auth)
    names = {"{university}": w["university"]["id"], "{lead}": w["lead"]["id"], "{nobody}": str(uuid.uuid4())}
    participants = [
        {k: names.get(v, v) if isinstance(v, str) else v for k, v in p.items()} if isinstance(p, dict) else p
        for p in participants
    ]
    body = {
        "name": "河南省某技术创新中心",
        "field": "equipment_manufacturing",
        "lead_org_id": w["lead"]["id"],
        "participants": participants,
        "status": "under_construction",
        "approved_on": "2022-06-01",
        "document_no": "豫科〔2022〕50号",
        "construction_starts_on": "2022-12-01",
    }
    refused = problem(
        await client.post(f"{API}/centers/import", json=body, headers=w["province"]), 422, "validation-failed"
    )
    assert loc in [e["loc"] for e in refused["errors"]], refused
    if kind is not None:
        assert kind in [e["type"] for e in refused["errors"]]
    assert (await client.get(f"{API}/centers", headers=w["province"])).json()["items"] == []


@pytest.mark.parametrize(
    ("new_value", "loc"),
    [
        ([{"org_id": "{university}"}, {"org_id": "{university}", "role": "共建"}], ["body", "new_value", 1, "org_id"]),
        ([{"org_id": "{lead}"}], ["body", "new_value", 0, "org_id"]),
        ([{"org_id": "{university}", "role": {"deep": ["x"]}}], ["body", "new_value", 0, "role"]),
        ([{"org_id": "{university}", "role": "r" * 51}], ["body", "new_value", 0, "role"]),
        ([{"org_id": "{university}", "roel": "参建单位"}], ["body", "new_value", 0, "roel"]),
        ([{"org_id": "zzz"}], ["body", "new_value", 0, "org_id"]),
        ([{}], ["body", "new_value", 0, "org_id"]),
        ([[]], ["body", "new_value", 0]),
        ({"org_id": "{university}"}, ["body", "new_value"]),
    ],
)
async def test_a_participants_change_is_held_to_what_applications_are_held_to(
    client: httpx.AsyncClient, auth: TokenFactory, new_value: Any, loc: list[Any]
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    names = {"{university}": w["university"]["id"], "{lead}": w["lead"]["id"]}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    base = f"{API}/centers/{center['id']}/change-requests"
    body = {"kind": "participants", "new_value": fill(new_value), "reason": "调整参建单位"}
    refused = problem(await client.post(base, json=body, headers=w["applicant"]), 422, "validation-failed")
    assert loc in [e["loc"] for e in refused["errors"]], refused
    assert (await client.get(base, headers=w["applicant"])).json()["items"] == []


async def test_a_valid_participants_change_is_stored_as_participants_are(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    institute = await create_org(client, w["province"], kind="research_institute")
    body = {
        "kind": "participants",
        "new_value": [{"org_id": w["university"]["id"]}, {"org_id": institute["id"].upper(), "role": "共建单位"}],
        "reason": "增加参建单位",
    }
    filed = await client.post(f"{API}/centers/{center['id']}/change-requests", json=body, headers=w["applicant"])
    assert filed.status_code == 201, filed.text
    assert filed.json()["new_value"] == [
        {"org_id": w["university"]["id"], "role": "参建单位"},
        {"org_id": institute["id"], "role": "共建单位"},
    ]


# --- 2. Idempotency: the caller's own key, and reach before replay ----------------------------------------------


@pytest.mark.parametrize(
    ("collection", "body"),
    [
        ("change-requests", {"kind": "research_direction", "new_value": "智能装备", "reason": "调整方向"}),
        ("annual-reports", {"period_year": 2023, "summary": "总结", "plan_next_year": "计划"}),
    ],
)
async def test_an_applicant_sharing_a_sub_never_replays_another_leads_filing(
    client: httpx.AsyncClient, auth: TokenFactory, collection: str, body: dict[str, Any]
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    stranger = await create_org(client, w["province"], kind="enterprise", is_leading_enterprise=True)
    url = f"{API}/centers/{center['id']}/{collection}"
    key = {"Idempotency-Key": "retry-1"}
    mine = auth("applicant", org_id=w["lead"]["id"], sub="applicant-dev", **key)
    theirs = auth("applicant", org_id=stranger["id"], sub="applicant-dev", **key)
    assert (await client.post(url, json=body, headers=mine)).status_code == 201
    response = await client.post(url, json=body, headers=theirs)
    problem(response, 404, "not-found")
    assert "idempotent-replayed" not in response.headers
    assert (await client.get(url, headers=theirs)).status_code == 404


async def test_applicants_of_two_leads_sharing_a_sub_keep_their_keys_apart(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await make_world(client, auth)
    other = await create_org(client, world.province, kind="enterprise", is_leading_enterprise=True)
    body = application_body(world)
    key = {"Idempotency-Key": "draft-1"}
    first = await client.post(
        f"{API}/applications", json=body, headers=auth("applicant", org_id=world.lead["id"], sub="applicant-dev", **key)
    )
    second = await client.post(
        f"{API}/applications", json=body, headers=auth("applicant", org_id=other["id"], sub="applicant-dev", **key)
    )
    assert first.status_code == second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert (first.json()["lead_org_id"], second.json()["lead_org_id"]) == (world.lead["id"], other["id"])


async def test_an_applicant_sharing_the_provinces_sub_never_gets_its_fast_track_application(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    world = await make_world(client, auth)
    body = application_body(world)
    del body["call_id"]
    body.update(fast_track=True, fast_track_basis="省政府专题会议纪要〔2026〕12号", lead_org_id=world.lead["id"])
    key = {"Idempotency-Key": "same-key"}
    created = await client.post(f"{API}/applications", json=body, headers=auth("province", sub="shared", **key))
    assert created.status_code == 201, created.text
    response = await client.post(
        f"{API}/applications", json=body, headers=auth("applicant", org_id=world.lead["id"], sub="shared", **key)
    )
    assert "idempotent-replayed" not in response.headers
    assert response.status_code in (404, 409, 422), response.text


async def test_a_lead_replaced_by_a_lead_org_change_gets_404_not_its_old_response(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    successor = await create_org(
        client, w["province"], kind="enterprise", is_leading_enterprise=True, supervisor_id=w["department"]["id"]
    )
    base = f"{API}/centers/{center['id']}/change-requests"
    body = {"kind": "research_direction", "new_value": "智能装备", "reason": "调整方向"}
    retried = {**w["applicant"], "Idempotency-Key": "direction-1"}
    assert (await client.post(base, json=body, headers=retried)).status_code == 201
    handover = await client.post(
        base, json={"kind": "lead_org", "new_value": successor["id"], "reason": "重组"}, headers=w["applicant"]
    )
    assert handover.status_code == 201, handover.text
    for action, headers in (("endorse", w["supervisor"]), ("approve", w["province"])):
        response = await client.post(f"{base}/{handover.json()['id']}/{action}", headers=headers)
        assert response.status_code == 200, response.text
    response = await client.post(base, json=body, headers=retried)
    problem(response, 404, "not-found")
    assert "idempotent-replayed" not in response.headers


# --- 3. Authentication first, If-Match: *, observers, integers ------------------------------------------------


def needs_token(dependant: Any) -> bool:
    stack = [dependant]
    while stack:
        current = stack.pop()
        if current.call is get_principal:
            return True
        stack.extend(current.dependencies)
    return False


def body_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with made-up ids) of every route that takes a body and needs a token."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    out = []
    for route in walk(app.routes) if walk is not None else app.routes:
        path, methods, dependant = (getattr(route, n, None) for n in ("path_format", "methods", "dependant"))
        if not (path and methods and dependant is not None and path.startswith(API)):
            continue
        if not needs_token(dependant):
            continue
        concrete = path.format(**{p.name: uuid.uuid4() for p in dependant.path_params})
        out.extend((method, concrete) for method in sorted(methods) if method in ("POST", "PUT", "PATCH"))
    return out


async def test_every_write_without_a_token_answers_401_whatever_its_body(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    routes = body_routes(app)
    assert len(routes) > 40
    bodies = [b'{"name": ', b"[" * 5000, b'{"year": "2027"}', b"\x00\xff"]
    for method, path in routes:
        for content in bodies:
            response = await client.request(method, path, content=content, headers=JSON)
            refused = problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"].startswith("Bearer"), (method, path)
            assert refused["instance"] == path


async def test_a_bad_token_is_refused_before_a_malformed_body_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/organizations", content=b"{bad", headers={"Authorization": "Bearer not-a-jwt", **JSON}
    )
    problem(response, 401, "unauthenticated")


async def test_an_oversized_body_is_refused_with_401_without_a_token_and_413_with_one(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    content = b"x" * (1024 * 1024 + 1)
    problem(await client.post(f"{API}/organizations", content=content, headers=JSON), 401, "unauthenticated")
    response = await client.post(f"{API}/organizations", content=content, headers={**JSON, **auth("province")})
    problem(response, 413, "payload-too-large")


async def test_if_match_star_matches_the_current_representation(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    star = {"If-Match": "*"}
    renamed = await client.patch(
        f"{API}/organizations/{w['university']['id']}", json={"region": "洛阳市"}, headers={**w["province"], **star}
    )
    assert renamed.status_code == 200, renamed.text
    exiting = await client.post(
        f"{API}/centers/{center['id']}/request_exit", json={"reason": "战略调整"}, headers={**w["applicant"], **star}
    )
    assert exiting.status_code == 200, exiting.text
    assert exiting.json()["status"] == center["status"]
    missing = await client.patch(f"{API}/centers/{uuid.uuid4()}", json={}, headers={**w["province"], **star})
    problem(missing, 404, "not-found")


async def test_observers_are_answered_404_on_a_write_they_could_read(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)
    observer = auth("observer")
    assert (await client.get(f"{API}/centers/{center['id']}", headers=observer)).status_code == 200
    for path, body in (
        (f"/centers/{center['id']}/request_exit", {"reason": "战略调整"}),
        (f"/centers/{center['id']}/revoke", {"reason_code": "fraud", "reason": "x", "decided_on": "2026-01-05"}),
    ):
        problem(await client.post(API + path, json=body, headers=observer), 404, "not-found")
    problem(await client.patch(f"{API}/centers/{center['id']}", json={}, headers=observer), 404, "not-found")


@pytest.mark.parametrize("year", ["2027", 2027.0, True, "2027.0"])
async def test_an_integer_field_takes_only_an_integer(client: httpx.AsyncClient, auth: TokenFactory, year: Any) -> None:
    body = {"year": year, "title": "申报", "opens_on": "2026-03-01", "closes_on": "2026-04-30"}
    refused = problem(await client.post(f"{API}/calls", json=body, headers=auth("province")), 422, "validation-failed")
    assert [e["loc"] for e in refused["errors"]] == [["body", "year"]]
    assert refused["errors"][0]["type"] == "int_type"


async def test_a_boolean_field_takes_only_a_boolean(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    body = {"name": "单位", "credit_code": "91350100M000100Y43", "kind": "enterprise", "is_leading_enterprise": "true"}
    refused = problem(
        await client.post(f"{API}/organizations", json=body, headers=auth("province")), 422, "validation-failed"
    )
    assert [(e["loc"], e["type"]) for e in refused["errors"]] == [(["body", "is_leading_enterprise"], "bool_type")]


async def test_ids_dates_and_decimals_still_parse_from_text_and_queries_from_strings(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    w = await orgs(client, auth)
    center = await import_center(client, w)  # ids, dates, decimal strings in the task book
    funded = await client.post(
        f"{API}/centers/{center['id']}/funding",
        json={"kind": "post_subsidy", "amount_wan": 50, "year": 2026, "decision_ref": "豫财科〔2026〕9号"},
        headers=w["province"],
    )
    assert funded.status_code == 201, funded.text
    assert funded.json()["amount_wan"] == "50.00"
    listed = await client.get(
        f"{API}/centers", params={"limit": "1", "lead_org_id": w["lead"]["id"]}, headers=w["province"]
    )
    assert [c["id"] for c in listed.json()["items"]] == [center["id"]]
    due = await client.get(
        f"{API}/obligations", params={"as_of": "2026-11-29", "overdue": "true"}, headers=w["province"]
    )
    assert due.status_code == 200, due.text


# --- logs, cursors ---------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def error(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))

    def info(self, event: str, **fields: Any) -> None:
        pass


async def test_a_repeated_500_logs_its_traceback_once_per_error_class(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(middleware, "log", recorder)
    application = app_factory()

    @application.get("/boom/{kind}")
    async def boom(kind: str) -> None:
        raise (KeyError if kind == "key" else RuntimeError)("secret detail")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as c:
        statuses = [(await c.get(f"/boom/{kind}")).status_code for kind in ("runtime", "runtime", "key", "runtime")]

    assert statuses == [500] * 4
    assert [event for event, _ in recorder.lines] == ["unhandled"] * 4
    assert all(fields["request_id"] for _, fields in recorder.lines)
    with_traceback = [(fields["error"], "exc_info" in fields) for _, fields in recorder.lines]
    assert with_traceback == [
        ("builtins.RuntimeError", True),
        ("builtins.RuntimeError", False),
        ("builtins.KeyError", True),
        ("builtins.RuntimeError", False),
    ]


async def test_a_cursor_nesting_thousands_of_levels_answers_422(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode().rstrip("=")
    response = await client.get(f"{API}/applications", params={"cursor": cursor}, headers=auth("province"))
    assert problem(response, 422, "validation-failed")["errors"][0]["loc"] == ["query", "cursor"]
