"""A model of lots beside the database: the same rules, computed in memory, to compare after every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class ModelLot:
    key: str
    remaining: int
    expires_on: date | None
    seq: int
    order: str | None = None

    def sort_key(self) -> tuple[date, int]:
        return (self.expires_on or date.max, self.seq)


@dataclass
class Model:
    """Lots per member; spends' consumptions by key, for voids."""

    lots: dict[str, list[ModelLot]] = field(default_factory=dict)
    used: dict[str, list[tuple[ModelLot, int]]] = field(default_factory=dict)
    seq: int = 0

    def balance(self, member: str) -> int:
        return sum(lot.remaining for lot in self.lots.get(member, []))

    def remaining(self, member: str) -> dict[str, int]:
        return {lot.key: lot.remaining for lot in self.lots.get(member, [])}

    def grant(self, member: str, key: str, points: int, expires_on: date | None, order: str | None = None) -> None:
        self.seq += 1
        self.lots.setdefault(member, []).append(ModelLot(key, points, expires_on, self.seq, order))

    def debit(self, member: str, key: str, points: int, order: str | None = None) -> bool:
        """Take `points` soonest-expiring first (the order's own lot first); False when the balance is short."""
        if self.balance(member) < points:
            return False
        lots = sorted((lot for lot in self.lots.get(member, []) if lot.remaining), key=ModelLot.sort_key)
        if order is not None:
            lots = [lot for lot in lots if lot.order == order] + [lot for lot in lots if lot.order != order]
        used: list[tuple[ModelLot, int]] = []
        for lot in lots:
            take = min(points, lot.remaining)
            if take:
                lot.remaining -= take
                points -= take
                used.append((lot, take))
            if not points:
                break
        self.used[key] = used
        return True

    def restore(self, spend_key: str) -> int:
        """Give a spend's points back to its lots; the points restored."""
        used = self.used.get(spend_key, [])
        for lot, take in used:
            lot.remaining += take
        return sum(take for _, take in used)

    def expire(self, as_of: date) -> int:
        points = 0
        for lots in self.lots.values():
            for lot in lots:
                if lot.expires_on is not None and lot.expires_on <= as_of and lot.remaining:
                    points += lot.remaining
                    lot.remaining = 0
        return points
