"""A Python client generated from openapi/openapi.json drives a real service (issue 15, item 3).

openapi-python-client writes the client into a temporary folder; the service listens on a free loopback port
(uvicorn, in this test's event loop, its sessions joined to the test's rolled-back transaction); the README's steps
from a call to a submitted application run through the client's typed functions and models only. A contract that
does not say what the service does (a field, a status, the bearer scheme) fails here.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.__main__ import main as cli
from app.services.clock import Clock
from app.settings import Settings
from tests.conftest import SECRET
from tests.factories import credit_code

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "openapi" / "openapi.json"
PACKAGE = "tic_client"
PLAN_SECTIONS = ("background", "foundation", "goals_and_tasks", "organization", "governance", "funding", "schedule")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("python-client")
    config = folder / "config.yaml"
    # No post hooks: the generator would look for ruff on PATH to format the client; the code runs the same.
    config.write_text(f"project_name_override: tic-client\npackage_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(CONTRACT),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr  # nothing was left out
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def token(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """A token as the README makes one: `python -m app token ...` (signed with the test service's secret)."""
    capsys.readouterr()
    assert cli(["token", *args]) == 0
    return capsys.readouterr().out.strip()


def operation(tag: str, name: str) -> Any:
    """The generated module for one operation: `{package}.api.{tag}.{operationId}`."""
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


async def test_the_readme_steps_run_through_the_generated_python_client(
    generated: ModuleType,
    base_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    monkeypatch.setenv("TIC_AUTH_SECRET", SECRET)
    models = importlib.import_module(f"{PACKAGE}.models")

    def client_as(*args: str) -> Any:
        return generated.AuthenticatedClient(
            base_url=base_url, token=token(capsys, *args), raise_on_unexpected_status=True
        )

    async def created(operation: Any, client: Any, body: Any) -> Any:
        response = await operation.asyncio_detailed(client=client, body=body)
        assert response.status_code == 201, response.content
        return response.parsed

    province = client_as("--role", "province")
    # 1. The province registers a supervising department, a lead enterprise and a university.
    create_org = operation("organizations", "create_organization")
    department = await created(
        create_org,
        province,
        models.OrganizationCreate.from_dict(
            {"name": "郑州市科学技术局", "credit_code": credit_code(), "kind": "department", "region": "郑州市"}
        ),
    )
    lead = await created(
        create_org,
        province,
        models.OrganizationCreate.from_dict(
            {
                "name": "郑州智能装备集团有限公司",
                "credit_code": credit_code(),
                "kind": "enterprise",
                "region": "郑州市",
                "supervisor_id": str(department.id),
                "is_leading_enterprise": True,
                "zones": ["zhengluoxin"],
                "registered_on": "2012-05-01",
            }
        ),
    )
    university = await created(
        create_org,
        province,
        models.OrganizationCreate.from_dict(
            {"name": "某某大学", "credit_code": credit_code(), "kind": "university", "region": "郑州市"}
        ),
    )

    # 2. It publishes a call open around today (the programme's calendar).
    today = Clock(settings.tz).today()
    call = await created(
        operation("calls", "create_call"),
        province,
        models.CallCreate.from_dict(
            {
                "year": today.year,
                "title": "省技术创新中心申报",
                "opens_on": (today - timedelta(days=30)).isoformat(),
                "closes_on": (today + timedelta(days=30)).isoformat(),
            }
        ),
    )
    # An action's body is optional; openapi-python-client 0.29 would send its UNSET marker when none is given
    # (it cannot serialize it), so the client passes an empty one, as a front-end would send `{}`.
    published = await operation("calls", "publish_call").asyncio(
        client=province, call_id=call.id, body=models.ActionBody()
    )
    assert published.status == "published"

    # 3. The lead drafts an application, reads why it is (not) eligible, and submits it.
    applicant = client_as("--role", "applicant", "--org-id", str(lead.id))
    application = await created(
        operation("applications", "create_application"),
        applicant,
        models.ApplicationCreate.from_dict(
            {
                "call_id": str(call.id),
                "proposed_name": "河南省智能装备技术创新中心",
                "field": "equipment_manufacturing",
                "formation_mode": "enterprise_led",
                "participants": [{"org_id": str(university.id), "role": "参建单位"}],
                "zones": ["zhengluoxin"],
                "plan": dict.fromkeys(
                    (
                        "background",
                        "foundation",
                        "goals_and_tasks",
                        "organization",
                        "governance",
                        "funding",
                        "schedule",
                    ),
                    "…",
                ),
                "facts": {
                    "major_projects": [{"name": "国家重点研发计划", "level": "national", "year": 2020}],
                    "platforms": [
                        {"name": "省工程技术研究中心", "level": "provincial", "field": "equipment_manufacturing"}
                    ],
                    "ip_results_count": 12,
                    "invention_patents": 40,
                    "pct_patents": 3,
                    "cooperation_mechanism": "与某某大学共建联合实验室",
                    "staff_total": 1000,
                    "rd_staff": 100,
                    "high_level_talents": [
                        {"name": "张三", "level": "national"},
                        {"name": "李四", "level": "provincial"},
                        {"name": "王五", "level": "provincial"},
                    ],
                    "rd_spend_wan": ["4000.00", "4100.00", "4200.00"],
                },
            }
        ),
    )
    assert application.status == "draft"
    eligibility = await operation("applications", "get_application_eligibility").asyncio(
        client=applicant, application_id=application.id
    )
    assert isinstance(eligibility, models.EligibilityRead), eligibility
    assert eligibility.eligible is True, [(c.rule, c.outcome, c.message_en) for c in eligibility.checks]
    assert eligibility.rule_set == "henan-2021"
    outcomes = {check.outcome for check in eligibility.checks}
    assert "pass" in outcomes
    assert "fail" not in outcomes

    submitted = await operation("applications", "submit_application").asyncio(
        client=applicant, application_id=application.id, body=models.ApplicationActionBody()
    )
    assert isinstance(submitted, models.ApplicationRead), submitted
    assert submitted.status == "submitted"

    # A refusal comes back as the contract's problem model, with its stable code.
    again = await operation("applications", "submit_application").asyncio(
        client=applicant, application_id=application.id, body=models.ApplicationActionBody()
    )
    assert isinstance(again, models.ProblemDetail), again
    assert (again.status, again.code) == (409, "invalid-transition")
    # And a missing token is the documented 401 problem.
    anonymous = generated.Client(base_url=base_url)
    refused = await operation("applications", "get_application").asyncio_detailed(
        client=anonymous, application_id=application.id
    )
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.ProblemDetail)
    assert refused.parsed.code == "unauthenticated"
