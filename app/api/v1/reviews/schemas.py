"""Expert review contract: panel, scores, site visits and the review view."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.dates import SiteVisitDate
from app.api.deps import JsonText
from app.api.v1.common import Id, Score, Strict
from app.domain.draws import DEFAULT_BACKUPS

Criterion = Annotated[Decimal, JsonText, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class PanelPut(Strict):
    """The panel's experts; during review also the `reason` for replacing members who have not scored."""

    expert_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class PanelRead(BaseModel):
    application_id: uuid.UUID
    expert_ids: list[uuid.UUID]


class Criteria(Strict):
    """Five criteria matching the plan; maxima come from the rule set (30, 25, 20, 15, 10 by default)."""

    foundation: Criterion
    goals_and_tasks: Criterion
    organization_and_governance: Criterion
    funding: Criterion
    schedule: Criterion


class ScorePut(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "criteria": {
                        "foundation": 26,
                        "goals_and_tasks": 20,
                        "organization_and_governance": 16,
                        "funding": 12,
                        "schedule": 8,
                    },
                    "opinion": "基础扎实，目标明确。",
                    "support": True,
                }
            ]
        },
    )

    criteria: Criteria
    opinion: Annotated[str, Field(min_length=1, max_length=5000)]
    support: bool


class ScoreRead(BaseModel):
    criteria: dict[str, str]
    total: str
    opinion: str
    support: bool
    updated_at: datetime
    expert_id: uuid.UUID | None = None


class SiteVisitCreate(Strict):
    visited_on: SiteVisitDate
    members: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=50)]
    findings: Annotated[str, Field(min_length=1, max_length=20_000)]


class SiteVisitRead(BaseModel):
    id: uuid.UUID
    visited_on: date
    members: list[str] | None = None
    findings: str


# Its lists are bounded: the panel (≤ 50 experts, PanelPut), one score and one opinion per member, and at most
# MAX_SITE_VISITS (20) site visits per application (app.domain.review).
class ReviewRead(BaseModel):
    """The province sees panel and every score; an expert only its own score; after conclusion the lead, its
    supervisor and observers see the aggregate, the verdict and the opinions, never who scored what."""

    application_id: uuid.UUID
    status: str
    concluded: bool
    aggregate_score: Score | None
    passed: bool | None
    panel_size: int
    scores_received: int
    panel: list[dict[str, Any]] | None = None
    scores: list[ScoreRead] | None = None
    my_score: ScoreRead | None = None
    opinions: list[dict[str, Any]] | None = None
    site_visits: list[SiteVisitRead]
    scores_due_on: date | None = None


class DrawCreate(Strict):
    """A draw's parameters, all optional: `size` (the rule set's minimum panel, 5, by default; at most 15),
    `backups` (2 by default; at most 10) and `category_mix`, the least number of experts of each category (one each
    of technical, financial and management by default; each must stay at least 1)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"size": 7, "backups": 2, "category_mix": {"technical": 4, "financial": 1, "management": 1}}]
        },
    )

    size: Annotated[int, Field(ge=1, le=50)] | None = None
    backups: Annotated[int, Field(ge=0, le=50)] = DEFAULT_BACKUPS
    category_mix: Annotated[dict[str, Annotated[int, Field(ge=0, le=50)]], Field(max_length=3)] | None = None


class PoolEntryRead(BaseModel):
    ref: str
    category: str
    fields: list[str]
    active: bool
    conflicted: bool
    load: int


class DrawRead(BaseModel):
    """A panel draw and its re-run. Experts appear under per-draw pseudonyms (`ref`); only the province also gets
    `experts`, the pseudonym → expert id map, and the reasons given for declining."""

    draw_id: uuid.UUID
    application_id: uuid.UUID
    round: int
    drawn_at: datetime
    seed: str
    seed_hash: str
    pool_digest: str
    params: dict[str, Any]
    pool: list[PoolEntryRead]
    members: list[str]
    backups: list[str]
    recomputed_members: list[str]
    recomputed_backups: list[str]
    reproduced: bool
    replacements: list[dict[str, Any]]
    experts: dict[str, uuid.UUID] | None = None


class InvitationDecline(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class InvitationRead(BaseModel):
    application_id: uuid.UUID
    status: str
