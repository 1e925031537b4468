"""Pure tier rules: the configured levels, what qualifies for each, and the review's decisions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

WINDOW_DAYS = 365  # rolling 12 months


@dataclass(frozen=True, slots=True)
class TierLevel:
    """One level: what qualifies (any one threshold met; 0 means that threshold is not used) and its benefits."""

    name: str
    min_spend_fen: int = 0
    min_orders: int = 0
    min_points: int = 0
    multiplier: Decimal = Decimal(1)
    upgrade_gift: int = 0
    birthday_points: int = 0
    vip_eligible: bool = False
    discounts: tuple[str, ...] = ()
    coupons: tuple[str, ...] = ()

    def qualifies(self, facts: Facts) -> bool:
        thresholds = [
            (self.min_spend_fen, facts.spend_fen),
            (self.min_orders, facts.orders),
            (self.min_points, facts.points),
        ]
        used = [(threshold, value) for threshold, value in thresholds if threshold]
        return not used or any(value >= threshold for threshold, value in used)


@dataclass(frozen=True, slots=True)
class Facts:
    """A member's qualifying facts over the 12 months up to a date: spend net of refunds, orders, points earned."""

    spend_fen: int = 0
    orders: int = 0
    points: int = 0


DEFAULT_LEVELS: tuple[TierLevel, ...] = (
    TierLevel("normal"),
    TierLevel(
        "silver",
        min_spend_fen=100_000,
        min_orders=10,
        multiplier=Decimal("1.2"),
        upgrade_gift=200,
        birthday_points=200,
        discounts=("95折 5% off listed items",),
    ),
    TierLevel(
        "gold",
        min_spend_fen=500_000,
        min_orders=30,
        multiplier=Decimal("1.5"),
        upgrade_gift=500,
        birthday_points=500,
        vip_eligible=True,
        discounts=("9折 10% off listed items",),
        coupons=("gold-monthly",),
    ),
    TierLevel(
        "diamond",
        min_spend_fen=2_000_000,
        multiplier=Decimal(2),
        upgrade_gift=2000,
        birthday_points=1000,
        vip_eligible=True,
        discounts=("85折 15% off listed items",),
        coupons=("diamond-monthly", "diamond-gift"),
    ),
)


@dataclass(frozen=True, slots=True)
class TierRules:
    """The levels, lowest first (the first is everyone's), and the grace period before a downgrade."""

    levels: tuple[TierLevel, ...] = DEFAULT_LEVELS
    grace_days: int = 30

    def __post_init__(self) -> None:
        if not self.levels or len({level.name for level in self.levels}) != len(self.levels):
            raise ValueError("tier levels need at least one level and distinct names")
        if self.grace_days < 0:
            raise ValueError("the grace period cannot be negative")

    @classmethod
    def parse(cls, text: str, *, grace_days: int = 30) -> TierRules:
        """Levels from JSON (`[{"name": "normal"}, {"name": "silver", "min_spend_fen": 100000, ...}]`, lowest
        first); the defaults when `text` is empty. ValueError when malformed."""
        if not text.strip():
            return cls(grace_days=grace_days)
        try:
            items = json.loads(text)
            levels = tuple(
                TierLevel(
                    **{k: v for k, v in item.items() if k not in ("multiplier", "discounts", "coupons")},
                    multiplier=Decimal(str(item.get("multiplier", 1))),
                    discounts=tuple(item.get("discounts", ())),
                    coupons=tuple(item.get("coupons", ())),
                )
                for item in items
            )
        except (TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"tier levels: {exc}") from None
        return cls(levels=levels, grace_days=grace_days)

    @property
    def names(self) -> list[str]:
        return [level.name for level in self.levels]

    def level(self, name: str) -> TierLevel:
        """The level called `name` (the lowest for a name no longer configured)."""
        return next((level for level in self.levels if level.name == name), self.levels[0])

    def rank(self, name: str) -> int:
        return self.names.index(name) if name in self.names else 0

    def qualified(self, facts: Facts) -> TierLevel:
        """The highest level the facts qualify for."""
        return next(level for level in reversed(self.levels) if level.qualifies(facts) or level is self.levels[0])

    def next_level(self, name: str) -> TierLevel | None:
        rank = self.rank(name)
        return self.levels[rank + 1] if rank + 1 < len(self.levels) else None

    def multipliers(self) -> dict[str, Decimal]:
        return {level.name: level.multiplier for level in self.levels}


def window(as_of: date) -> tuple[date, date]:
    """The local dates [first, last] of the rolling 12 months ending on `as_of`."""
    return as_of - timedelta(days=WINDOW_DAYS - 1), as_of


def period(as_of: date) -> str:
    """The review period a date falls in (reviews are monthly): `2026-12`."""
    return f"{as_of.year:04d}-{as_of.month:02d}"


def next_review(as_of: date) -> date:
    """The first day of the month after `as_of`: when the monthly review next runs."""
    return date(as_of.year + (as_of.month == 12), as_of.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one member: `upgrade`, `downgrade`, `grace` (start a grace period), `clear` (back to
    qualifying: end the grace), or `keep`."""

    action: str
    to_level: str
    grace_until: date | None = None


def decide(
    rules: TierRules, *, current: str, qualified: str, grace_until: date | None, as_of: date, review: bool
) -> Decision:
    """Upgrade at once; below the level only a review acts: first a grace period with a notice, then, once the
    grace has ended and the member still falls short, the downgrade (to the level they qualify for)."""
    if rules.rank(qualified) > rules.rank(current):
        return Decision("upgrade", qualified)
    if not review:
        return Decision("keep", current, grace_until)
    if rules.rank(qualified) == rules.rank(current):
        return Decision("clear" if grace_until else "keep", current)
    if grace_until is None:
        return Decision("grace", current, as_of + timedelta(days=rules.grace_days))
    if grace_until <= as_of:
        return Decision("downgrade", qualified)
    return Decision("keep", current, grace_until)


def to_next_fen(rules: TierRules, current: str, facts: Facts) -> int | None:
    """Spend still needed for the next level (None at the top, or when spend does not qualify for it)."""
    nxt = rules.next_level(current)
    if nxt is None or not nxt.min_spend_fen:
        return None
    return max(nxt.min_spend_fen - facts.spend_fen, 0)
