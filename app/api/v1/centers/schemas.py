"""Center contract (api.md: code, name, field, lead_org_id, status, construction dates, legal_entity, governance,
grade; task book, annual reports, change requests, import, obligations)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.api.dates import ConstructionEnd, ConstructionStart, DecisionDate, RecordedDecisionDate, ReportYear
from app.api.deps import JsonText
from app.api.trusted import constructor
from app.api.v1.annual_reports.schemas import AnnualFigures
from app.api.v1.common import (
    FieldCode,
    FreeJson,
    Id,
    Participant,
    ReadModel,
    RevocationReason,
    ShortText,
    Strict,
    Timestamps,
    Wan,
    omitted,
)
from app.domain import dates
from app.domain.rulesets import DEFAULT_RULE_SET, RULE_SETS

Name = Annotated[str, Field(min_length=1, max_length=100)]
KpiValue = Annotated[Decimal, JsonText, Field(max_digits=16, decimal_places=4)]
# Keyed by the task book's target codes: as many as a task book has targets, as long as a target code may be.
KpiActuals = Annotated[dict[Annotated[str, Field(max_length=32)], KpiValue], Field(max_length=200)]


class LegalEntity(Strict):
    status: Literal["none", "relatively_independent", "independent"] = "none"
    kind: Literal["enterprise", "public_institution"] | None = None
    credit_code: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class Governance(Strict):
    board: Annotated[list[Name], Field(max_length=100)] = Field(default_factory=list)
    director: Name | None = None
    expert_committee: Annotated[list[Name], Field(max_length=100)] = Field(default_factory=list)
    technical_committee: Annotated[list[Name], Field(max_length=100)] = Field(default_factory=list)


class CenterUpdate(Strict):
    """Send only what changes; `legal_entity` and `governance` may not be null (422), the agency may be cleared."""

    legal_entity: LegalEntity = omitted()
    governance: Governance = omitted()
    acceptance_agency_org_id: Id | None = Field(
        default=None, description="The third-party agency entrusted with the acceptance (province only)."
    )


class Target(Strict):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", examples=["T1"])]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    unit: Annotated[str, Field(min_length=1, max_length=32)]
    target_value: Annotated[Decimal, JsonText, Field(ge=0, max_digits=16, decimal_places=4)]


class FundingPlan(Strict):
    provincial_wan: Wan = Decimal("0")
    self_raised_wan: Wan = Decimal("0")
    other_wan: Wan = Decimal("0")


class TaskBook(Strict):
    """The target task book (建设目标任务书): measurable targets, funding plan, construction start and end."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "targets": [{"code": "T1", "name": "发明专利授权", "unit": "件", "target_value": "30"}],
                    "funding_plan": {"provincial_wan": "1000.00", "self_raised_wan": "5000.00", "other_wan": "0.00"},
                    "starts_on": "2026-09-01",
                    "ends_on": "2029-08-31",
                }
            ]
        },
    )

    targets: Annotated[list[Target], Field(min_length=1, max_length=200)]
    funding_plan: FundingPlan
    starts_on: ConstructionStart
    ends_on: ConstructionEnd | None = Field(
        default=None, description="Defaults to 3 years after starts_on, less one day."
    )


