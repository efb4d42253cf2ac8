"""The breaking-change gate (issue 15, item 4): openapi/baseline.json is the last released contract; a change that
would break a client written against it fails unless `info.version`'s major number is raised."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from app.__main__ import main as cli
from app.api.contract_compat import check, major
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "openapi" / "baseline.json"


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(BASELINE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(create_app(Settings(environment="test")).openapi()))
    return document


@pytest.fixture
def current(served: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(served)


def schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def test_what_the_code_serves_keeps_every_promise_of_the_released_contract(
    baseline: dict[str, Any], served: dict[str, Any]
) -> None:
    verdict = check(baseline, served)
    assert verdict.breaking == []
    assert verdict.ok


def test_the_baseline_against_itself_has_no_breaking_change(baseline: dict[str, Any]) -> None:
    assert check(baseline, baseline).breaking == []


def test_a_removed_response_field_is_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    del schema(current, "CallRead")["properties"]["title"]
    verdict = check(baseline, current)
    assert not verdict.ok
    assert "response field removed: GET /api/v1/calls/{call_id} 200 body.title" in verdict.breaking
    # Lists name the field through their items.
    assert "response field removed: GET /api/v1/calls 200 body.items[].title" in verdict.breaking


def test_a_response_field_that_may_now_be_missing_is_breaking(
    baseline: dict[str, Any], current: dict[str, Any]
) -> None:
    schema(current, "CallRead")["required"].remove("title")
    assert "response field no longer always present: GET /api/v1/calls/{call_id} 200 body.title" in (
        check(baseline, current).breaking
    )


def test_a_removed_or_renamed_path_is_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    current["paths"]["/api/v1/call-list"] = current["paths"].pop("/api/v1/calls")
    assert "path removed: /api/v1/calls" in check(baseline, current).breaking


def test_a_removed_method_is_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    del current["paths"]["/api/v1/webhooks/{webhook_id}"]["delete"]
    assert check(baseline, current).breaking == ["operation removed: DELETE /api/v1/webhooks/{webhook_id}"]


def test_a_newly_required_request_field_is_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    body = schema(current, "CallCreate")
    assert "rule_set" not in body["required"]
    body["required"].append("rule_set")
    assert check(baseline, current).breaking == ["request field newly required: POST /api/v1/calls body.rule_set"]


def test_a_newly_required_query_parameter_is_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    parameters = current["paths"]["/api/v1/calls"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    limit["required"] = True
    assert check(baseline, current).breaking == ["request parameter newly required: GET /api/v1/calls query limit"]


def test_a_narrowed_request_enum_is_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    rule_set = schema(current, "CallCreate")["properties"]["rule_set"]
    rule_set["enum"] = [value for value in rule_set["enum"] if value != "henan-2021"]
    rule_set["default"] = rule_set["enum"][0]
    assert check(baseline, current).breaking == [
        "request enum narrowed: POST /api/v1/calls body.rule_set no longer accepts ['henan-2021']"
    ]


def test_a_narrowed_enum_inside_an_optional_field_is_breaking(
    baseline: dict[str, Any], current: dict[str, Any]
) -> None:
    # `anyOf: [{enum}, {type: null}]`, as an optional field is written.
    result = schema(current, "CenterActionBody")["properties"]["result"]
    branch = next(b for b in result["anyOf"] if "enum" in b)
    branch["enum"].remove("failed")
    breaking = check(baseline, current).breaking
    assert breaking
    assert all("body.result no longer accepts ['failed']" in change for change in breaking)


def test_additions_are_not_breaking(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    schema(current, "CallRead")["properties"]["subtitle"] = {"type": "string"}
    schema(current, "CallCreate")["properties"]["subtitle"] = {"type": "string"}
    rule_set = schema(current, "CallCreate")["properties"]["rule_set"]
    rule_set["enum"] = [*rule_set["enum"], "henan-2030"]
    current["paths"]["/api/v1/novelties"] = current["paths"]["/api/v1/calls"]
    assert check(baseline, current).breaking == []


def test_a_new_major_version_allows_breaking_changes(baseline: dict[str, Any], current: dict[str, Any]) -> None:
    del schema(current, "CallRead")["properties"]["title"]
    current["info"]["version"] = f"{major(baseline['info']['version'])}.9.0"
    assert not check(baseline, current).ok  # a minor release may not break
    current["info"]["version"] = f"{major(baseline['info']['version']) + 1}.0.0"
    verdict = check(baseline, current)
    assert verdict.breaking  # still reported, so the release notes can list them
    assert verdict.ok


def test_the_command_fails_the_build_on_a_removed_field(
    baseline: dict[str, Any], current: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del schema(current, "CallRead")["properties"]["title"]
    changed = tmp_path / "openapi.json"
    changed.write_text(json.dumps(current), encoding="utf-8")
    assert cli(["openapi-compat", "--baseline", str(BASELINE), "--current", str(changed)]) == 1
    assert "breaking: response field removed: GET /api/v1/calls/{call_id} 200 body.title" in capsys.readouterr().out
    assert cli(["openapi-compat", "--baseline", str(BASELINE)]) == 0  # what the code serves passes
