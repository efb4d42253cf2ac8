"""What a team would write first: FastAPI + SQLAlchemy 2 async ORM + pydantic response models, offset pagination.

Its own declarative model of the same `centers` table, a session per request from a dependency, `session.get` for one
center and `select(...).offset(n).limit(50)` for a page, serialised through `response_model` (`from_attributes`).
No auth. Run: `BENCH_DATABASE_URL=postgresql://... uvicorn bench.baselines.orm:app --loop uvloop --http httptools`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Center(Base):
    __tablename__ = "centers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str]
    name: Mapped[str]
    field: Mapped[str]
    lead_org_id: Mapped[uuid.UUID]
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    application_id: Mapped[uuid.UUID | None]
    rule_set: Mapped[str]
    status: Mapped[str]
    approved_on: Mapped[date]
    approval_document_no: Mapped[str]
    research_direction: Mapped[str | None]
    construction_starts_on: Mapped[date | None]
    construction_ends_on: Mapped[date | None]
    extension_months: Mapped[int | None]
    task_book: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    task_book_signed_at: Mapped[datetime | None]
    task_book_sha256: Mapped[str | None]
    legal_entity: Mapped[dict[str, Any]] = mapped_column(JSONB)
    governance: Mapped[dict[str, Any]] = mapped_column(JSONB)
    acceptance_agency_org_id: Mapped[uuid.UUID | None]
    acceptance_requested_on: Mapped[date | None]
    acceptance_failures: Mapped[int]
    rectifying_kind: Mapped[str | None]
    rectification_due_on: Mapped[date | None]
    grade: Mapped[str | None]
    graded_in_cycle_id: Mapped[uuid.UUID | None]
    grade_history: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    recognized_on: Mapped[date | None]
    recognition_no: Mapped[str | None]
    revoked_on: Mapped[date | None]
    revocation_reason_code: Mapped[str | None]
    exit_requested_on: Mapped[date | None]
    exited_on: Mapped[date | None]
    imported: Mapped[bool]
    version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CenterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    field: str
    lead_org_id: uuid.UUID
    participants: list[dict[str, Any]]
    application_id: uuid.UUID | None
    rule_set: str
    status: str
    approved_on: date
    approval_document_no: str
    research_direction: str | None
    construction_starts_on: date | None
    construction_ends_on: date | None
    extension_months: int | None
    task_book: dict[str, Any] | None
    task_book_signed_at: datetime | None
    task_book_sha256: str | None
    legal_entity: dict[str, Any]
    governance: dict[str, Any]
    acceptance_agency_org_id: uuid.UUID | None
    acceptance_requested_on: date | None
    acceptance_failures: int
    rectifying_kind: str | None
    rectification_due_on: date | None
    grade: str | None
    graded_in_cycle_id: uuid.UUID | None
    grade_history: list[dict[str, Any]]
    recognized_on: date | None
    recognition_no: str | None
    revoked_on: date | None
    revocation_reason_code: str | None
    exit_requested_on: date | None
    exited_on: date | None
    imported: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CenterPage(BaseModel):
    items: list[CenterOut]
    offset: int
    limit: int


def _url() -> str:
    url = os.environ["BENCH_DATABASE_URL"]
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(_url(), pool_size=10, max_overflow=10)
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        yield
    finally:
        await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with app.state.sessionmaker() as session:
        yield session


Db = Annotated[AsyncSession, Depends(get_db)]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/centers/{center_id}", response_model=CenterOut)
async def get_center(center_id: uuid.UUID, db: Db) -> Center:
    center = await db.get(Center, center_id)
    if center is None:
        raise HTTPException(404, "Center not found")
    return center


@app.get("/centers", response_model=CenterPage)
async def list_centers(
    db: Db, offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> dict[str, Any]:
    query = select(Center).order_by(Center.created_at, Center.id).offset(offset).limit(limit)
    items = (await db.execute(query)).scalars().all()
    return {"items": items, "offset": offset, "limit": limit}
