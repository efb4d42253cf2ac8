"""Webhooks: which feed events a subscription takes, how a delivery is signed, and when a failed one is retried.

The signature scheme follows the common "timestamp.body" HMAC pattern: the receiver recomputes
`HMAC-SHA256(secret, f"{X-TIC-Timestamp}.{raw body}")`, compares it in constant time with `X-TIC-Signature`
(`sha256=<hex>`) and refuses timestamps too far from its clock, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-TIC-Signature"
TIMESTAMP_HEADER = "X-TIC-Timestamp"
EVENT_ID_HEADER = "X-TIC-Event-Id"
EVENT_TYPE_HEADER = "X-TIC-Event-Type"

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "cancelled")
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}` keyed with the webhook's secret."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_seconds: float = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within `tolerance_seconds` of `now`."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance_seconds
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def subscribes(event_types: Sequence[str], event_type: str) -> bool:
    """An empty list takes every event type."""
    return not event_types or event_type in event_types


def retry_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): base, 2·base, 4·base, ... never above the cap."""
    return float(min(max_seconds, base_seconds * 2 ** min(attempt - 1, 62)))


def target_url_problem(url: str) -> str | None:
    """Why `url` cannot receive deliveries, or None. Only absolute http(s) URLs; no fragment, no embedded spaces."""
    if url != url.strip() or any(c.isspace() for c in url):
        return "the URL must not contain whitespace"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        return "the URL is malformed"
    if parts.scheme.lower() not in ("http", "https"):
        return "the URL must use http or https"
    if not parts.hostname:
        return "the URL must name a host"
    if parts.fragment:
        return "the URL must not have a fragment"
    return None


def event_type_problem(event_type: str) -> str | None:
    """Event types are dotted lowercase names such as `center.recognized`."""
    if not _EVENT_TYPE.match(event_type):
        return "an event type is a dotted lowercase name such as 'center.recognized'"
    return None