class CenterRead(Timestamps):
    id: uuid.UUID
    code: str
    name: str
    field: str
    lead_org_id: uuid.UUID
    participants: list[dict[str, Any]]
    application_id: uuid.UUID | None
    rule_set: str
    status: str
    allowed_actions: list[str] = Field(default_factory=list)
    approved_on: date
    approval_document_no: str
    research_direction: str | None
    construction_starts_on: date | None
    construction_ends_on: date | None
    extension_months: int | None
    extension_requested_on: date | None = Field(description="A pending extension request: when the lead asked.")
    extension_requested_months: int | None
    task_book: dict[str, Any] | None
    task_book_version: int = Field(description="1 when signed; each approved task_book change adds one.")
    task_book_signed_at: datetime | None
    task_book_sha256: str | None
    legal_entity: dict[str, Any]
    governance: dict[str, Any]
    acceptance_agency_org_id: uuid.UUID | None
    acceptance_requested_on: date | None
    acceptance_failures: int
    accepted_on: date | None = Field(description="The date of the passed acceptance verdict (验收通过).")
    rectifying_kind: str | None
    rectification_due_on: date | None
    grade: str | None
    graded_in_cycle_id: uuid.UUID | None
    grade_history: list[dict[str, Any]]
    recognized_on: date | None
    recognition_no: str | None
    recognition_document_no: str | None = Field(
        default=None,
        description="The number of the recognition document (认定): the register's next number when `recognize` was "
        "called without `document_no`, the given one otherwise (GET …/documents lists the document).",
    )
    revoked_on: date | None
    revocation_reason_code: str | None
    exit_requested_on: date | None
    exited_on: date | None
    imported: bool


def center_read(record: Any, allowed: list[str]) -> CenterRead:
    out = CenterRead.model_validate(record)
    out.allowed_actions = allowed
    return out


_CENTER_READ_FIELDS = tuple(name for name in CenterRead.model_fields if name != "allowed_actions")
_construct_center_read = constructor(CenterRead)


def center_read_row(row: Mapping[Any, Any], allowed: list[str]) -> CenterRead:
    """A center read from a lean read's row (app.services.centers.read): its columns are already the contract's
    types (dates, UUIDs, decoded JSONB), so the model is built without validating them a second time
    (app/api/trusted.py)."""
    values = {name: row[name] for name in _CENTER_READ_FIELDS}
    values["allowed_actions"] = allowed
    return _construct_center_read(values)


