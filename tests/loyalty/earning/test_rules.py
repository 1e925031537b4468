"""The earning rules, pure: base rate, threshold bonus, member days, tier seam, lock period, proportional reversal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from loyalty.earning.rules import EarnRules, MemberDays, reversal_for_refund, reversed_through

NOON_LOCAL = datetime(2026, 12, 12, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai, a Saturday


def test_base_rate_is_points_per_yuan_rounded_down() -> None:
    rules = EarnRules()
    assert rules.points_for(paid_fen=12_399, occurred_at=NOON_LOCAL) == 123
    assert rules.points_for(paid_fen=99, occurred_at=NOON_LOCAL) == 0
    assert EarnRules(points_per_yuan=Decimal("1.5")).points_for(paid_fen=1_000, occurred_at=NOON_LOCAL) == 15


def test_an_order_at_or_above_the_threshold_earns_the_bonus() -> None:
    rules = EarnRules(bonus_threshold_fen=10_000, bonus_points=50)
    assert rules.points_for(paid_fen=9_999, occurred_at=NOON_LOCAL) == 99
    assert rules.points_for(paid_fen=10_000, occurred_at=NOON_LOCAL) == 150


def test_member_days_multiply_base_and_bonus_on_the_local_date() -> None:
    rules = EarnRules(
        bonus_threshold_fen=10_000,
        bonus_points=50,
        member_days=MemberDays.parse("2026-12-12"),
        member_day_multiplier=Decimal(2),
    )
    assert rules.points_for(paid_fen=10_000, occurred_at=NOON_LOCAL) == 300
    # 2026-12-11 23:30 UTC is already the 12th in Shanghai
    assert rules.points_for(paid_fen=1_000, occurred_at=datetime(2026, 12, 11, 17, 30, tzinfo=UTC)) == 20
    assert rules.points_for(paid_fen=1_000, occurred_at=datetime(2026, 12, 11, 15, 30, tzinfo=UTC)) == 10


def test_member_days_take_weekdays_and_refuse_anything_else() -> None:
    days = MemberDays.parse(" sat , 2027-01-01,")
    assert days.includes(date(2026, 12, 12))
    assert days.includes(date(2027, 1, 1))
    assert not days.includes(date(2026, 12, 11))
    with pytest.raises(ValueError, match="neither a date"):
        MemberDays.parse("saturday")


def test_the_tier_multiplier_applies_to_the_whole_order() -> None:
    assert EarnRules().points_for(paid_fen=1_000, occurred_at=NOON_LOCAL, tier_multiplier=Decimal("1.5")) == 15


def test_points_are_released_after_the_lock_period_counted_in_local_days() -> None:
    assert EarnRules().release_on(datetime(2026, 12, 11, 17, 30, tzinfo=UTC)) == date(2026, 12, 19)
    assert EarnRules(lock_days=0).release_on(NOON_LOCAL) == date(2026, 12, 12)


def test_refunds_reverse_in_proportion_and_sum_to_everything() -> None:
    assert reversed_through(100, paid_fen=10_000, refunded_fen=5_000) == 50
    assert reversed_through(100, paid_fen=10_000, refunded_fen=10_000) == 100
    # three refunds of a third each reverse all 101 points, whatever the order they come in
    parts = [3_333, 3_333, 3_334]
    totals = [3_333, 6_666, 10_000]
    reversals = [
        reversal_for_refund(101, paid_fen=10_000, refunded_fen=p, total_refunded_fen=t)
        for p, t in zip(parts, totals, strict=True)
    ]
    assert sum(reversals) == 101
    assert all(r >= 0 for r in reversals)


def test_inconsistent_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        EarnRules(member_day_multiplier=Decimal("0.5"))
    with pytest.raises(ValueError, match="cannot be negative"):
        EarnRules(welcome_points=-1)
