"""Organization contract (api.md: name, credit_code, kind, region, supervisor_id, is_leading_enterprise, zones,
registered_on)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from app.api.dates import RegistrationDate
from app.api.v1.common import Id, OrgKind, ShortText, Strict, Timestamps, ZoneCode, omitted

CreditCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        examples=["91410100MA9F2XXXXX"],
        description="统一社会信用代码, 18 characters, check character per GB 32100-2015",
    ),
]

EXAMPLE: dict[str, Any] = {
    "name": "郑州智能装备研究院有限公司",
    "credit_code": "91350100M000100Y43",
    "kind": "enterprise",
    "region": "郑州市",
    "supervisor_id": None,
    "is_leading_enterprise": True,
    "zones": ["zhengluoxin"],
    "registered_on": "2015-03-01",
}


class OrganizationCreate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    name: ShortText
    credit_code: CreditCode
    kind: OrgKind
    region: Annotated[str, Field(max_length=100)] | None = None
    supervisor_id: Id | None = None
    is_leading_enterprise: bool = False
    zones: Annotated[list[ZoneCode], Field(max_length=10)] = Field(default_factory=list)
    registered_on: RegistrationDate | None = None


class OrganizationUpdate(Strict):
    """Send only what changes. `region`, `supervisor_id` and `registered_on` may be cleared with null; the other
    fields may not (the schema leaves null out of them, and the API answers 422)."""

    name: ShortText = omitted()
    credit_code: CreditCode = omitted()
    kind: OrgKind = omitted()
    region: Annotated[str, Field(max_length=100)] | None = None
    supervisor_id: Id | None = None
    is_leading_enterprise: bool = omitted()
    zones: Annotated[list[ZoneCode], Field(max_length=10)] = omitted()
    registered_on: RegistrationDate | None = None


class OrganizationRead(Timestamps):
    id: uuid.UUID
    name: str
    credit_code: str
    kind: str
    region: str | None
    supervisor_id: uuid.UUID | None
    is_leading_enterprise: bool
    zones: list[str]
    registered_on: date | None
