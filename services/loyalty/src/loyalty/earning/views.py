"""What earning use cases return: frozen snapshots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Released:
    """A release run: up to which date, how many orders, how many points became available, and whether it
    stopped at its limit (`more`: call again to go on)."""

    as_of: date
    orders: int
    points: int
    more: bool = False


@dataclass(frozen=True, slots=True)
class OrderLedger:
    """One order as loyalty sees it: its points row (absent for an orphan: entries naming an order loyalty has no
    row for) and the ledger's sums for it."""

    order_id: uuid.UUID
    member_id: uuid.UUID
    recorded: bool
    paid_fen: int | None
    refunded_fen: int | None
    points: int | None
    tier_multiplier: Decimal | None
    pending: int | None
    reversed: int | None
    status: str | None
    release_on: date | None
    ledger_earned: int
    ledger_released: int
    ledger_reversed: int
    ledger_owed: int

    @classmethod
    def of(cls, row: dict[str, Any]) -> OrderLedger:
        return cls(**{name: row[name] for name in cls.__slots__})
