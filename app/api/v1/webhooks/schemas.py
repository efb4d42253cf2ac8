"""Webhook contract: a province subscription of a URL to feed events, and the log of its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from app.api.v1.common import ReadModel, Strict, Timestamps
from app.domain.webhooks import EVENT_TYPE_PATTERN, target_url_problem


def _target_url(value: str) -> str:
    problem = target_url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


TargetUrl = Annotated[
    str,
    Field(min_length=1, max_length=2000, json_schema_extra={"format": "uri"}, examples=["https://example.org/tic"]),
    AfterValidator(_target_url),
]
EventType = Annotated[
    str, Field(min_length=1, max_length=64, pattern=EVENT_TYPE_PATTERN, examples=["center.recognized"])
]
Secret = Annotated[str, Field(min_length=16, max_length=200)]
# The domain's DELIVERY_STATUSES, spelled out for the contract.
DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]


class WebhookCreate(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://example.org/tic-events", "event_types": ["center.recognized", "center.revoked"]}
            ]
        },
    )

    url: TargetUrl
    event_types: Annotated[
        list[EventType],
        Field(max_length=100, description="Feed event types to deliver; empty (the default) delivers every type."),
    ] = Field(default_factory=list)
    secret: Secret | None = Field(
        default=None,
        description="The HMAC key for `X-TIC-Signature`; the service generates one when omitted. It is answered only "
        "in this response and never again.",
    )


class WebhookRead(Timestamps):
    id: uuid.UUID
    url: str
    event_types: list[str]
    created_by: str
    cursor_seq: int = Field(description="The last feed seq dispatched to this webhook.")


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: store it to verify `X-TIC-Signature`.")


class DeliveryRead(ReadModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_seq: int
    event_type: str
    subject_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
