"""What points use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.points.models import EntryKind, LedgerEntry


@dataclass(frozen=True, slots=True)
class EntryView:
    """One ledger entry."""

    id: uuid.UUID
    member_id: uuid.UUID
    points: int
    balance_after: int
    kind: EntryKind
    reason: str
    idempotency_key: str
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, row: LedgerEntry) -> EntryView:
        return cls.from_mapping(row.model_dump())

    @classmethod
    def from_mapping(cls, row: dict[str, Any]) -> EntryView:
        return cls(
            id=row["id"],
            member_id=row["member_id"],
            points=row["points"],
            balance_after=row["balance_after"],
            kind=EntryKind(row["kind"]),
            reason=row["reason"],
            idempotency_key=row["idempotency_key"],
            actor=row["actor"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class Posting:
    """A ledger entry to write: who, how many points (signed), what kind, why, under which key."""

    member_id: uuid.UUID
    points: int
    kind: EntryKind
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Posted:
    """A posting on the ledger. `balance` is the balance this write produced (for a replay: the balance when
    it was replayed); `replayed` when the key had already been applied and nothing changed."""

    entry: EntryView
    balance: int
    replayed: bool
