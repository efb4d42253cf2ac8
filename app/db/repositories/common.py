"""Query helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from app.db.paging import PageRequest, PageResult

T = TypeVar("T")


def keep_loaded(session: AsyncSession, obj: object) -> None:
    """Hold `obj` for the session's life: the identity map keeps only weak references, and an object loaded alongside
    another (a join) would otherwise be gone before `loaded` looks for it."""
    session.info.setdefault("tic.loaded", []).append(obj)


def loaded(session: AsyncSession, model: type[T], ids: Collection[Any]) -> dict[Any, T]:
    """Those of `ids` this session has already loaded: what a query would give back for them anyway (the ORM does
    not overwrite loaded objects), without the query."""
    found: dict[Any, T] = {}
    for ident in ids:
        obj = session.identity_map.get(identity_key(model, ident))
        if obj is not None:
            found[ident] = obj
    return found


async def keyset_page(session: AsyncSession, query: Select[Any], model: Any, page: PageRequest) -> PageResult[Any]:
    """One page ordered by (created_at, id); fetch one extra row to know whether there is a next page."""
    if page.updated_since is not None:
        changed = getattr(model, "updated_at", None)
        query = query.where((changed if changed is not None else model.created_at) >= page.updated_since)
    if page.after is not None:
        created, ident = page.after
        # A row comparison, so PostgreSQL seeks the (created_at, id) index instead of filtering every earlier row.
        query = query.where(tuple_(model.created_at, model.id) > tuple_(created, ident))
    rows = list((await session.execute(query.order_by(model.created_at, model.id).limit(page.limit + 1))).scalars())
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_key = (rows[-1].created_at, rows[-1].id) if has_more and rows else None
    return PageResult(items=rows, next_key=next_key)
