"""Events between services, the receiving side's memory: a service's inbox table records, per consumer, the ids
of the events it has applied, in the same transaction as their effect, so a redelivered event changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache

from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table, TextClause, Uuid, text
from sqlalchemy.ext.asyncio import AsyncSession

from yutang_shared.db import Model


def inbox_table(schema: str, metadata: MetaData | None = None) -> Table:
    """The `<schema>.inbox` table: (consumer, event id) of every event a consumer of this service applied."""
    return Table(
        "inbox",
        metadata if metadata is not None else Model.metadata,
        Column("consumer", String(64), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        PrimaryKeyConstraint("consumer", "event_id"),
        schema=schema,
    )


async def claim(session: AsyncSession, inbox: Table, *, consumer: str, event_id: uuid.UUID) -> bool:
    """Note the event as applied by `consumer` in the session's transaction; False when it already was (then the
    caller must not apply it again). A concurrent claim of the same event waits for the first to finish."""
    statement = _claim_statement(inbox.fullname)
    return (await session.execute(statement, {"consumer": consumer, "event_id": event_id})).first() is not None


@cache
def _claim_statement(table: str) -> TextClause:
    """The claim as text, built once per inbox: SQLAlchemy has no cache key for `INSERT … ON CONFLICT`, so the
    construct was compiled again for every event (~0.3 ms of CPU each, a tenth of a consumer's work)."""
    return text(
        f"INSERT INTO {table} (consumer, event_id) VALUES (:consumer, :event_id) "  # noqa: S608 (a Table's name)
        "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
    )


async def claim_many(
    session: AsyncSession, inbox: Table, *, consumer: str, event_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """`claim` for several events in one statement: the ids that were not claimed before (an id given twice is
    claimed once: the caller applies its first occurrence only)."""
    if not event_ids:
        return set()
    statement = _claim_many_statement(inbox.fullname)
    rows = await session.execute(statement, {"consumer": consumer, "event_ids": list(event_ids)})
    return {row[0] for row in rows}


@cache
def _claim_many_statement(table: str) -> TextClause:
    return text(
        f"INSERT INTO {table} (consumer, event_id) "  # noqa: S608 (a Table's name)
        "SELECT DISTINCT :consumer, id FROM unnest(CAST(:event_ids AS uuid[])) AS id "
        "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
    )
