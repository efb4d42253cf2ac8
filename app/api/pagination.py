"""Cursors for lists that are not ordered by (created_at, id): obligations by center code, a history by recording
order, an assessment cycle's results by center code and its national candidates by rank.

They follow the one list contract (api.md "Lists"): `?limit=` 1–200 (default 50), `?cursor=` opaque, and the answer
carries `items` and `next_cursor`. A cursor names the list it belongs to, so one list's cursor is refused by another
with the same 422 as a damaged one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Query

from app.api.problems import ProblemError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1–200.")]
Cursor = Annotated[str | None, Query(max_length=1000, description="Opaque cursor from `next_cursor`.")]


def encode(list_name: str, *position: str | int) -> str:
    raw = json.dumps([list_name, *position], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, list_name: str, *shape: type) -> tuple[Any, ...]:
    """The position a cursor of `list_name` carries, one value of each type in `shape`; 422 for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, *position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise _invalid() from exc
    if name != list_name or len(position) != len(shape):
        raise _invalid()
    # bool is an int to Python; a cursor carries none.
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v, kind in zip(position, shape, strict=True)):
        raise _invalid()
    return tuple(position)


def page(items: Sequence[Any], list_name: str, next_position: Any) -> dict[str, Any]:
    """The answer of a list: `items` and the cursor of the next page (`next_position`, a value or a tuple, or None
    on the last page)."""
    if next_position is None:
        return {"items": list(items), "next_cursor": None}
    position = next_position if isinstance(next_position, tuple) else (next_position,)
    return {"items": list(items), "next_cursor": encode(list_name, *position)}


def _invalid() -> ProblemError:
    return ProblemError(
        "validation-failed",
        extra={
            "errors": [
                {
                    "loc": ["query", "cursor"],
                    "msg": "Invalid cursor; use next_cursor from a previous page of the same list.",
                    "type": "cursor_invalid",
                }
            ]
        },
    )
