"""Copies of other services' facts kept from their events: the newest fact wins, whatever order events arrive in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, TextClause, text


def upsert_newest(table: Table, values: Mapping[str, Any], *, key: Sequence[str], stamp: str) -> TextClause:
    """`INSERT … ON CONFLICT (key) DO UPDATE` the given columns, but only where the stored `stamp` (when the fact
    changed at its source) is unset or not newer than the incoming one: a late, older event changes nothing, and a
    redelivered one writes the same values again. Columns not in `values` keep what they hold.

    The statement is text built once per table and set of columns: SQLAlchemy has no cache key for `ON CONFLICT`,
    so the construct was compiled again for every event (~1.2 ms of CPU, nine tenths of applying one)."""
    return _statement(table, tuple(values), tuple(key), stamp).bindparams(**values)


@cache
def _statement(table: Table, columns: tuple[str, ...], key: tuple[str, ...], stamp: str) -> TextClause:
    unknown = [name for name in (*columns, *key, stamp) if name not in table.c]
    if unknown:
        raise KeyError(f"{table.fullname} has no column {', '.join(unknown)}")
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in key)
    return text(
        f"INSERT INTO {table.fullname} AS stored ({', '.join(columns)}) "  # noqa: S608 (a Table's name and its columns)
        f"VALUES ({', '.join(f':{name}' for name in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} "
        f"WHERE stored.{stamp} IS NULL OR stored.{stamp} <= excluded.{stamp}"
    )
