"""Official documents (公文): the versioned contract."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class DocumentSubject(BaseModel):
    type: Literal["application", "center"]
    id: uuid.UUID
    name: str


class DocumentRead(BaseModel):
    """An issued document. `content` is the decision's canonical data; `sha256` is the SHA-256 of its canonical JSON
    (sorted keys, UTF-8, no spaces), the same digest the feed event of the decision records (`decision_sha256`, and
    `document.sha256` next to the document's id and number)."""

    id: uuid.UUID
    kind: Literal["approval", "recognition", "rectification", "revocation"] = Field(
        description="approval 批复 (application approve), recognition 认定 (center recognize), rectification 整改通知 "
        "(a failed acceptance or an assessment that requires rectification), revocation 撤销 (center revoke)."
    )
    kind_label: str = Field(examples=["批复"])
    title: str = Field(examples=["河南省科学技术厅关于同意建设河南省某技术创新中心的批复"])
    number: str = Field(examples=["豫科〔2026〕17号"])
    year: int
    seq: int | None = Field(description="The register's N within (prefix, year); null for an external number.")
    external: bool = Field(description="True when the number was given by the caller (issued outside the register).")
    issued_on: date = Field(description="The decision date.")
    subject: DocumentSubject
    application_id: uuid.UUID | None
    center_id: uuid.UUID | None
    content: dict[str, Any]
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    event_seq: int | None = Field(
        default=None, description="The feed seq of the event that records the decision (single reads only)."
    )
    pdf_url: str = Field(description="Where the PDF rendering is downloaded.")
    created_at: datetime
