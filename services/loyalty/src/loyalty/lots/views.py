"""What lots use cases return: frozen snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Expired:
    """One expiry batch: the date, the shard, what lapsed, and whether more lots of the shard are due."""

    as_of: date
    shard: int
    shards: int
    lots: int
    points: int
    members: int
    more: bool


@dataclass(frozen=True, slots=True)
class Expiring:
    """Points of one member expiring on one date (the first day they are no longer spendable)."""

    member_id: uuid.UUID
    points: int
    expires_on: date


@dataclass(frozen=True, slots=True)
class LotMismatch:
    """One way the lots disagree with the ledger: `kind` is `balance` (an account's balance is not the sum of
    its lots), `lot` (a lot's remaining is not its points less its consumptions) or `entry` (a debit's or
    restore's consumptions do not add up to its points)."""

    kind: str
    subject_id: uuid.UUID
    expected: int
    found: int
