"""Assessment cycle and funding contract (api.md "assessment-cycles", "funding")."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.api.dates import DecisionDate, FundingYear, PeriodYear, ProgrammeYear
from app.api.deps import JsonText
from app.api.v1.common import Id, Score, Strict, Timestamps, Wan

Indicator = Annotated[Decimal, JsonText, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class Adjustment(Strict):
    score: Indicator
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class CycleCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"year": 2026, "period_start_year": 2023, "period_end_year": 2025, "max_excellent_ratio": "0.2"}
            ]
        },
    )

    year: ProgrammeYear
    period_start_year: PeriodYear
    period_end_year: PeriodYear
    max_excellent_ratio: Annotated[Decimal, JsonText, Field(ge=0, le=1, max_digits=4, decimal_places=3)] | None = None
    entrusted_to_org_id: Id | None = None

    # Checked on the last field, so the 422 names a field (`year` and `period_start_year` come before it).
    @field_validator("period_end_year")
    @classmethod
    def _three_years_before_the_cycle(cls, value: int, info: ValidationInfo) -> int:
        start, year = info.data.get("period_start_year"), info.data.get("year")
        if start is not None and value != start + 2:
            raise ValueError("an assessment period spans three years: period_end_year = period_start_year + 2")
        if year is not None and year <= value - 1:
            raise ValueError("the cycle year comes after the period it assesses")
        return value


class CycleRead(Timestamps):
    id: uuid.UUID
    year: int
    period_start_year: int
    period_end_year: int
    max_excellent_ratio: Decimal | None
    entrusted_to_org_id: uuid.UUID | None
    rule_set: str
    status: str
    allowed_actions: list[str] = Field(default_factory=list)
    decided_on: date | None
    finalized_at: datetime | None
    # Every center of the cycle (api.md fixes this list in the cycle's answer): fixed when the cycle opens, at most the
    # recognized centers of the province; the results themselves are read a page at a time.
    center_ids: list[uuid.UUID] = Field(default_factory=list)


class ResultPut(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "score": "85.00",
                    "indicators": {
                        "rd_investment": "90",
                        "st_results": "80",
                        "talent_team": "80",
                        "research_projects": "85",
                        "industry_academia_cooperation": "85",
                    },
                }
            ]
        },
    )

    score: Annotated[Decimal, JsonText, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
    indicators: Annotated[dict[Annotated[str, Field(max_length=64)], Indicator], Field(max_length=20)] | None = Field(
        default=None,
        description="Indicator values 0–100; when given, score must equal their weighted sum "
        "(R&D investment 40, S&T results 30, talent team 10, projects 10, cooperation 10).",
    )
    rd_investment_reported: bool = Field(
        default=True,
        description="False: no R&D investment in the cycle, which makes the grade unqualified whatever the score. "
        "Only this flag says so: an rd_investment indicator of 0 is a score like any other.",
    )
    from_proposal: bool = Field(
        default=False,
        description="True: the indicators are the assessment scheme's proposal (`GET …/results/{center_id}/"
        "proposal`), each replaced by its `adjustments` entry if any; leave `indicators` out. 409 "
        "`proposal-incomplete` while the proposal cannot be computed. The result keeps the computed scores too.",
    )
    adjustments: Annotated[dict[Annotated[str, Field(max_length=64)], Adjustment], Field(max_length=20)] | None = Field(
        default=None, description="Only with `from_proposal`: indicator → the evaluator's score and reason."
    )

    @field_validator("from_proposal")
    @classmethod
    def _not_both(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("indicators") is not None:
            raise ValueError("with from_proposal the indicators come from the proposal: leave indicators out")
        return value

    @field_validator("adjustments")
    @classmethod
    def _with_proposal(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and not info.data.get("from_proposal"):
            raise ValueError("adjustments apply to the proposal: send from_proposal: true")
        return value


class RecordedAdjustment(BaseModel):
    computed: Score
    adjusted: Score
    reason: str


class RecordedProposal(BaseModel):
    """What a result recorded from the proposal keeps: the scheme, every computed indicator score and the computed
    total, and each adjustment with the computed value it replaced and the reason."""

    scheme: str
    computed: dict[str, str]
    computed_score: Score
    adjustments: dict[str, RecordedAdjustment]


class ResultRead(BaseModel):
    cycle_id: uuid.UUID
    center_id: uuid.UUID
    score: Score | None
    indicators: dict[str, str] | None
    rd_investment_reported: bool
    recorded_at: datetime | None
    grade: str | None
    consequence: str | None
    proposal: RecordedProposal | None = Field(
        default=None, description="Set when the result was recorded from the scheme's proposal (`from_proposal`)."
    )


class FinalizeBody(Strict):
    absent_center_ids: Annotated[list[Id], Field(max_length=10_000)] = Field(
        default_factory=list,
        description="Live centers of the cycle that did not take part without cause: they are revoked. A center "
        "revoked or exited during the cycle is skipped, never absent.",
    )
    decided_on: DecisionDate | None = None


class FinalizedRead(BaseModel):
    center_id: uuid.UUID
    code: str
    score: Score | None
    grade: str | None
    consequence: str
    status: str


class FinalizeRead(BaseModel):
    cycle: CycleRead
    results: list[FinalizedRead]


class CandidateRead(BaseModel):
    rank: int
    center_id: uuid.UUID
    code: str
    name: str
    score: Score


class FundingCreate(Strict):
    kind: Literal["construction", "post_subsidy", "stable_support"]
    amount_wan: Wan
    year: FundingYear
    decision_ref: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("amount_wan")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("amount_wan must be greater than 0")
        return value


class FundingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    center_id: uuid.UUID
    kind: str
    amount_wan: Wan
    year: int
    decision_ref: str
    created_at: datetime


class FundingSummaryRow(BaseModel):
    kind: str
    field: str
    total_wan: Wan
    count: int


class FundingSummary(BaseModel):
    year: int | None
    rows: list[FundingSummaryRow]
    totals_by_kind: dict[str, Any]


class ProposalInput(BaseModel):
    report_id: uuid.UUID
    period_year: int
    field: str = Field(
        description="The figure read: a field of `figures`, `projects[i].level|amount` or "
        "`kpi_actuals.<code>` (empty value: no actual reported)."
    )
    value: str


class ProposalPart(BaseModel):
    code: str
    share: int = Field(description="% of the indicator.")
    value: str = Field(description="What the part measured, before the curve.")
    score: Score
    formula: str
    inputs: list[ProposalInput]


class ProposalIndicator(BaseModel):
    code: str
    weight: int
    score: Score = Field(description="Σ part score × share / 100, rounded half up to 0.01.")
    parts: list[ProposalPart]


class ProposalMissing(BaseModel):
    reason: Literal["no-report", "not-accepted", "no-figures", "no-task-book-targets"]
    period_year: int | None
    report_id: uuid.UUID | None
    status: str | None


class ProposalRead(BaseModel):
    cycle_id: uuid.UUID
    center_id: uuid.UUID
    scheme: str
    complete: bool = Field(description="False: `missing` says what is lacking; no score is proposed.")
    missing: list[ProposalMissing]
    indicators: list[ProposalIndicator]
    indicator_values: dict[str, Score] = Field(description="Indicator → score, ready for `PUT …/results/{center_id}`.")
    score: Score | None = Field(description="The weighted total (rule set weights), rounded half up to 0.01.")
    grade: str | None = Field(
        description="The grade the score implies by the rule set's bands, before the cycle's "
        "hard floor and excellent cap, which only finalizing applies."
    )
