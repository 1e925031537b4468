"""Pure earning rules: how many points an order earns, when they become available, how much a refund reverses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from loyalty.points.lots import ExpiryPolicies

LOCAL = ZoneInfo("Asia/Shanghai")
FEN_PER_YUAN = 100
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class MemberDays:
    """会员日: the local dates and weekdays on which orders earn the member-day multiplier."""

    dates: frozenset[date] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 0 = Monday

    @classmethod
    def parse(cls, text: str) -> MemberDays:
        """`2026-12-12,sat`: ISO dates and three-letter weekdays, comma-separated; ValueError on anything else."""
        dates: set[date] = set()
        weekdays: set[int] = set()
        for item in (part.strip().lower() for part in text.split(",")):
            if not item:
                continue
            if item in WEEKDAYS:
                weekdays.add(WEEKDAYS.index(item))
                continue
            try:
                dates.add(date.fromisoformat(item))
            except ValueError:
                raise ValueError(
                    f"member day {item!r} is neither a date (2026-12-12) nor a weekday (mon…sun)"
                ) from None
        return cls(frozenset(dates), frozenset(weekdays))

    def includes(self, day: date) -> bool:
        """Whether `day` (a local date) is a member day."""
        return day in self.dates or day.weekday() in self.weekdays


@dataclass(frozen=True, slots=True)
class EarnRules:
    """The configured earning rules (LoyaltySettings' `earn_*`, `member_day*`, `welcome_points`)."""

    points_per_yuan: Decimal = Decimal(1)
    bonus_threshold_fen: int = 0
    bonus_points: int = 0
    member_days: MemberDays = MemberDays()
    member_day_multiplier: Decimal = Decimal(2)
    lock_days: int = 7
    welcome_points: int = 0
    expiry: ExpiryPolicies = field(default_factory=ExpiryPolicies)
    tier_multipliers: dict[str, Decimal] = field(default_factory=dict)  # earn multiplier per tier level

    def __post_init__(self) -> None:
        if self.points_per_yuan < 0 or self.bonus_points < 0 or self.bonus_threshold_fen < 0:
            raise ValueError("earning rates, thresholds and bonuses cannot be negative")
        if self.member_day_multiplier < 1:
            raise ValueError("the member-day multiplier is at least 1")
        if self.lock_days < 0 or self.welcome_points < 0:
            raise ValueError("the lock period and the welcome gift cannot be negative")

    def points_for(self, *, paid_fen: int, occurred_at: datetime, tier_multiplier: Decimal = Decimal(1)) -> int:
        """Points an order earns: (base + threshold bonus) × tier multiplier × member-day multiplier, rounded
        down. Base: `points_per_yuan` per ¥1 paid, rounded down."""
        base = _floor(Decimal(paid_fen) * self.points_per_yuan / FEN_PER_YUAN)
        bonus = self.bonus_points if self.bonus_threshold_fen and paid_fen >= self.bonus_threshold_fen else 0
        day = self.member_day_multiplier if self.member_days.includes(local_date(occurred_at)) else Decimal(1)
        return _floor((base + bonus) * tier_multiplier * day)

    def release_on(self, occurred_at: datetime) -> date:
        """The local date an order's points become available: the day it was paid plus the lock period."""
        return local_date(occurred_at) + timedelta(days=self.lock_days)


def local_date(at: datetime) -> date:
    """The date in Asia/Shanghai, where the brand's days begin and end."""
    return at.astimezone(LOCAL).date()


def reversed_through(points: int, *, paid_fen: int, refunded_fen: int) -> int:
    """How many of an order's `points` refunds totalling `refunded_fen` take back: everything but the share of
    what is left, rounded down (so a full refund takes all, and partial refunds never take more than all)."""
    if paid_fen <= 0 or refunded_fen <= 0:
        return 0
    left = max(paid_fen - refunded_fen, 0)
    return points - (points * left) // paid_fen


def reversal_for_refund(points: int, *, paid_fen: int, refunded_fen: int, total_refunded_fen: int) -> int:
    """The points one refund of `refunded_fen` reverses, `total_refunded_fen` being the order's refunds up to and
    including it. Depends only on the refund, not on the order refunds arrive in; an order's refunds sum to
    `reversed_through(points, total)`."""
    before = total_refunded_fen - refunded_fen
    return reversed_through(points, paid_fen=paid_fen, refunded_fen=total_refunded_fen) - reversed_through(
        points, paid_fen=paid_fen, refunded_fen=before
    )


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))
