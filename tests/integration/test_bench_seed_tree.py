"""The bench seeds its 1M-event feed with COPY and integrates the feed's Merkle tree in bulk (issue 14): the tree it
writes has to be, node for node, the tree the service builds and checks (`services.log.check_tree`)."""

from __future__ import annotations

import asyncio

import asyncpg

from app.db import migrations
from app.db.repositories import log as log_repo
from app.db.session import create_engine, create_sessionmaker, transaction
from app.services import log as log_service
from bench.seed import Seeder


async def test_the_seeds_bulk_tree_is_the_tree_the_service_builds(empty_database: str) -> None:
    await asyncio.to_thread(migrations.upgrade, empty_database)
    seeder = Seeder(empty_database, sample=4)
    await seeder.grow_to(30)  # 4 centers through the services, 26 by COPY: one event each, plus the call's
    await seeder.fill_events(77)
    assert await seeder.integrate_tree() == 77
    await seeder.fill_events(200)
    assert await seeder.integrate_tree() == 200  # grown from a tree of 77: its right edge read back from log_nodes
    assert await seeder.integrate_tree() == 200

    engine = create_engine(empty_database, pool_size=1, max_overflow=0)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            assert await log_repo.integrate(session) == 200  # nothing left for the service to integrate
            check = await log_service.check_tree(session)
    finally:
        await engine.dispose()
    assert check.ok
    assert check.size == 200
    assert check.stored_root == check.computed_root

    connection = await asyncpg.connect(empty_database)
    try:
        nodes = await connection.fetchval("SELECT count(*) FROM log_nodes")
    finally:
        await connection.close()
    assert nodes == 2 * 200 - bin(200).count("1")  # every perfect subtree of a 200-leaf tree, once
