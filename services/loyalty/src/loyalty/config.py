"""Loyalty service settings (`LOYALTY_*`), built by the app factory and carried in the request context."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from loyalty.checkin.rules import CheckInRules
from loyalty.payment.rules import CashRules
from loyalty.points.lots import ExpiryPolicies
from loyalty.tiers.rules import TierRules
from yutang_shared.settings import ServiceSettings


class LoyaltySettings(ServiceSettings):
    """`LOYALTY_DATABASE_URL` (else `DATABASE_URL`), the limits of manual adjustments and the earning rules
    (docs/loyalty.md, "Points from purchases")."""

    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore", frozen=True)

    max_adjustment_points: int = 10_000_000
    earn_points_per_yuan: Decimal = Decimal(1)  # base rate: points per ¥1 paid (100 fen), rounded down
    earn_bonus_threshold_fen: int = 0  # an order paying at least this much earns earn_bonus_points more (0: none)
    earn_bonus_points: int = 0
    member_days: str = ""  # 会员日: comma-separated dates (2026-12-12) and weekdays (sat), Asia/Shanghai
    member_day_multiplier: Decimal = Decimal(2)
    earn_lock_days: int = 7  # an order's points stay pending this many days after the day it was paid
    welcome_points: int = 0  # 开卡礼 on member.registered; 0 disables it
    # When each earn source's lots expire: `default=next-year-end,checkin=90d,adjustment=never` (kinds of entries)
    points_expiry: str = "default=next-year-end"

    tier_levels: str = ""  # JSON list of levels, lowest first (docs/loyalty.md, "Tiers"); empty: the defaults
    tier_grace_days: int = 30  # a member below their level at a review keeps it this long before a downgrade

    checkin_rewards: str = "5,5,10,5,5,10,30"  # points by streak day; 7 values: a weekly cycle, up to 31: monthly
    checkin_themed_days: str = ""  # themed days' bonus: `2026-12-21=50,2027-02-04=30` (solar terms, brand events)
    checkin_makeup_days: int = 3  # 补签 within this many days before today (0 disables it)
    checkin_makeup_cost: int = 20  # points a make-up check-in costs

    cash_points_per_yuan: int = 100  # 积分抵现: points that pay ¥1
    cash_max_share_percent: int = 50  # the most of an order points may pay
    cash_min_order_fen: int = 1_000  # orders below this take no points
    cash_hold_minutes: int = 15  # a quote's hold lasts this long, then releases itself

    def cash_rules(self) -> CashRules:
        """The points-as-cash rules; ValueError when inconsistent."""
        return CashRules(
            self.cash_points_per_yuan, self.cash_max_share_percent, self.cash_min_order_fen, self.cash_hold_minutes
        )

    def checkin_rules(self) -> CheckInRules:
        """The parsed check-in rules; ValueError when malformed."""
        return CheckInRules.parse(
            self.checkin_rewards,
            self.checkin_themed_days,
            makeup_days=self.checkin_makeup_days,
            makeup_cost=self.checkin_makeup_cost,
        )

    def tier_rules(self) -> TierRules:
        """The parsed tier levels and grace period; ValueError when malformed."""
        return TierRules.parse(self.tier_levels, grace_days=self.tier_grace_days)

    def expiry_policies(self) -> ExpiryPolicies:
        """The parsed `points_expiry`; ValueError when malformed. Parsed once per text: every write asks."""
        return _expiry_policies(self.points_expiry)


@lru_cache(maxsize=16)
def _expiry_policies(text: str) -> ExpiryPolicies:
    return ExpiryPolicies.parse(text)
