"""Expert contract (api.md: name, category, fields, affiliation_org_id, declared_conflict_org_ids)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, Field

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


class ExpertUpdate(Strict):
    """Send only what changes; only `affiliation_org_id` may be cleared with null."""

    name: ShortText = omitted()
    category: ExpertCategory = omitted()
    fields: Annotated[list[FieldCode], Field(max_length=9)] = omitted()
    affiliation_org_id: Id | None = None
    declared_conflict_org_ids: Annotated[list[Id], Field(max_length=100)] = omitted()


class ExpertRead(Timestamps):
    id: uuid.UUID
    name: str
    category: str
    fields: list[str]
    affiliation_org_id: uuid.UUID | None
    declared_conflict_org_ids: list[uuid.UUID]
