"""Expert contract (api.md: name, category, fields, affiliation_org_id, declared_conflict_org_ids)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.api.dates import EmploymentEndDate
from app.api.v1.common import ExpertCategory, FieldCode, Id, ShortText, Strict, Timestamps, omitted


class ExpertCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "王教授",
                    "category": "technical",
                    "fields": ["equipment_manufacturing"],
                    "affiliation_org_id": None,
                    "declared_conflict_org_ids": [],
                }
            ]
        },
    )

    name: ShortText
    category: ExpertCategory
    fields: Annotated[list[FieldCode], Field(max_length=9)] = Field(default_factory=list)
    affiliation_org_id: Id | None = None
    declared_conflict_org_ids: Annotated[list[Id], Field(max_length=100)] = Field(default_factory=list)
    region: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    active: bool = True


class ExpertUpdate(Strict):
    """Send only what changes; only `affiliation_org_id` may be cleared with null."""

    name: ShortText = omitted()
    category: ExpertCategory = omitted()
    fields: Annotated[list[FieldCode], Field(max_length=9)] = omitted()
    affiliation_org_id: Id | None = None
    declared_conflict_org_ids: Annotated[list[Id], Field(max_length=100)] = omitted()
    region: Annotated[str, Field(min_length=1, max_length=100)] = omitted()
    active: bool = omitted()


class ExpertRead(Timestamps):
    id: uuid.UUID
    name: str
    category: str
    fields: list[str]
    affiliation_org_id: uuid.UUID | None
    declared_conflict_org_ids: list[uuid.UUID]
    region: str | None = None
    active: bool = True


ConflictKind = Literal["affiliation", "former_employer", "relative", "other"]


class ConflictCreate(Strict):
    """A conflict the calling expert declares with an organisation, named by `org_id` or by `credit_code` (exactly
    one). `former_employer` needs `until`, the day the expert left (it counts for three years after)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "credit_code": "91410100MA44XXXX0X",
                    "kind": "former_employer",
                    "until": "2025-06-30",
                    "note": "曾任职",
                }
            ]
        },
    )

    org_id: Id | None = None
    credit_code: Annotated[str, Field(min_length=18, max_length=18)] | None = None
    kind: ConflictKind
    until: EmploymentEndDate | None = None
    note: Annotated[str, Field(min_length=1, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _one_organisation(self) -> ConflictCreate:
        if (self.org_id is None) == (self.credit_code is None):
            raise ValueError("name the organisation by exactly one of org_id and credit_code")
        return self


class ConflictRead(BaseModel):
    id: uuid.UUID
    org_id: uuid.UUID
    credit_code: str
    kind: str
    until: date | None
    note: str | None
    declared_at: datetime
