"""Copies of other services' facts kept from their events: the newest fact wins, whatever order events arrive in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects import postgresql


def upsert_newest(table: Table, values: Mapping[str, Any], *, key: Sequence[str], stamp: str) -> TextClause:
    """`INSERT … ON CONFLICT (key) DO UPDATE` the given columns, but only where the stored `stamp` (when the fact
    changed at its source) is unset or not newer than the incoming one: a late, older event changes nothing, and a
    redelivered one writes the same values again. Columns not in `values` keep what they hold.

    The statement is text built once per table and set of columns: SQLAlchemy has no cache key for `ON CONFLICT`,
    so the construct was compiled again for every event (~1.2 ms of CPU, nine tenths of applying one)."""
    return _statement(table, tuple(values), tuple(key), stamp).bindparams(**values)


@cache
def _statement(
    table: Table, columns: tuple[str, ...], key: tuple[str, ...], stamp: str, *, many: bool = False
) -> TextClause:
    """The upsert's text: one row from scalar parameters, or (`many`) the rows of one array parameter per column."""
    unknown = [name for name in (*columns, *key, stamp) if name not in table.c]
    if unknown:
        raise KeyError(f"{table.fullname} has no column {', '.join(unknown)}")
    if many:
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns)
        source = f"SELECT * FROM unnest({arrays})"  # noqa: S608 (a Table's columns and their types)
    else:
        source = f"VALUES ({', '.join(f':{name}' for name in columns)})"
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in key)
    return text(
        f"INSERT INTO {table.fullname} AS stored ({', '.join(columns)}) {source} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} "
        f"WHERE stored.{stamp} IS NULL OR stored.{stamp} <= excluded.{stamp}"
    )


def upsert_newest_many(
    table: Table, rows: Sequence[Mapping[str, Any]], *, key: Sequence[str], stamp: str
) -> tuple[TextClause, dict[str, list[Any]]] | None:
    """`upsert_newest` for many facts in one statement (and its parameters; None for no rows): of several rows
    with the same key only the newest (by `stamp`; on a tie the later one, as one by one) is written, since one
    `ON CONFLICT DO UPDATE` may not touch a row twice. Every row has the same columns."""
    if not rows:
        return None
    newest: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        at = tuple(row[name] for name in key)
        kept = newest.get(at)
        if kept is None or kept[stamp] <= row[stamp]:
            newest[at] = row
    columns = tuple(rows[0])
    statement = _statement(table, columns, tuple(key), stamp, many=True)
    return statement, {name: [row[name] for row in newest.values()] for name in columns}
