"""Webhooks: the province subscribes a URL to feed events; workers dispatch the feed to deliveries and send them.

Dispatch (one transaction per webhook, its row locked with SKIP LOCKED so concurrent workers split the webhooks):
feed events after `cursor_seq` become pending deliveries, each with one queue job, and the cursor moves past them.
A delivery's job runs under the lock `"{webhook_id}:{subject_id}"`, so one subject's events arrive in seq order,
a retrying delivery holding back the later ones. Sending is at least once: a receiver dedupes on `X-TIC-Event-Id`.

Targets are checked against the policy at registration and again by the worker's client on every connection
(app.services.webhook_targets); secrets are stored encrypted (app.services.secret_box).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import EventRecord, WebhookDeliveryRecord, WebhookRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import events as events_repo
from app.db.repositories import webhooks as repo
from app.domain import webhooks as rules
from app.domain.events import canonical_json
from app.domain.principal import Principal
from app.services import webhook_targets as targets
from app.services.audit import record_event
from app.services.errors import NotFound, VersionMismatch
from app.services.secret_box import SecretBox, SecretUnreadable

# The worker registers its delivery task under these names; dispatch enqueues jobs by them.
QUEUE = "webhooks"
DELIVER_TASK = "webhooks.deliver"
DISPATCH_BATCH = 500

sign = rules.sign


@dataclass(frozen=True, slots=True)
class Safeguards:
    """What registering a webhook needs besides the request: where targets may be, how long resolving may take, and
    the box that encrypts the secret."""

    policy: rules.TargetPolicy
    resolve_seconds: float
    box: SecretBox


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    record: WebhookRecord
    secret: str


@dataclass(frozen=True, slots=True)
class Dispatched:
    deliveries: int
    more: bool


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    delivery_id: uuid.UUID
    url: str
    key: bytes | None  # the HMAC signing key; None when the stored secret cannot be decrypted
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str | None  # one of the domain's DELIVERY_ERRORS
    cause: str | None = None  # the exception's type, for the worker's log only


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float


# --- the province's use cases --------------------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


async def create_webhook(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any], safeguards: Safeguards
) -> CreatedWebhook:
    """Subscribe `url` to `event_types` (empty: all). Deliveries start with the next event after this one. The URL
    must pass the target policy, its host resolved now (InvalidInput on `url` otherwise)."""
    await targets.check_target(data["url"], safeguards.policy, resolve_seconds=safeguards.resolve_seconds)
    webhook_id = uuid.uuid4()
    secret = data.get("secret") or secrets.token_urlsafe(32)
    event_types = list(dict.fromkeys(data.get("event_types") or []))
    # Only the origin goes to the feed: paths and queries of webhook URLs often carry tokens.
    await record_event(
        session,
        principal,
        type="webhook.created",
        subject_type="webhook",
        subject_id=webhook_id,
        data={"url_origin": _origin(data["url"]), "event_types": event_types},
    )
    # The creation event gets its seq from the sequencer after this commits. Until then the cursor is the feed head
    # now, a lower bound; the first dispatch moves it up to the creation event (`dispatch`), so deliveries start
    # with the next event after it.
    head = await repo.feed_head(session)
    record = await repo.add(
        session,
        WebhookRecord(
            id=webhook_id,
            url=data["url"],
            event_types=event_types,
            secret=safeguards.box.seal(rules.signing_key(secret)),
            active=True,
            created_by=principal.sub,
            cursor_seq=head,
        ),
    )
    return CreatedWebhook(record=record, secret=secret)


async def get_webhook(session: AsyncSession, principal: Principal, webhook_id: uuid.UUID) -> WebhookRecord:
    record = await repo.get(session, webhook_id)
    if record is None:
        raise NotFound("webhook", str(webhook_id))
    return record


async def list_webhooks(session: AsyncSession, principal: Principal, page: PageRequest) -> PageResult[WebhookRecord]:
    return await repo.list_page(session, page)


async def delete_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, expected_version: int | None
) -> None:
    """Stop the webhook: no more dispatch, pending deliveries cancelled. The row and its log stay for the audit."""
    # Locking the row waits for a dispatch in progress, so none can add deliveries after this commits.
    record = await repo.get(session, webhook_id, for_update=True)
    if record is None:
        raise NotFound("webhook", str(webhook_id))
    if expected_version is not None and expected_version != record.version:
        raise VersionMismatch(expected=expected_version, actual=record.version)
    record.active = False
    await repo.flush(session)
    cancelled = await repo.cancel_pending(session, webhook_id)
    await record_event(
        session,
        principal,
        type="webhook.deleted",
        subject_type="webhook",
        subject_id=webhook_id,
        data={"url_origin": _origin(record.url), "cancelled_deliveries": cancelled},
    )


async def list_deliveries(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, page: PageRequest, *, status: str | None
) -> PageResult[WebhookDeliveryRecord]:
    await get_webhook(session, principal, webhook_id)
    return await repo.list_deliveries(session, webhook_id, page, status=status)


# --- the worker's use cases ----------------------------------------------------------------------------------------


async def due_webhooks(session: AsyncSession) -> list[uuid.UUID]:
    return await repo.due(session, await repo.feed_head(session))


def job_lock(webhook_id: uuid.UUID, subject_id: uuid.UUID) -> str:
    return f"{webhook_id}:{subject_id}"


async def dispatch(session: AsyncSession, webhook_id: uuid.UUID, *, batch: int = DISPATCH_BATCH) -> Dispatched:
    """Turn the feed after the webhook's cursor into deliveries and jobs, and move the cursor; all or nothing."""
    webhook = await repo.lock_for_dispatch(session, webhook_id)
    if webhook is None:  # another worker is on it, or it was deleted
        return Dispatched(deliveries=0, more=False)
    # Read the head first: events committed after it wait for the next round instead of being skipped.
    head = await repo.feed_head(session)
    if head <= webhook.cursor_seq:
        return Dispatched(deliveries=0, more=False)
    created_at = await repo.creation_seq(session, webhook.id)
    if created_at is None:  # its creation event is not sequenced yet: neither is anything after it
        return Dispatched(deliveries=0, more=False)
    cursor = max(webhook.cursor_seq, created_at)
    if cursor >= head:  # the creation event is the head (the cursor was behind it): nothing after it yet
        await repo.advance_cursor(session, webhook.id, cursor)
        return Dispatched(deliveries=0, more=False)
    items = await repo.feed_after(session, after=cursor, upto=head, event_types=webhook.event_types, limit=batch)
    created = await repo.insert_deliveries(session, webhook.id, items)
    await repo.enqueue_deliveries(
        session,
        queue=QUEUE,
        task=DELIVER_TASK,
        jobs=[(job_lock(webhook.id, delivery.subject_id), delivery.id) for delivery in created],
    )
    full = len(items) == batch
    await repo.advance_cursor(session, webhook.id, items[-1].seq if full else head)
    return Dispatched(deliveries=len(created), more=full)


