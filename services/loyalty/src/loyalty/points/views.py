"""What loyalty use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from loyalty.domain.models import LedgerEntry


@dataclass(frozen=True, slots=True)
class EntryView:
    """One ledger entry."""

    id: uuid.UUID
    member_id: uuid.UUID
    points: int
    balance_after: int
    kind: str
    reason: str
    idempotency_key: str
    actor: str
    created_at: datetime

    @classmethod
    def of(cls, row: LedgerEntry) -> EntryView:
        return cls(
            id=row.id,
            member_id=row.member_id,
            points=row.points,
            balance_after=row.balance_after,
            kind=row.kind,
            reason=row.reason,
            idempotency_key=row.idempotency_key,
            actor=row.actor,
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class Adjustment:
    """The outcome of an adjustment; `replayed` when the key had already been applied (nothing changed)."""

    entry: EntryView
    balance: int
    replayed: bool


@dataclass(frozen=True, slots=True)
class EntryPage:
    """A page of a member's ledger, newest first."""

    entries: list[EntryView]
    has_next_page: bool
