"""The inbox (待办): what the caller must do now, for every role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api import pagination
from app.api.dates import AsOfDate
from app.api.deps import ClockDep, PrincipalDep, SessionDep
from app.api.problems import responses
from app.api.v1.inbox.schemas import InboxRead
from app.domain.inbox import Item
from app.services import inbox

router = APIRouter(tags=["inbox"])

CURSOR = "inbox"


def _read(item: Item) -> dict[str, object]:
    return {
        "kind": item.kind,
        "subject": {"type": item.subject.type, "id": item.subject.id, "name": item.subject.name},
        "due_on": item.due_on,
        "overdue": item.overdue,
        "action": {"method": item.method, "path": item.path},
        "title_zh": item.title_zh,
        "title_en": item.title_en,
    }


@router.get("/inbox", operation_id="get_inbox", response_model=InboxRead, responses=responses())
async def get_inbox(
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    as_of: Annotated[
        AsOfDate | None,
        Query(
            description="The date to judge, YYYY-MM-DD (Asia/Shanghai calendar): from 1949-10-01 to 10 years after "
            "today; today when omitted."
        ),
    ] = None,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> InboxRead:
    """What the caller must do now (待办), derived from the data within its reach when asked, for any `as_of`:
    for the province applications to recommend (leads without a supervising department), to open review on, to
    conclude and to decide, annual reports to accept, change requests and extension and exit requests to decide,
    task books to sign, acceptances to record, centers to recognize, rectification reviews, assessment results to
    record and cycles to finalize; for a supervising department applications to recommend, annual reports and
    change requests to endorse; for the lead its drafts and returned applications (due when the call closes or by
    the return's deadline), revisions asked for, annual reports due (31 January, overdue from 1 February), the
    acceptance window, rectification and assessment dates and an extended construction period ending; for an
    expert the applications under review it has not scored; for an agency the acceptances and assessment results
    entrusted to it. An observer's inbox is empty.

    Each item has a stable `kind`, its subject, `due_on` (null where no rule dates the step), whether it is overdue
    on `as_of` and the operation that does it. Items come by due date (undated last), then kind, subject and
    action, `limit` at a time; pass `next_cursor` as `cursor` with the same `as_of` to read on."""
    day = as_of or clock.today()
    after = pagination.decode(cursor, CURSOR, str, str, str, str, str) if cursor else None
    page = await inbox.inbox(session, principal, day, limit=limit, after=after)
    return InboxRead.model_validate(
        {
            "as_of": day,
            "items": [_read(item) for item in page.items],
            "next_cursor": None if page.next_after is None else pagination.encode(CURSOR, *page.next_after),
        }
    )
