"""SQL for public notices (公示) and objections (异议)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, ScalarSelect, Select, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    ApplicationRecord,
    CenterRecord,
    OrganizationRecord,
    PublicityNoticeRecord,
    PublicityObjectionRecord,
    PublicitySubjectRecord,
)
from app.db.paging import PageRequest, PageResult
from app.db.repositories.common import keyset_page

_N = PublicityNoticeRecord.__table__.c
_S = PublicitySubjectRecord.__table__.c
_O = PublicityObjectionRecord.__table__.c


def _subjects_json() -> ScalarSelect[Any]:
    """The notice's entries as a JSON array in published order, correlated to the outer notice row."""
    entry = func.json_build_object(
        "subject_id", _S.subject_id, "name", _S.name, "lead_org_name", _S.lead_org_name, "field", _S.field
    )
    return (
        select(func.json_agg(func.json_build_object("e", entry, "p", _S.position)))
        .where(_S.notice_id == _N.id)
        .scalar_subquery()
    )


def _notices() -> Select[Any]:
    return select(PublicityNoticeRecord.__table__, _subjects_json().label("subjects"))


def status_condition(status: str, today: date) -> ColumnElement[bool]:
    """SQL for `app.domain.publicity.notice_status(...) == status` on `today`."""
    if status == "scheduled":
        return _N.starts_on > today
    if status == "running":
        return and_(_N.starts_on <= today, _N.ends_on >= today)
    return _N.ends_on < today


async def add(session: AsyncSession, notice: PublicityNoticeRecord, subjects: Sequence[PublicitySubjectRecord]) -> None:
    session.add(notice)
    await session.flush()
    session.add_all(subjects)
    await session.flush()


async def read(session: AsyncSession, notice_id: uuid.UUID) -> Row[Any] | None:
    """One notice with its entries: one statement."""
    row: Row[Any] | None = (await session.execute(_notices().where(_N.id == notice_id))).one_or_none()
    return row


async def get(session: AsyncSession, notice_id: uuid.UUID) -> PublicityNoticeRecord | None:
    return await session.get(PublicityNoticeRecord, notice_id)


async def read_page(
    session: AsyncSession, page: PageRequest, *, kind: str | None, status: str | None, today: date
) -> PageResult[Row[Any]]:
    """A page of notices with their entries, oldest first: one statement, whatever the page size."""
    query = _notices()
    if kind is not None:
        query = query.where(_N.kind == kind)
    if status is not None:
        query = query.where(status_condition(status, today))
    if page.updated_since is not None:
        query = query.where(_N.updated_at >= page.updated_since)
    if page.after is not None:
        query = query.where(tuple_(_N.created_at, _N.id) > tuple_(*page.after))
    rows = list((await session.execute(query.order_by(_N.created_at, _N.id).limit(page.limit + 1))).all())
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return PageResult(items=rows, next_key=(rows[-1].created_at, rows[-1].id) if has_more and rows else None)


async def subject_of(session: AsyncSession, notice_id: uuid.UUID, subject_id: uuid.UUID) -> bool:
    query = select(_S.subject_id).where(_S.notice_id == notice_id, _S.subject_id == subject_id)
    return (await session.execute(query)).first() is not None


# --- what a notice may list ----------------------------------------------------------------------------------------


async def candidates(session: AsyncSession, kind: str, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
    """{id: (id, status, name, field, lead_org_name)} of the applications (`approval`) or centers (`recognition`)
    among `ids`, in one query (only the province, who reaches every one, publishes notices)."""
    model: Any = ApplicationRecord if kind == "approval" else CenterRecord
    name = ApplicationRecord.proposed_name if kind == "approval" else CenterRecord.name
    query = (
        select(model.id, model.status, name.label("name"), model.field, OrganizationRecord.name.label("lead_org_name"))
        .join(OrganizationRecord, OrganizationRecord.id == model.lead_org_id)
        .where(model.id.in_(list(ids)))
    )
    return {row.id: row for row in (await session.execute(query)).all()}


# --- the guards' facts ---------------------------------------------------------------------------------------------


def _objections(status: str) -> ScalarSelect[Any]:
    return (
        select(func.count())
        .select_from(PublicityObjectionRecord.__table__)
        .where(_O.notice_id == _S.notice_id, _O.subject_id == _S.subject_id, _O.status == status)
        .scalar_subquery()
    )


def _fact_columns() -> list[Any]:
    return [_N.id, _N.ends_on, _objections("open"), _objections("upheld")]


async def facts(
    session: AsyncSession, kind: str, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, date, int, int]]]:
    """{subject id: [(notice id, ends_on, open objections, upheld objections)]} for every notice of `kind` listing
    one of `subject_ids`: one query, whatever their number."""
    query = (
        select(_S.subject_id, *_fact_columns())
        .join(PublicityNoticeRecord.__table__, _N.id == _S.notice_id)
        .where(_S.subject_id.in_(list(subject_ids)), _N.kind == kind)
    )
    out: dict[uuid.UUID, list[tuple[uuid.UUID, date, int, int]]] = {sid: [] for sid in subject_ids}
    for row in (await session.execute(query)).all():
        out[row[0]].append((row[1], row[2], row[3], row[4]))
    return out


def facts_column(kind: str, subject_id: Any) -> ScalarSelect[Any]:
    """The same facts for one subject as a JSON array of [notice id, ends_on, open, upheld] (NULL when none),
    correlated to `subject_id` of the outer statement: a column of a lean read."""
    return (
        select(func.json_agg(func.json_build_array(*_fact_columns())))
        .select_from(PublicitySubjectRecord.__table__.join(PublicityNoticeRecord.__table__, _N.id == _S.notice_id))
        .where(_S.subject_id == subject_id, _N.kind == kind)
        .scalar_subquery()
    )


# --- objections ----------------------------------------------------------------------------------------------------


async def add_objection(session: AsyncSession, record: PublicityObjectionRecord) -> None:
    session.add(record)
    await session.flush()


async def get_objection(
    session: AsyncSession, notice_id: uuid.UUID, objection_id: uuid.UUID, *, for_update: bool = False
) -> PublicityObjectionRecord | None:
    query = select(PublicityObjectionRecord).where(
        PublicityObjectionRecord.id == objection_id, PublicityObjectionRecord.notice_id == notice_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def objections_page(
    session: AsyncSession, notice_id: uuid.UUID, page: PageRequest
) -> PageResult[PublicityObjectionRecord]:
    query = select(PublicityObjectionRecord).where(PublicityObjectionRecord.notice_id == notice_id)
    return await keyset_page(session, query, PublicityObjectionRecord, page)
