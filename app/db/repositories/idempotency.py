"""Idempotency keys: reserve with INSERT .. ON CONFLICT (which waits for a concurrent holder), then remember."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import IdempotencyKeyRecord


async def reserve(
    session: AsyncSession, *, principal: str, key: str, method: str, path: str, request_hash: str
) -> IdempotencyKeyRecord | None:
    """None when this request now holds the key; else the stored record of the first request."""
    statement = (
        insert(IdempotencyKeyRecord)
        .values(principal=principal, key=key, method=method, path=path, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(IdempotencyKeyRecord.key)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    if inserted is not None:
        return None
    return (
        await session.execute(
            select(IdempotencyKeyRecord).where(
                IdempotencyKeyRecord.principal == principal, IdempotencyKeyRecord.key == key
            )
        )
    ).scalar_one()


async def remember(
    session: AsyncSession, *, principal: str, key: str, status_code: int, body: Any, headers: dict[str, str]
) -> None:
    await session.execute(
        update(IdempotencyKeyRecord)
        .where(IdempotencyKeyRecord.principal == principal, IdempotencyKeyRecord.key == key)
        .values(status_code=status_code, response_body=body, response_headers=headers)
    )
