"""The inbox's contract (issue 17 §3)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from app.domain.inbox import KINDS


class InboxSubject(BaseModel):
    type: str = Field(description="application, annual_report, change_request, center or assessment_cycle.")
    id: uuid.UUID
    name: str


class InboxAction(BaseModel):
    method: str
    path: str = Field(description="The operation that does the item, e.g. /api/v1/applications/{id}/recommend.")


class InboxItem(BaseModel):
    kind: str = Field(description="A stable code: " + ", ".join(f"`{kind}`" for kind in KINDS) + ".")
    subject: InboxSubject
    due_on: date | None = Field(description="The date the rule sets for it; null where no rule dates the step.")
    overdue: bool = Field(description="`as_of` is after `due_on`.")
    action: InboxAction
    title_zh: str
    title_en: str


class InboxRead(BaseModel):
    as_of: date
    items: list[InboxItem]
    next_cursor: str | None = Field(description="Pass as `cursor` to read the next page; null on the last page.")
