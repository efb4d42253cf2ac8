"""Webhooks (province): subscribe a URL to feed events; the worker (`python -m app worker`) delivers them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from app.api.deps import (
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    ProvinceDep,
    SessionDep,
    created,
    paginate,
    versioned,
)
from app.api.problems import responses
from app.api.v1.webhooks.schemas import (
    SECRET_MASK,
    DeliveryRead,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from app.services import webhooks as service
from app.services.secret_box import SecretBox

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


async def get_safeguards(request: Request) -> service.Safeguards:
    """The target policy and the secret box, from the settings of this app."""
    settings = request.app.state.settings
    return service.Safeguards(
        policy=settings.webhook_target_policy(),
        resolve_seconds=settings.webhook_timeout_seconds,
        box=SecretBox(settings.webhook_fernet_keys()),
    )


SafeguardsDep = Annotated[service.Safeguards, Depends(get_safeguards)]


@router.post(
    "",
    operation_id="create_webhook",
    status_code=201,
    response_model=WebhookCreated,
    responses=responses("not-found", "idempotency-key-reused"),
)
async def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    principal: ProvinceDep,
    idempotency: IdempotencyDep,
    safeguards: SafeguardsDep,
) -> JSONResponse:
    """Subscribe `url` to feed events (province); deliveries start with the events after this one.

    Each event is POSTed as the feed item's JSON (`seq`, `id`, `type`, `subject_type`, `subject_id`, `actor`,
    `occurred_at`, `effective_on`, `data`, `prev_hash`, `hash`) with the headers `X-TIC-Event-Id`,
    `X-TIC-Event-Type`, `X-TIC-Timestamp` (Unix seconds) and `X-TIC-Signature: sha256=<hex HMAC-SHA256 of
    "{timestamp}.{raw body}" keyed with the secret>`. Verify the signature in constant time and refuse old
    timestamps. Any 2xx acknowledges; anything else is retried with exponential backoff. Delivery is at least once
    (deduplicate on `X-TIC-Event-Id`) and in `seq` order per subject. The `secret` is answered here only: a replay
    of this request (same `Idempotency-Key`) answers `secret` masked.

    Targets: `https` (`http` too outside production), no credentials in the URL, no fragment; the host must resolve,
    and only to public addresses (no loopback, private, link-local, shared, multicast, reserved or unspecified
    address, IPv4 or IPv6, in any spelling), unless the operator allow-lists it. The worker checks again on every
    connection and connects only to the addresses it checked; redirects are not followed.
    """
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    result = await service.create_webhook(session, principal, body.model_dump(), safeguards)
    record = result.record
    out = WebhookCreated(
        id=record.id,
        url=record.url,
        event_types=record.event_types,
        created_by=record.created_by,
        cursor_seq=record.cursor_seq,
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        secret=result.secret,
    )
    headers = created(out, record.version, f"/api/v1/webhooks/{record.id}")
    # What is kept for replays has the secret masked: it is shown once, and not kept in clear anywhere.
    await idempotency.respond(out.model_copy(update={"secret": SECRET_MASK}), status_code=201, headers=headers)
    return JSONResponse(jsonable_encoder(out), status_code=201, headers=headers)


@router.get("", operation_id="list_webhooks", response_model=Page[WebhookRead], responses=responses("not-found"))
async def list_webhooks(session: SessionDep, principal: ProvinceDep, page: PageDep) -> dict[str, object]:
    """The webhooks (province), oldest first; secrets are never shown."""
    result = await service.list_webhooks(session, principal, page)
    return paginate([WebhookRead.model_validate(r) for r in result.items], result.next_key)


@router.get("/{webhook_id}", operation_id="get_webhook", response_model=WebhookRead, responses=responses("not-found"))
async def get_webhook(webhook_id: uuid.UUID, session: SessionDep, principal: ProvinceDep) -> JSONResponse:
    """One webhook with its `ETag`; `cursor_seq` shows how far the feed has been dispatched to it."""
    record = await service.get_webhook(session, principal, webhook_id)
    return versioned(WebhookRead.model_validate(record), record.version)


@router.delete(
    "/{webhook_id}",
    operation_id="delete_webhook",
    status_code=204,
    response_class=Response,
    responses=responses("not-found", "version-mismatch"),
)
async def delete_webhook(
    webhook_id: uuid.UUID, session: SessionDep, principal: ProvinceDep, expected_version: IfMatchDep
) -> Response:
    """Stop a webhook (province): nothing more is dispatched and its pending deliveries are cancelled. `If-Match`
    is honoured."""
    await service.delete_webhook(session, principal, webhook_id, expected_version)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="list_webhook_deliveries",
    response_model=Page[DeliveryRead],
    responses=responses("not-found"),
)
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    principal: ProvinceDep,
    page: PageDep,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> dict[str, object]:
    """The delivery log of a webhook in feed order: status, attempts, the last answer or error, the next try."""
    result = await service.list_deliveries(session, principal, webhook_id, page, status=status)
    return paginate([DeliveryRead.model_validate(r) for r in result.items], result.next_key)
