"""Call contract (api.md: year, title, fields, opens_on, closes_on, rule_set)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator

from app.api.dates import CallDate, ProgrammeYear
from app.api.v1.common import FieldCode, ReadModel, Strict, Timestamps
from app.domain.reference import FIELDS, codes
from app.domain.rulesets import DEFAULT_RULE_SET, RULE_SETS

RuleSetName = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(RULE_SETS)})]


class CallCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "title": "2026年度河南省技术创新中心申报通知",
                    "fields": ["equipment_manufacturing"],
                    "opens_on": "2026-03-01",
                    "closes_on": "2026-04-30",
                    "rule_set": "henan-2021",
                }
            ]
        },
    )

    year: ProgrammeYear
    title: Annotated[str, Field(min_length=1, max_length=300)]
    fields: Annotated[list[FieldCode], Field(description="Fields open in this call; empty means every field.")] = Field(
        default_factory=lambda: list(codes(FIELDS))
    )
    opens_on: CallDate
    closes_on: CallDate
    rule_set: RuleSetName = DEFAULT_RULE_SET

    @field_validator("closes_on")
    @classmethod
    def _window(cls, value: date, info: ValidationInfo) -> date:
        opens_on = info.data.get("opens_on")
        if opens_on is not None and value < opens_on:
            raise ValueError("closes_on must not be before opens_on")
        return value

    @field_validator("rule_set")
    @classmethod
    def _known_rule_set(cls, value: str) -> str:
        if value not in RULE_SETS:
            raise ValueError(f"rule_set must be one of: {', '.join(sorted(RULE_SETS))}")
        return value

    @field_validator("fields")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class CallRead(Timestamps):
    id: uuid.UUID
    year: int
    title: str
    fields: list[str]
    opens_on: date
    closes_on: date
    rule_set: str
    status: str
    allowed_actions: list[str] = Field(default_factory=list)


def call_read(record: Any, allowed: list[str]) -> CallRead:
    out = CallRead.model_validate(record)
    out.allowed_actions = allowed
    return out


__all__ = ["CallCreate", "CallRead", "ReadModel", "call_read"]
