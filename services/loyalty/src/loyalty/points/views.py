"""What points use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from loyalty.points.models import Bucket, EntryKind, LedgerEntry, bucket_of


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
    order_id: uuid.UUID | None = None

    @property
    def bucket(self) -> Bucket:
        """The account total this entry moved."""
        return bucket_of(self.kind)

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
            order_id=row.get("order_id"),
        )


@dataclass(frozen=True, slots=True)
class Posting:
    """A ledger entry to write: who, how many points (signed), what kind (which fixes the bucket it moves), why,
    under which key, and the order it belongs to if any. A debit takes from the member's soonest-expiring lots
    unless it names a `lot_id`; a credit is a new lot unless it `restores` an earlier debit's lots."""

    member_id: uuid.UUID
    points: int
    kind: EntryKind
    reason: str
    idempotency_key: str
    order_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None  # an expiry: the lot whose points lapse
    restores: uuid.UUID | None = None  # a void: the ledger entry whose lots get their points back
    expires_on: date | None = None  # a credit's lot expires on this date instead of its kind's policy (opening)


@dataclass(frozen=True, slots=True)
class AccountState:
    """A member's three totals: available `balance`, `pending` and `owed`."""

    balance: int = 0
    pending: int = 0
    owed: int = 0

    def of(self, bucket: Bucket) -> int:
        """The total of one bucket."""
        return {Bucket.AVAILABLE: self.balance, Bucket.PENDING: self.pending, Bucket.OWED: self.owed}[bucket]

    def moved(self, bucket: Bucket, points: int) -> AccountState:
        """The state after `points` moved `bucket`."""
        if bucket is Bucket.AVAILABLE:
            return AccountState(self.balance + points, self.pending, self.owed)
        if bucket is Bucket.PENDING:
            return AccountState(self.balance, self.pending + points, self.owed)
        return AccountState(self.balance, self.pending, self.owed + points)


@dataclass(frozen=True, slots=True)
class Posted:
    """A posting on the ledger. `balance` is the available balance this write produced (for a replay: the
    balance when it was replayed); `replayed` when the key had already been applied and nothing changed."""

    entry: EntryView
    balance: int
    replayed: bool
