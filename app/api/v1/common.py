"""Schema building blocks shared by the v1 resources."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.api.deps import JsonText
from app.domain import reference

# Request bodies are validated in strict mode (see `Strict`), which would refuse every value JSON can only carry as
# text: ids, dates and decimals are marked `JsonText` so that they parse from it, as their documented schema says.
Id = Annotated[uuid.UUID, JsonText]


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
    JsonText,
    BeforeValidator(_no_float),
    Field(max_digits=14, decimal_places=2, ge=0),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "examples": ["4000.00"]}),
]
Score = Annotated[
    Decimal,
    JsonText,
    Field(max_digits=6, decimal_places=2),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$", "examples": ["75.00"]}),
]

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=50_000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is a clear 422 and not a silent no-op; and they are strict, so
    `"2027"` or `2027.0` is not an integer and `"true"` is not a boolean. Types JSON carries as text (ids, decimals,
    dates) are marked `JsonText` (`Id`, `Wan`, `IsoDate`, ...); tests/unit/test_request_models.py checks none is
    left out. Query parameters are not models: they arrive as text and parse as before."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- free-form JSON --------------------------------------------------------------------------------------------------

MAX_FREE_JSON_DEPTH = 8
MAX_FREE_JSON_BYTES = 64 * 1024


def json_depth(value: Any) -> int:
    """How deep arrays and objects nest (a scalar is 0, `[1]` is 1); iterative, so no input can exhaust the stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        if depth + 1 > MAX_FREE_JSON_DEPTH:
            return depth + 1  # deep enough to refuse; no need to walk the rest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _bounded(value: Any) -> Any:
    depth = json_depth(value)
    if depth > MAX_FREE_JSON_DEPTH:
        raise PydanticCustomError(
            "json_too_deep",
            "nests deeper than {limit} levels of arrays and objects",
            {"limit": MAX_FREE_JSON_DEPTH},
        )
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode())
    except ValueError as exc:  # NaN or Infinity: Python's JSON reader takes them, JSON and PostgreSQL do not
        raise PydanticCustomError("json_not_finite", "NaN and Infinity are not JSON numbers") from exc
    if size > MAX_FREE_JSON_BYTES:
        raise PydanticCustomError(
            "json_too_large",
            "is {size} bytes as JSON; at most {limit} are allowed",
            {"size": size, "limit": MAX_FREE_JSON_BYTES},
        )
    return value


# A field whose shape the service judges (a change request's `new_value`): any JSON, bounded in depth and size so
# that neither serializing, hashing nor storing it can fail on what a client sent.
FreeJson = Annotated[Any, AfterValidator(_bounded)]


class Participant(Strict):
    """A joint builder (参建单位) of an application or a center; the lead is not repeated among them (api.md)."""

    org_id: Id
    role: Annotated[str, Field(min_length=1, max_length=50, examples=["参建单位"])] = "参建单位"


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
