"""A fresh database for every run: on TIC_DATABASE_URL's server when it is set, else on an embedded PostgreSQL kept in
bench/results/pgdata. The schema is built by the service's own migrations."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from app.db import migrations
from app.db.session import plain_url, start_embedded
from bench.config import BenchConfig


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # plain postgresql:// URL of the bench database
    admin_url: str  # the same server's maintenance database, to create and drop it
    name: str
    embedded: bool


def _with_database(url: str, name: str) -> str:
    return make_url(plain_url(url)).set(database=name).render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create(config: BenchConfig) -> BenchDatabase:
    if config.database_url:
        admin = _with_database(config.database_url, "postgres")
        name = time.strftime("tic_bench_%Y%m%d_%H%M%S")
        embedded = False
    else:
        config.results_dir.mkdir(parents=True, exist_ok=True)
        admin = plain_url(start_embedded(config.results_dir / "pgdata"))
        name = "tic_bench"
        embedded = True
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    url = _with_database(admin, name)
    migrations.upgrade(url)
    return BenchDatabase(url=url, admin_url=admin, name=name, embedded=embedded)


def drop(database: BenchDatabase) -> None:
    asyncio.run(_admin(database.admin_url, f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'))


async def server_facts(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(url)
    try:
        version = await connection.fetchval("SHOW server_version")
        rows = await connection.fetch(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name",
            ["shared_buffers", "max_connections", "work_mem", "synchronous_commit", "max_parallel_workers_per_gather"],
        )
    finally:
        await connection.close()
    facts = {"server_version": str(version)}
    for row in rows:
        setting, unit = row["setting"], row["unit"] or ""
        if unit == "8kB":
            setting, unit = str(int(setting) * 8 // 1024), "MB"
        elif unit == "kB":
            setting, unit = str(int(setting) // 1024), "MB"
        facts[row["name"]] = f"{setting}{unit}"
    return facts
