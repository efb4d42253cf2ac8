"""Idempotent creates (api.md): same key + same body replays the first response; another body is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import idempotency as repo
from app.services.errors import IdempotencyKeyReused


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]


async def reserve(
    session: AsyncSession, *, principal: str, key: str, method: str, path: str, request_hash: str
) -> StoredResponse | None:
    existing = await repo.reserve(
        session, principal=principal, key=key, method=method, path=path, request_hash=request_hash
    )
    if existing is None:
        return None
    if existing.request_hash != request_hash or existing.status_code is None:
        raise IdempotencyKeyReused(key)
    return StoredResponse(existing.status_code, existing.response_body, dict(existing.response_headers or {}))


async def remember(
    session: AsyncSession, *, principal: str, key: str, status_code: int, body: Any, headers: dict[str, str]
) -> None:
    await repo.remember(session, principal=principal, key=key, status_code=status_code, body=body, headers=headers)
