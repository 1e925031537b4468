"""Copies of other services' facts kept from their events: the newest fact wins, whatever order events arrive in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, or_
from sqlalchemy.dialects.postgresql import Insert, insert


def upsert_newest(table: Table, values: Mapping[str, Any], *, key: Sequence[str], stamp: str) -> Insert:
    """`INSERT … ON CONFLICT (key) DO UPDATE` the given columns, but only where the stored `stamp` (when the fact
    changed at its source) is unset or not newer than the incoming one: a late, older event changes nothing, and a
    redelivered one writes the same values again. Columns not in `values` keep what they hold."""
    statement = insert(table).values(**values)
    excluded = statement.excluded
    stored = table.c[stamp]
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: excluded[name] for name in values if name not in key},
        where=or_(stored.is_(None), stored <= excluded[stamp]),
    )
