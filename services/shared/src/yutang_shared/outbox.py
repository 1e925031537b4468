"""Events between services, the writing side: a service's outbox table and `record`, which adds events to it in
the caller's transaction (never "publish after commit": a crash between the two would lose them).

A relay publishes outbox rows to NATS JetStream on the subject `yutang.<service>.<event type>`; consumers apply
each event once through their inbox table (see `yutang_shared.inbox`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from yutang_shared.db import Model

SUBJECT_PREFIX = "yutang"


@dataclass(frozen=True, slots=True)
class Event:
    """A fact in the past tense (`member.registered`), versioned, about one aggregate, with only what consumers
    need in `data` (JSON-serialisable; no personal data unless a consumer needs it)."""

    type: str
    aggregate_id: str
    data: Mapping[str, Any]
    version: int = 1
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def subject(self, service: str) -> str:
        """The NATS subject this event is published on by `service`."""
        return f"{SUBJECT_PREFIX}.{service}.{self.type}"

    def to_json(self) -> bytes:
        """The message body on the bus."""
        return json.dumps(
            {
                "id": str(self.id),
                "type": self.type,
                "version": self.version,
                "aggregate_id": self.aggregate_id,
                "occurred_at": self.occurred_at.isoformat(),
                "data": self.data,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, body: bytes) -> Event:
        """An event read from the bus; ValueError when the body is not one."""
        try:
            raw = json.loads(body)
            return cls(
                id=uuid.UUID(raw["id"]),
                type=str(raw["type"]),
                version=int(raw["version"]),
                aggregate_id=str(raw["aggregate_id"]),
                occurred_at=datetime.fromisoformat(raw["occurred_at"]),
                data=dict(raw["data"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an event: {exc}") from exc


def outbox_table(schema: str, metadata: MetaData | None = None) -> Table:
    """The `<schema>.outbox` table: events in commit order (`seq`), unpublished until the relay marks them."""
    return Table(
        "outbox",
        metadata if metadata is not None else Model.metadata,
        Column("seq", BigInteger, Identity(always=True), nullable=False),
        Column("id", Uuid, nullable=False, unique=True),
        Column("type", String(64), nullable=False),
        Column("version", SmallInteger, nullable=False),
        Column("aggregate_id", String(64), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("data", JSONB, nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
        Column("published_at", DateTime(timezone=True), nullable=True),
        PrimaryKeyConstraint("seq"),
        Index(f"ix_{schema}_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
        schema=schema,
    )


async def record(session: AsyncSession, outbox: Table, events: Sequence[Event]) -> None:
    """Add events to the outbox in the session's transaction; they are published only if it commits."""
    if not events:
        return
    rows = [
        {
            "id": e.id,
            "type": e.type,
            "version": e.version,
            "aggregate_id": e.aggregate_id,
            "occurred_at": e.occurred_at,
            "data": dict(e.data),
        }
        for e in events
    ]
    await session.execute(insert(outbox), rows)
    # Delivered when (and only if) the transaction commits; the relay listens and publishes at once.
    await session.execute(text(f'NOTIFY "{notify_channel(outbox)}"'))


def notify_channel(outbox: Table) -> str:
    """The PostgreSQL NOTIFY channel `record` signals on when it adds events to this outbox."""
    return f"yutang_outbox_{outbox.schema}"