def feed_item(event: EventRecord) -> dict[str, Any]:
    """The event as the feed shows it: seq, id, type, subject, actor, times, data and its place in the hash chain."""
    return {**events_repo.to_domain(event).body(), "hash": event.hash}


async def prepare_delivery(session: AsyncSession, delivery_id: uuid.UUID, box: SecretBox) -> DeliveryRequest | None:
    """What to send, or None when there is nothing to do (delivered, given up, cancelled, webhook deleted)."""
    found = await repo.get_delivery(session, delivery_id)
    if found is None:
        return None
    delivery, webhook, event = found
    if delivery.status != "pending" or not webhook.active:
        return None
    try:
        key: bytes | None = box.open(webhook.secret)
    except SecretUnreadable:
        key = None
    return DeliveryRequest(
        delivery_id=delivery.id,
        url=webhook.url,
        key=key,
        event_id=str(event.id),
        event_type=event.type,
        # Canonical JSON (sorted keys, no spaces): a receiver can re-check `hash` over the body without `hash`.
        body=canonical_json(feed_item(event)).encode("utf-8"),
    )


async def send(
    client: httpx.AsyncClient, request: DeliveryRequest, *, timestamp: int, policy: rules.TargetPolicy
) -> Attempt:
    """POST the signed event once. Any 2xx is success; redirects are not followed; the response body is not read.
    `client` is the worker's guarded client (webhook_targets.delivery_client): it refuses the host's addresses when
    the policy does, so a refusal comes back as an exception like a refused connection. Failures are categories."""
    if rules.url_refusal(request.url, policy) is not None:  # a row from before the policy, or http in production
        return Attempt(ok=False, status_code=None, error="refused_url")
    if request.key is None:
        return Attempt(ok=False, status_code=None, error="secret_unreadable")
    headers = {
        "Content-Type": "application/json",
        rules.SIGNATURE_HEADER: sign(request.key, timestamp, request.body),
        rules.TIMESTAMP_HEADER: str(timestamp),
        rules.EVENT_ID_HEADER: request.event_id,
        rules.EVENT_TYPE_HEADER: request.event_type,
        "X-TIC-Delivery-Id": str(request.delivery_id),
    }
    try:
        async with client.stream("POST", request.url, content=request.body, headers=headers) as response:
            code = response.status_code
    except (httpx.HTTPError, httpx.InvalidURL, targets.TargetRefused, OSError, ValueError) as exc:
        return Attempt(ok=False, status_code=None, error=targets.attempt_error(exc), cause=type(exc).__name__)
    if 200 <= code < 300:
        return Attempt(ok=True, status_code=code, error=None)
    return Attempt(ok=False, status_code=code, error="redirect_refused" if 300 <= code < 400 else "http_status")


async def record_attempt(
    session: AsyncSession, delivery_id: uuid.UUID, attempt: Attempt, *, now: datetime, policy: RetryPolicy
) -> datetime | None:
    """Log the attempt; answer when to try again, or None when the delivery is settled (delivered or given up)."""
    delivery = await repo.lock_pending_delivery(session, delivery_id)
    if delivery is None:  # cancelled while the request was in flight
        return None
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error
    retry_at: datetime | None = None
    if attempt.ok:
        delivery.status = "succeeded"
        delivery.delivered_at = now
    elif delivery.attempts >= policy.max_attempts:
        delivery.status = "failed"
    else:
        delay = rules.retry_delay(delivery.attempts, base_seconds=policy.base_seconds, max_seconds=policy.max_seconds)
        retry_at = now + timedelta(seconds=delay)
    delivery.next_attempt_at = retry_at
    await repo.flush(session)
    return retry_at


# --- operations ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sealed:
    changed: int
    unreadable: int


async def seal_secrets(session: AsyncSession, box: SecretBox) -> Sealed:
    """Encrypt every secret still in clear and re-encrypt those under older keys with the first key (deleted
    webhooks too: their secrets are at rest as well). Secrets no configured key opens are counted and left alone."""
    changed = unreadable = 0
    for webhook_id, stored in await repo.secrets_for_update(session):
        try:
            resealed = box.reseal(stored)
        except SecretUnreadable:
            unreadable += 1
            continue
        if resealed != stored:
            await repo.store_secret(session, webhook_id, resealed)
            changed += 1
    return Sealed(changed=changed, unreadable=unreadable)
