"""Schema building blocks shared by the v1 resources."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from app.domain import reference


def _member_of(name: str, allowed: tuple[str, ...]) -> Any:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{name} must be one of: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def code_type(name: str, table: tuple[reference.Code, ...]) -> Any:
    allowed = reference.codes(table)
    return Annotated[
        str, _member_of(name, allowed), WithJsonSchema({"type": "string", "enum": list(allowed), "title": name})
    ]


FieldCode = code_type("field", reference.FIELDS)
ZoneCode = code_type("zone", reference.ZONES)
OrgKind = code_type("organization kind", reference.ORG_KINDS)
FormationMode = code_type("formation mode", reference.FORMATION_MODES)
ExpertCategory = code_type("expert category", reference.EXPERT_CATEGORIES)
ProjectLevel = code_type("level", reference.PROJECT_LEVELS)
RevocationReason = code_type("revocation reason", reference.REVOCATION_REASONS)


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('amounts in 万元 are decimal strings such as "4000.00", never binary floats')
    return value


# Money in 万元 travels as a decimal string ("4000.00"); input accepts a string or an integer, never a float.
Wan = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(max_digits=14, decimal_places=2, ge=0),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "examples": ["4000.00"]}),
]
Score = Annotated[
    Decimal,
    Field(max_digits=6, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$", "examples": ["75.00"]}),
]

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=50_000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a clear 422 and not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Timestamps(ReadModel):
    version: int
    created_at: datetime
    updated_at: datetime


class ActionBody(Strict):
    """Optional body of a lifecycle action."""

    reason: Reason | None = None


class BlockerRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(examples=["wrong-state"])
    message_zh: str
    message_en: str


class ActionRead(BaseModel):
    """One action of a lifecycle as this caller sees it now."""

    action: str
    allowed: bool
    blocked_by: list[BlockerRead]


def action_reads(views: Any) -> list[ActionRead]:
    return [
        ActionRead(action=v.action, allowed=v.allowed, blocked_by=[BlockerRead(**b.as_dict()) for b in v.blocked_by])
        for v in views
    ]


class TransitionRead(ReadModel):
    action: str
    from_status: str | None
    to_status: str
    actor_sub: str
    actor_role: str
    reason: str | None
    decision_date: date | None
    occurred_at: datetime
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="What the decision recorded (old and new values, the decision's SHA-256, ...).",
    )


def omitted() -> Any:
    """Default of a PATCH field that may be left out but not set to null: the schema documents only the real type,
    an explicit null fails validation at the field's own loc, and `exclude_unset` tells what was sent."""
    return Field(default=None)
