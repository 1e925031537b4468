"""Counting SQL statements an app runs, for query-count tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def count_statements(engine: AsyncEngine, verb: str) -> Iterator[list[str]]:
    """Collect the statements starting with `verb` (SELECT, UPDATE, …) the engine runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(verb) and statement.strip() != "SELECT 1":
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def count_selects(engine: AsyncEngine) -> Any:
    """Collect the SELECT statements the engine runs inside the block (health pings excluded)."""
    return count_statements(engine, "SELECT")
