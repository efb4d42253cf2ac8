"""Reference data and the lifecycles as data."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import PrincipalDep
from app.api.problems import ProblemError, responses
from app.domain import attachments, lifecycles, reference
from app.domain.assessment_scheme import SCHEME_OF_RULE_SET, SCHEMES
from app.domain.rulesets import RULE_SETS

router = APIRouter(prefix="/reference", tags=["reference"])


class CodeLabel(BaseModel):
    code: str
    label_zh: str
    label_en: str


class ReferenceData(BaseModel):
    roles: list[CodeLabel]
    fields: list[CodeLabel]
    zones: list[CodeLabel]
    organization_kinds: list[CodeLabel]
    formation_modes: list[CodeLabel]
    plan_sections: list[CodeLabel]
    expert_categories: list[CodeLabel]
    grades: list[CodeLabel]
    revocation_reasons: list[CodeLabel]
    project_levels: list[CodeLabel]
    review_criteria: list[CodeLabel]
    application_statuses: list[CodeLabel]
    center_statuses: list[CodeLabel]
    rule_sets: list[dict[str, Any]]


class StateMachineData(BaseModel):
    name: str
    states: list[str]
    initial: str
    terminal: list[str]
    transitions: list[dict[str, Any]]


@router.get("", operation_id="get_reference", response_model=ReferenceData, responses=responses())
async def get_reference(principal: PrincipalDep) -> dict[str, Any]:
    """Every code the API accepts, with Chinese and English labels, and the rule sets."""
    data: dict[str, Any] = {
        name: [{"code": c.code, "label_zh": c.label_zh, "label_en": c.label_en} for c in table]
        for name, table in reference.ALL_TABLES.items()
    }
    data["rule_sets"] = [rule_set.describe() for rule_set in RULE_SETS.values()]
    return data


class AttachmentKindRead(BaseModel):
    code: str
    label_zh: str
    label_en: str
    subjects: list[Literal["application", "center"]]


# Not a page: a code table compiled into the code (a dozen kinds), the same for every request.
@router.get(
    "/attachment-kinds",
    operation_id="list_attachment_kinds",
    response_model=list[AttachmentKindRead],
    responses=responses(),
)
async def list_attachment_kinds(principal: PrincipalDep) -> list[dict[str, Any]]:
    """The kinds of document an application or a center takes as an attachment (审计报告, 研发投入专项审计, 专利证书,
    …), with the subjects each applies to. The rule sets name which kinds back which eligibility rule
    (`GET /reference`, `rule_sets[].rules[].evidence_kinds`)."""
    return [
        {"code": k.code, "label_zh": k.label_zh, "label_en": k.label_en, "subjects": list(k.subjects)}
        for k in attachments.ATTACHMENT_KINDS
    ]


# Not a page: the lifecycle tables compiled into the code, the same for every request.
@router.get(
    "/state-machines", operation_id="get_state_machines", response_model=list[StateMachineData], responses=responses()
)
async def get_state_machines(principal: PrincipalDep) -> list[dict[str, Any]]:
    """Each lifecycle's states and transitions (action, from, to, roles), the same table the service enforces."""
    return [machine.as_dict() for machine in lifecycles.MACHINES.values()]


class CurveKnot(BaseModel):
    value: str
    score: str


class SchemePart(BaseModel):
    code: str
    share: int
    measure_zh: str
    measure_en: str
    unit: str
    curve: list[CurveKnot]


class SchemeIndicator(BaseModel):
    code: str
    weight: int
    title_zh: str
    title_en: str
    parts: list[SchemePart]


class AssessmentSchemeData(BaseModel):
    name: str
    title_zh: str
    title_en: str
    source: str
    reports_per_cycle: int
    rounding: str
    rule_sets: list[str]
    indicators: list[SchemeIndicator]


def _scheme(name: str) -> dict[str, Any]:
    return {
        **SCHEMES[name].describe(),
        "rule_sets": sorted(rule_set for rule_set, scheme in SCHEME_OF_RULE_SET.items() if scheme == name),
    }


# Not a page: the assessment schemes compiled into the code, the same for every request.
@router.get(
    "/assessment-schemes",
    operation_id="list_assessment_schemes",
    response_model=list[AssessmentSchemeData],
    responses=responses(),
)
async def list_assessment_schemes(principal: PrincipalDep) -> list[dict[str, Any]]:
    """Every assessment scheme (考核指标体系): indicators and weights, each indicator's parts with what they measure
    from a cycle's three accepted annual reports, and the piecewise-linear curve (knots of value → score; below the
    first knot its score, past the last its score) that maps each measure to 0–100; the rule sets scored with it."""
    return [_scheme(name) for name in SCHEMES]


@router.get(
    "/assessment-schemes/{scheme_id}",
    operation_id="get_assessment_scheme",
    response_model=AssessmentSchemeData,
    responses=responses("not-found"),
)
async def get_assessment_scheme(scheme_id: str, principal: PrincipalDep) -> dict[str, Any]:
    """One assessment scheme by name, e.g. `henan-2021-assessment`."""
    if scheme_id not in SCHEMES:
        raise ProblemError("not-found")
    return _scheme(scheme_id)
