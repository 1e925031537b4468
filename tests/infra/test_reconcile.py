"""Reconciliation of one order: the expected points use the tier multiplier loyalty recorded for the order."""

from datetime import date
from typing import Any

from loyalty.earning.rules import EarnRules
from yutang_dev.reconcile import order_differences

RULES = EarnRules()  # 1 point per ¥1, 7 days' lock
ORDER = {
    "id": "o-1",
    "memberId": "m-1",
    "paidFen": 10_000,
    "refundedFen": 5_000,
    "occurredAt": "2026-12-01T10:00:00+08:00",
    "earnsPoints": True,
}


def seen(**overrides: Any) -> dict[str, Any]:
    record = {
        "orderId": "o-1",
        "memberId": "m-1",
        "recorded": True,
        "paidFen": 10_000,
        "refundedFen": 5_000,
        "points": 150,
        "tierMultiplier": "1.5",
        "status": "PENDING",
        "releaseOn": "2026-12-08",
        "ledgerEarned": 150,
        "ledgerReleased": 0,
        "ledgerReversed": 75,
    }
    return record | overrides


def test_a_gold_members_order_earned_with_its_multiplier_has_no_difference() -> None:
    assert list(order_differences(ORDER, seen(), RULES, None)) == []


def test_points_that_ignore_the_recorded_multiplier_are_a_wrong_amount() -> None:
    found = [(d.kind, d.expected, d.found) for d in order_differences(ORDER, seen(ledgerEarned=100), RULES, None)]

    assert ("wrong amount", 150, 100) in found


def test_without_a_tier_the_base_rate_applies() -> None:
    plain = seen(tierMultiplier="1", points=100, ledgerEarned=100, ledgerReversed=50)

    assert list(order_differences(ORDER, plain, RULES, None)) == []
    assert [d.kind for d in order_differences(ORDER, None, RULES, None)] == ["missing earn"]


def test_pending_points_past_their_lock_are_due_with_an_as_of_date() -> None:
    due = [(d.kind, d.expected) for d in order_differences(ORDER, seen(), RULES, date(2026, 12, 8))]

    assert due == [("release due", 75)]