class CenterActionBody(Strict):
    """Body of a center action: `request_extension` months and reason; `extend` months, reason and decided_on;
    `decline_extension` reason; `record_acceptance` result, decided_on and by_org_id; `recognize` decided_on and
    optionally document_no (omitted: the register issues the next number); `record_rectification_review` result
    and decided_on; `revoke` reason_code, reason and decided_on;
    `request_exit` and `decline_exit` reason; `exit` decided_on."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    decided_on: DecisionDate | None = None
    months: Annotated[int, Field(ge=1, le=12)] | None = None
    result: Literal["passed", "failed"] | None = None
    by_org_id: Id | None = None
    reason_code: RevocationReason | None = None
    document_no: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=100,
                examples=["豫科〔2026〕88号"],
                description="recognize: an externally issued document number; omit it to have the register issue one.",
            ),
        ]
        | None
    ) = None
    recover_funds: bool | None = Field(default=None, description="With reason_code fraud: order recovery of funds.")


class CenterImport(Strict):
    """A center that exists on paper (recognized or under construction before this service went live)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "河南省某技术创新中心",
                    "field": "equipment_manufacturing",
                    "lead_org_id": "00000000-0000-0000-0000-000000000000",
                    "status": "under_construction",
                    "approved_on": "2022-06-01",
                    "document_no": "豫科〔2022〕50号",
                    "construction_starts_on": "2022-12-01",
                    "construction_ends_on": "2025-11-30",
                }
            ]
        },
    )

    name: ShortText
    field: FieldCode
    lead_org_id: Id
    participants: Annotated[list[Participant], Field(max_length=50)] = Field(default_factory=list)
    status: Literal["under_construction", "recognized"]
    approved_on: RecordedDecisionDate
    document_no: Annotated[str, Field(min_length=1, max_length=100)]
    construction_starts_on: ConstructionStart
    construction_ends_on: ConstructionEnd | None = None
    recognized_on: RecordedDecisionDate | None = Field(default=None, validate_default=True)
    recognition_no: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    task_book: TaskBook | None = None
    rule_set: str = DEFAULT_RULE_SET

    @field_validator("rule_set")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in RULE_SETS:
            raise ValueError(f"rule_set must be one of: {', '.join(sorted(RULE_SETS))}")
        return value

    # The dates' order is checked field by field, so a 422 names the field at fault (the fields come in this order).
    @field_validator("construction_starts_on")
    @classmethod
    def _starts_after_approval(cls, value: date, info: ValidationInfo) -> date:
        approved_on = info.data.get("approved_on")
        if approved_on is not None and value < approved_on:
            raise ValueError("construction_starts_on must not be before approved_on")
        return value

    @field_validator("construction_ends_on")
    @classmethod
    def _ends_within_the_period(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("construction_starts_on")
        if (
            value is not None
            and starts_on is not None
            and (problem := dates.construction_end_problem(starts_on, value))
        ):
            raise ValueError(problem)
        return value

    @field_validator("recognized_on")
    @classmethod
    def _recognized_after_approval(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            if info.data.get("status") == "recognized":
                raise ValueError("recognized_on is required for a recognized center")
            return value
        approved_on = info.data.get("approved_on")
        if approved_on is not None and value < approved_on:
            raise ValueError("recognized_on must not be before approved_on")
        return value


class AnnualReportCreate(Strict):
    period_year: ReportYear
    summary: Annotated[str, Field(min_length=1, max_length=50_000)]
    kpi_actuals: KpiActuals = Field(
        default_factory=dict, description="Actual values keyed by the task book's target codes."
    )
    plan_next_year: Annotated[str, Field(min_length=1, max_length=50_000)]
    figures: AnnualFigures | None = Field(
        default=None,
        description="The year's structured figures. Optional, but a report without them cannot feed an assessment "
        "proposal (`GET /assessment-cycles/{id}/results/{center_id}/proposal` lists it as missing).",
    )


class AnnualReportUpdate(Strict):
    """Send only what changes; none of the fields may be null (422)."""

    summary: Annotated[str, Field(min_length=1, max_length=50_000)] = omitted()
    kpi_actuals: KpiActuals = omitted()
    plan_next_year: Annotated[str, Field(min_length=1, max_length=50_000)] = omitted()
    figures: AnnualFigures = omitted()


class AnnualReportRead(Timestamps):
    id: uuid.UUID
    center_id: uuid.UUID
    period_year: int
    summary: str
    kpi_actuals: dict[str, Any]
    figures: AnnualFigures | None = Field(
        default=None, description="The year's structured figures as filed (money as 万元 strings); null without."
    )
    plan_next_year: str
    status: str
    allowed_actions: list[str] = Field(default_factory=list)
    due_on: date
    submitted_at: datetime | None
    late: bool


class ChangeRequestCreate(Strict):
    kind: Literal["name", "lead_org", "research_direction", "director", "participants", "task_book"]
    new_value: FreeJson = Field(
        description="Text for name/research_direction/director, an organization id for lead_org, "
        "[{org_id, role}] for participants (no duplicates, not the lead), a whole task book (as for PUT "
        "…/task-book, keeping the signed construction dates) for task_book. Any JSON nesting at most 8 levels and "
        "64 KiB serialized reaches the per-kind checks."
    )
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ChangeRequestRead(Timestamps):
    id: uuid.UUID
    center_id: uuid.UUID
    kind: str
    new_value: Any
    # Any JSON value, null included (`Any | None` would publish an `anyOf` with an empty schema, which says nothing).
    old_value: Any = Field(description="The value before the change, as recorded when it was filed; null when none.")
    reason: str
    status: str
    allowed_actions: list[str] = Field(default_factory=list)
    decided_at: datetime | None


class ReasonBody(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class ObligationRead(BaseModel):
    center_id: uuid.UUID
    kind: str
    period_year: int | None
    due_on: date
    overdue: bool


class ObligationsRead(BaseModel):
    as_of: date
    items: list[ObligationRead]
    next_cursor: str | None = Field(description="Pass as `cursor` to read the next page; null on the last page.")


__all__ = ["ReadModel"]
