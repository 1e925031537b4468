"""Tiers on the real database: qualification from order events over a rolling 12 months (never the balance),
upgrade at once with its gift and event, downgrade only at a review after a grace period, idempotent per period."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.earning.rules import EarnRules
from loyalty.points.lots import LOCAL, ExpiryPolicies
from loyalty.tiers import service
from loyalty.tiers.rules import DEFAULT_LEVELS, Facts, TierRules, decide
from tests.loyalty.earning.factories import deliver, outbox, paid, refunded
from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import balance, post, uow

RULES = TierRules()
DAY = date(2026, 3, 10)


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), LOCAL)


async def order(engine: AsyncEngine, member: uuid.UUID, fen: int, day: date) -> None:
    event = paid(member, fen, occurred_at=at(day))
    async with uow(engine) as u:
        await service.on_order_paid(u, event, rules=RULES, expiry=ExpiryPolicies())
        await u.commit()
    return


async def refund(engine: AsyncEngine, member: uuid.UUID, fen: int, day: date) -> None:
    event = paid(member, fen, occurred_at=at(day))
    async with uow(engine) as u:
        await service.on_order_paid(u, event, rules=RULES, expiry=ExpiryPolicies())
        await service.on_order_refunded(u, refunded(event, fen))
        await u.commit()


async def level(engine: AsyncEngine, member: uuid.UUID, as_of: date) -> tuple[str, int, date | None]:
    (view,) = await service.tiers_of(uow(engine), [member], as_of=as_of, rules=RULES)
    return view.level, view.facts.spend_fen, view.grace_until


async def review(engine: AsyncEngine, as_of: date) -> tuple[int, int, int, int]:
    after = None
    totals = [0, 0, 0, 0]
    while True:
        r = await service.review_tiers(uow(engine), as_of=as_of, rules=RULES, after=after, limit=2)
        totals = [totals[0] + r.reviewed, totals[1] + r.upgraded, totals[2] + r.downgraded, totals[3] + r.grace_started]
        if r.next_after is None:
            return tuple(totals)  # type: ignore[return-value]
        after = r.next_after


def test_rules() -> None:
    assert RULES.qualified(Facts(spend_fen=99_999)).name == "normal"
    assert RULES.qualified(Facts(spend_fen=100_000)).name == "silver"
    assert RULES.qualified(Facts(orders=30)).name == "gold"
    assert RULES.qualified(Facts(spend_fen=2_000_000)).name == "diamond"
    assert decide(RULES, current="gold", qualified="silver", grace_until=None, as_of=DAY, review=False).action == "keep"
    grace = decide(RULES, current="gold", qualified="silver", grace_until=None, as_of=DAY, review=True)
    assert (grace.action, grace.grace_until) == ("grace", DAY + timedelta(days=30))
    assert decide(RULES, current="gold", qualified="silver", grace_until=DAY, as_of=DAY, review=True).action == (
        "downgrade"
    )
    assert TierRules.parse('[{"name": "normal"}, {"name": "vip", "min_orders": 2, "multiplier": 3}]').multipliers() == {
        "normal": Decimal(1),
        "vip": Decimal(3),
    }


async def test_an_order_over_the_threshold_upgrades_at_once_with_gift_and_event(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    await order(engine, member, 60_000, DAY)
    assert (await level(engine, member, DAY))[0] == "normal"
    await order(engine, member, 50_000, DAY + timedelta(days=1))

    assert await level(engine, member, DAY + timedelta(days=1)) == ("silver", 110_000, None)
    assert await balance(engine, member) == 200  # silver's upgrade gift
    changed = [data for kind, data in await outbox(engine) if kind == "tier.changed"]
    assert [(c["from_level"], c["to_level"], c["direction"], c["vip_eligible"]) for c in changed] == [
        ("normal", "silver", "up", False)
    ]
    assert set(changed[0]) == {"member_id", "from_level", "to_level", "direction", "vip_eligible", "changed_at"}
    history = await service.tier_history(uow(engine), member)
    assert [(h.from_level, h.to_level, h.reason) for h in history] == [("normal", "silver", "qualified")]


async def test_the_balance_never_qualifies(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 10_000_000, "big-adjustment")

    await order(engine, member, 100, DAY)

    assert (await level(engine, member, DAY))[0] == "normal"


async def test_refunds_count_against_spend_but_only_the_review_downgrades(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await order(engine, member, 120_000, DAY)
    await refund(engine, member, 500_000, DAY)  # lifts them to gold at once; refunded whole, it counts nothing

    assert await level(engine, member, DAY) == ("gold", 120_000, None)  # the refund moves nobody down
    assert await review(engine, DAY) == (1, 0, 0, 1)  # the review does: grace first
    assert await level(engine, member, DAY) == ("gold", 120_000, DAY + timedelta(days=30))


async def test_the_review_grants_grace_then_downgrades_and_is_idempotent_per_period(engine: AsyncEngine) -> None:
    member, stays = await known_member(engine), await known_member(engine)
    await order(engine, member, 120_000, DAY)
    await order(engine, stays, 150_000, DAY)
    await order(engine, stays, 100_000, DAY + timedelta(days=360))

    in_window = await review(engine, date(2026, 12, 1))
    a_year_on = await review(engine, date(2027, 4, 1))
    same_period = await review(engine, date(2027, 4, 20))
    before_grace_ends = (await level(engine, member, date(2027, 4, 20)))[2]
    after_grace = await review(engine, date(2027, 5, 1))

    assert in_window == (2, 0, 0, 0)
    assert a_year_on == (2, 0, 0, 1)  # member's spend left the window: grace starts, level kept
    assert same_period == (0, 0, 0, 0)
    assert before_grace_ends == date(2027, 5, 1)
    assert after_grace[2] == 1
    assert (await level(engine, member, date(2027, 5, 1)))[0] == "normal"
    assert (await level(engine, stays, date(2027, 5, 1)))[0] == "silver"
    changed = [data for kind, data in await outbox(engine) if kind == "tier.changed"]
    assert [(c["member_id"], c["direction"]) for c in changed][-1] == (str(member), "down")


async def test_a_member_who_qualifies_again_in_grace_keeps_the_level(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await order(engine, member, 120_000, DAY)
    await review(engine, date(2027, 4, 1))  # grace starts

    await order(engine, member, 100_000, date(2027, 4, 10))
    await review(engine, date(2027, 5, 1))

    assert await level(engine, member, date(2027, 5, 1)) == ("silver", 100_000, None)


async def test_the_tier_multiplier_applies_to_purchase_earning(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await order(engine, member, 500_000, DAY)  # gold: ×1.5
    rules = EarnRules(tier_multipliers={lv.name: lv.multiplier for lv in DEFAULT_LEVELS})

    await deliver(engine, paid(member, 10_000), rules)

    async with engine.connect() as connection:
        points = await connection.scalar(
            text("SELECT points FROM loyalty.ledger_entries WHERE member_id = :m AND kind = 'earn_pending'"),
            {"m": member},
        )
        multiplier = await connection.scalar(
            text("SELECT tier_multiplier FROM loyalty.order_points WHERE member_id = :m"), {"m": member}
        )
    assert points == 150
    assert multiplier == Decimal("1.5")  # kept for reconciliation


async def test_an_upgrade_of_a_member_loyalty_does_not_know_yet_is_retried(engine: AsyncEngine) -> None:
    stranger = uuid.uuid4()  # its member.registered has not arrived

    with pytest.raises(service.GiftRefused):
        await order(engine, stranger, 120_000, DAY)

    async with engine.connect() as connection:
        rows = await connection.scalar(
            text("SELECT count(*) FROM loyalty.member_tiers WHERE member_id = :m"), {"m": stranger}
        )
    assert rows == 0  # rolled back: the redelivered event upgrades them once the directory knows them
