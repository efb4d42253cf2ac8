"""Migrations on a fresh, empty database: up to head, nothing pending (alembic check), one head, down and up again.

Alembic's env.py runs its own event loop (asyncio.run), so every migration call goes to a worker thread.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import migrations
from app.db.session import create_engine


@pytest.fixture
async def fresh(empty_database: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    engine = create_engine(empty_database, pool_size=1)
    try:
        yield empty_database, engine
    finally:
        await engine.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return set(rows.scalars())


def test_the_migrations_have_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(migrations.alembic_config()).get_heads()
    assert len(heads) == 1, heads
    assert migrations.head_revisions() == set(heads)


def test_every_revision_has_a_downgrade() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    for revision in script.walk_revisions():
        assert revision.module.downgrade is not None, revision.revision
        assert "def downgrade" in Path(revision.path).read_text(encoding="utf-8"), revision.path


async def test_the_schema_goes_up_to_head_with_nothing_pending_then_down_and_up_again(
    fresh: tuple[str, AsyncEngine],
) -> None:
    url, engine = fresh
    assert await tables(engine) == set()
    assert await migrations.current_revisions(engine) == set()

    await asyncio.to_thread(migrations.upgrade, url)
    assert await migrations.current_revisions(engine) == migrations.head_revisions()
    at_head = await tables(engine)
    assert {"organizations", "experts", "events", "idempotency_keys", "alembic_version"} <= at_head
    # alembic check: the models hold nothing that no migration has.
    await asyncio.to_thread(migrations.check, url)

    await asyncio.to_thread(migrations.downgrade, url, "base")
    assert await tables(engine) == {"alembic_version"}
    assert await migrations.current_revisions(engine) == set()

    await asyncio.to_thread(migrations.upgrade, url)
    assert await tables(engine) == at_head
    assert await migrations.current_revisions(engine) == migrations.head_revisions()
    await asyncio.to_thread(migrations.check, url)


async def test_the_event_feed_refuses_update_and_delete(fresh: tuple[str, AsyncEngine]) -> None:
    url, engine = fresh
    await asyncio.to_thread(migrations.upgrade, url)
    insert = text(
        "INSERT INTO events (seq, id, type, subject_type, subject_id, actor_sub, actor_role, occurred_at, data,"
        " prev_hash, hash) VALUES (1, :id, 'organization.created', 'organization', :subject, 'tester', 'province',"
        " now(), '{}'::jsonb, :prev, :hash)"
    )
    async with engine.begin() as connection:
        await connection.execute(
            insert, {"id": uuid.uuid4(), "subject": uuid.uuid4(), "prev": "0" * 64, "hash": "a" * 64}
        )

    for statement in ("UPDATE events SET type = 'tampered'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))

    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT seq, type FROM events"))).one()
    assert tuple(row) == (1, "organization.created")
