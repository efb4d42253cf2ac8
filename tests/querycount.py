"""Counting the SQL statements a request sends (issue 13): an SQLAlchemy event listener on the engine.

Every round trip the service's code asks for is counted, the transaction's own included, as the driver sends them:
`BEGIN` when the first statement of a transaction goes out (asyncpg begins lazily, and not at all in autocommit),
each statement (savepoints included), and `COMMIT` or `ROLLBACK` of a transaction that did begin.

    with count_statements(engine) as sent:
        await client.get(...)
    assert len(sent) <= 3, sent.render()
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


class Statements(list[str]):
    def render(self) -> str:
        return "\n".join(f"{i + 1:>3}. {' '.join(s.split())[:160]}" for i, s in enumerate(self))

    def queries(self) -> list[str]:
        """Only the statements of the request's own code, without BEGIN, COMMIT and ROLLBACK."""
        return [s for s in self if s not in ("BEGIN", "COMMIT", "ROLLBACK")]


def _autocommit(conn: Connection) -> bool:
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[Statements]:
    sent = Statements()
    # Per connection: None (no transaction), "pending" (begun, BEGIN not sent yet) or "sent".
    state: weakref.WeakKeyDictionary[Connection, str | None] = weakref.WeakKeyDictionary()

    def begin(conn: Connection) -> None:
        state[conn] = None if _autocommit(conn) else "pending"

    def before_cursor_execute(conn: Connection, *args: Any) -> None:
        statement = args[1]
        if state.get(conn) == "pending":
            sent.append("BEGIN")
            state[conn] = "sent"
        sent.append(str(statement))

    def end(word: str) -> Any:
        def listener(conn: Connection) -> None:
            if state.pop(conn, None) == "sent":
                sent.append(word)

        return listener

    commit, rollback = end("COMMIT"), end("ROLLBACK")
    target = engine.sync_engine
    listeners = [
        ("begin", begin),
        ("before_cursor_execute", before_cursor_execute),
        ("commit", commit),
        ("rollback", rollback),
    ]
    for name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield sent
    finally:
        for name, fn in listeners:
            event.remove(target, name, fn)
