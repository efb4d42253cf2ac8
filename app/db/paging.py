"""Keyset pagination over (created_at, id): stable order, no offset scans, cursors survive inserts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")
Key = tuple[datetime, uuid.UUID]


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 50
    after: Key | None = None
    # Incremental sync: only rows changed at or after this instant.
    updated_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PageResult(Generic[T]):
    items: Sequence[T]
    next_key: Key | None
