"""Webhook contract: a province subscription of a URL to feed events, and the log of its deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from app.api.v1.common import ReadModel, Strict, Timestamps
from app.domain.webhooks import EVENT_TYPE_PATTERN, delivery_error, redact_credentials, url_refusal


def _target_url(value: str) -> str:
    refusal = url_refusal(value)
    if refusal is not None:
        # The refusal's type (url_scheme, url_credentials, url_fragment, ...) is the error's stable `type`.
        raise PydanticCustomError(refusal.type, refusal.message)
    return value


TargetUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        json_schema_extra={"format": "uri"},
        examples=["https://example.org/tic"],
        description="Where deliveries are POSTed: https (http outside production), no credentials, no fragment. "
        "Its host must resolve, and only to public addresses, unless the operator allow-lists it "
        "(TIC_WEBHOOK_ALLOWED_HOSTS). Refusals answer 422 on `url` with a stable `type`: `url_malformed`, "
        "`url_scheme`, `url_https_required`, `url_credentials`, `url_fragment`, `url_host_unresolvable`, "
        "`url_address_refused`.",
    ),
    AfterValidator(_target_url),
]
EventType = Annotated[
    str, Field(min_length=1, max_length=64, pattern=EVENT_TYPE_PATTERN, examples=["center.recognized"])
]
Secret = Annotated[str, Field(min_length=16, max_length=200)]
# The domain's DELIVERY_STATUSES, spelled out for the contract.
DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]
# The domain's DELIVERY_ERRORS, spelled out for the contract.
DeliveryError = Literal[
    "refused_url",
    "refused_address",
    "dns_error",
    "connect_error",
    "timeout",
    "tls_error",
    "protocol_error",
    "redirect_refused",
    "http_status",
    "secret_unreadable",
    "error",
]
# What a replay of the creating request (same Idempotency-Key) answers instead of the secret: shorter than any
# secret (16 characters at least), so it cannot be taken for one.
SECRET_MASK = "********"


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
    # Rows from before credentials were refused still hold them: they are never shown.
    url: Annotated[str, AfterValidator(redact_credentials)]
    event_types: list[str]
    created_by: str
    cursor_seq: int = Field(
        description=(
            "The last feed seq dispatched to this webhook. At creation, the feed head then: the webhook's own"
            " `webhook.created` event is placed by the sequencer moments after the commit, and the first dispatch"
            " moves the cursor to it. Deliveries start with the next event after that one."
        )
    )


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="Shown once: store it to verify `X-TIC-Signature`. The service keeps it only encrypted. A replay "
        f"of this request (same `Idempotency-Key`, answered with `Idempotent-Replayed: true`) shows `{SECRET_MASK}` "
        "instead."
    )


class DeliveryRead(ReadModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_seq: int
    event_type: str
    subject_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: Annotated[
        DeliveryError | None,
        BeforeValidator(delivery_error),
        Field(
            description="Why the last attempt failed, as a category (never the error's text): the target was refused "
            "by policy (`refused_url`, `refused_address`), `dns_error`, `connect_error`, `timeout`, `tls_error`, "
            "`protocol_error`, a 3xx answer (`redirect_refused`: redirects are not followed), another non-2xx answer "
            "(`http_status`, see `last_status_code`), `secret_unreadable` (an operator matter), or `error`."
        ),
    ]
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
