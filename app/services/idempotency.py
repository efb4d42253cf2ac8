"""Idempotent creates (api.md): same key + same body replays the first response; another body is refused.

A key belongs to one caller: its scope is the principal's `sub`, `role`, `org_id` and `expert_id` together, so two
tokens that share a `sub` (the development tokens default to `<role>-dev`) never see each other's responses. The
method and path are part of the request's fingerprint, so a replay also needs the same route and body (and the same
key on another route answers 422). Routes check the caller's reach before they replay (see `IdempotencyDep`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import idempotency as repo
from app.domain.principal import Principal
from app.services.errors import IdempotencyKeyReused

# Stored keys were once scoped by `sub` alone; the prefix keeps those rows from ever matching a scoped one.
SCOPE_PREFIX = "v2:"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]


def scope_of(principal: Principal) -> str:
    """The stored `principal` column: a fixed-length digest of everything that identifies the caller."""
    identity = [principal.sub, principal.role, str(principal.org_id or ""), str(principal.expert_id or "")]
    return SCOPE_PREFIX + hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()


async def reserve(
    session: AsyncSession, *, principal: Principal, key: str, method: str, path: str, request_hash: str
) -> StoredResponse | None:
    existing = await repo.reserve(
        session, principal=scope_of(principal), key=key, method=method, path=path, request_hash=request_hash
    )
    if existing is None:
        return None
    if existing.request_hash != request_hash or existing.status_code is None:
        raise IdempotencyKeyReused(key)
    return StoredResponse(existing.status_code, existing.response_body, dict(existing.response_headers or {}))


async def remember(
    session: AsyncSession, *, principal: Principal, key: str, status_code: int, body: Any, headers: dict[str, str]
) -> None:
    await repo.remember(
        session, principal=scope_of(principal), key=key, status_code=status_code, body=body, headers=headers
    )
