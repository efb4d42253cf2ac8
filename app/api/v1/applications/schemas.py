"""Application contract (api.md "Applications" and "Payload details")."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.dates import DecisionDate, ProjectYear
from app.api.deps import IsoDate
from app.api.v1.common import (
    FieldCode,
    FormationMode,
    Id,
    LongText,
    Participant,
    ProjectLevel,
    Score,
    ShortText,
    Strict,
    Timestamps,
    Wan,
    ZoneCode,
    omitted,
)

Count = Annotated[int, Field(ge=0, le=10_000_000)]


class MajorProject(Strict):
    name: ShortText
    level: ProjectLevel
    year: ProjectYear


class Platform(Strict):
    name: ShortText
    level: ProjectLevel
    field: FieldCode


class Talent(Strict):
    name: ShortText
    level: ProjectLevel
    id_number: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        default=None,
        description="ID card or passport number. Entries with the same number are one person whatever the names; "
        "without it, entries with the same name are one person.",
    )


class Team(Strict):
    name: ShortText
    leader: ShortText


class Facts(Strict):
    """What the lead declares; the eligibility rules judge it (domain.md §3)."""

    major_projects: Annotated[list[MajorProject], Field(max_length=200)] = Field(default_factory=list)
    platforms: Annotated[list[Platform], Field(max_length=200)] = Field(default_factory=list)
    ip_results_count: Count = 0
    invention_patents: Count = 0
    pct_patents: Count = 0
    cooperation_mechanism: Annotated[str, Field(max_length=20_000)] = ""
    staff_total: Count = 0
    rd_staff: Count = 0
    high_level_talents: Annotated[list[Talent], Field(max_length=500)] = Field(default_factory=list)
    high_level_teams: Annotated[list[Team], Field(max_length=200)] = Field(default_factory=list)
    rd_spend_wan: Annotated[list[Wan], Field(max_length=3, description="Last three years, oldest first (万元).")] = (
        Field(default_factory=list)
    )

    @field_validator("rd_spend_wan", mode="before")
    @classmethod
    def _no_floats(cls, value: Any) -> Any:
        # Money never travels as a binary float: "4000.00" or 4000, not 4000.0.
        if isinstance(value, list) and any(isinstance(item, float) for item in value):
            raise ValueError('amounts are decimal strings in 万元, e.g. "4000.00", never floats')
        return value


class Plan(Strict):
    """The seven sections of the construction plan (建设方案编写提纲), in order. Drafts may leave some empty."""

    background: LongText = ""
    foundation: LongText = ""
    goals_and_tasks: LongText = ""
    organization: LongText = ""
    governance: LongText = ""
    funding: LongText = ""
    schedule: LongText = ""


class ApplicationCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "call_id": "00000000-0000-0000-0000-000000000000",
                    "proposed_name": "河南省智能装备技术创新中心",
                    "field": "equipment_manufacturing",
                    "formation_mode": "enterprise_led",
                    "participants": [{"org_id": "00000000-0000-0000-0000-000000000001", "role": "参建单位"}],
                    "zones": ["zhengluoxin"],
                    "plan": {
                        "background": "…",
                        "foundation": "…",
                        "goals_and_tasks": "…",
                        "organization": "…",
                        "governance": "…",
                        "funding": "…",
                        "schedule": "…",
                    },
                    "facts": {"staff_total": 1000, "rd_staff": 100, "rd_spend_wan": ["4000.00", "4100.00", "4200.00"]},
                }
            ]
        },
    )

    call_id: Id | None = None
    fast_track: bool = False
    fast_track_basis: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    proposed_name: ShortText
    field: FieldCode
    formation_mode: FormationMode
    lead_org_id: Id | None = Field(default=None, description="Defaults to the applicant's own organization.")
    participants: Annotated[list[Participant], Field(max_length=50)] = Field(default_factory=list)
    zones: Annotated[list[ZoneCode], Field(max_length=10)] = Field(default_factory=list)
    plan: Plan = Field(default_factory=Plan)
    facts: Facts = Field(default_factory=Facts)

    # call_id / fast_track / fast_track_basis depend on each other and on the caller's role; the service checks them
    # together so that each refusal names its own field (errors[].loc), not the whole body.


class ApplicationUpdate(Strict):
    proposed_name: ShortText = omitted()
    field: FieldCode = omitted()
    formation_mode: FormationMode = omitted()
    participants: Annotated[list[Participant], Field(max_length=50)] = omitted()
    zones: Annotated[list[ZoneCode], Field(max_length=10)] = omitted()
    plan: Plan = omitted()
    facts: Facts = omitted()
    fast_track_basis: Annotated[str, Field(min_length=1, max_length=2000)] = omitted()


class FrozenAttachment(BaseModel):
    id: uuid.UUID
    kind: str
    sha256: str
    size: int


class ApplicationRead(Timestamps):
    id: uuid.UUID
    call_id: uuid.UUID | None
    fast_track: bool
    fast_track_basis: str | None
    proposed_name: str
    field: str
    formation_mode: str
    lead_org_id: uuid.UUID
    participants: list[dict[str, Any]]
    zones: list[str]
    plan: dict[str, str]
    facts: dict[str, Any]
    rule_set: str
    status: str
    allowed_actions: list[str] = Field(default_factory=list)
    submitted_at: datetime | None
    review_concluded_at: datetime | None
    aggregate_score: Score | None = None
    review_passed: bool | None
    review_round: int = Field(description="1 for the first review; 2 once re-opened on a revised plan.")
    resubmit_by: date | None = Field(description="Set by a return: resubmission is open until then.")
    decision_date: date | None
    document_no: str | None
    center_id: uuid.UUID | None
    submitted_attachments: list[FrozenAttachment] | None = Field(
        default=None,
        description="The attachments the current submission was judged on (frozen by submit); null before one.",
    )
    formal_review_outcome: Literal["complete", "incomplete"] | None = Field(
        default=None, description="The outcome of the formal review (形式审查) of the current submission, if any."
    )


class ApplicationActionBody(Strict):
    """Body of an application action. `reason` is required by return, reject and request_revision;
    `decision_date` (not in the future, not before the review concluded) by approve, with an optional `document_no`
    (omitted: the document register issues the next 豫科〔YYYY〕N号; given: an externally issued number, kept as-is and
    refused with 409 `already-exists` when a document already has it); a return may
    set `resubmit_by` (within 30 days), until which the applicant may resubmit even after the call closes."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    decision_date: DecisionDate | None = None
    document_no: (
        Annotated[
            str,
            Field(
                min_length=1,
                max_length=100,
                examples=["豫科〔2021〕116号"],
                description="approve: an externally issued document number; omit it to have the register issue one.",
            ),
        ]
        | None
    ) = None
    resubmit_by: IsoDate | None = None


class EvidenceRead(BaseModel):
    kinds: list[str] = Field(description="Attachment kinds that back the rule; any one suffices.")
    attached: bool = Field(description="An attachment of one of these kinds is in the submission (live: attached).")
    verdict: Literal["verified", "doubtful", "not_evidenced"] | None = Field(
        description="The latest formal review's verdict on the rule; null before one is recorded."
    )


class CheckRead(BaseModel):
    rule: str
    outcome: str
    expected: str
    actual: str
    message_zh: str
    message_en: str
    evidence: EvidenceRead | None = Field(
        default=None, description="What documents back this rule (formal review, 形式审查); null when none is needed."
    )


class EligibilityRead(BaseModel):
    eligible: bool
    rule_set: str
    judged_on: date
    recorded: bool = Field(description="True when this is the verdict recorded at submission.")
    checks: list[CheckRead]


def application_read(record: Any, allowed: list[str]) -> ApplicationRead:
    out = ApplicationRead.model_validate(record)
    out.allowed_actions = allowed
    return out


__all__ = ["Decimal"]
