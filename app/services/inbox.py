"""The inbox (待办, issue 17 §3): what the caller must do now, derived at read time from data within its reach.

One statement per page, whatever the inbox holds: the caller's sources are queried together
(`app.db.repositories.inbox.rows_for`), the pure rules of `app.domain.inbox` date every item, and the page is cut
from the sorted list. Sorting needs every item's due date, which the rules compute, so every page reads the caller's
rows again (bounded per source by `ROWS_PER_SOURCE`) and the cursor is the last item's sort key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories import inbox as repo
from app.domain.inbox import Item, items_of, page_after, sources_for
from app.domain.principal import Principal

Position = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class InboxPage:
    items: list[Item]
    next_after: Position | None


def scope_of(principal: Principal) -> repo.Scope:
    return repo.Scope(role=principal.role, org_id=principal.org_id, expert_id=principal.expert_id)


async def inbox(
    session: AsyncSession, principal: Principal, as_of: date, *, limit: int, after: Position | None = None
) -> InboxPage:
    """The caller's items on `as_of` after `after`, `limit` at a time, by due date (undated last), then kind,
    subject and action path."""
    names = [source.name for source in sources_for(principal.role)]
    rows = await repo.rows_for(session, scope_of(principal), names)
    page, last = page_after(items_of(rows, as_of), after, limit)
    return InboxPage(page, None if last is None else last.sort_key())
