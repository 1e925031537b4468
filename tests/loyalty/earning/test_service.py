"""Earning on the real database, events applied the way the `loyalty-earning` consumer applies them: pending
points per order, release by date, refunds of pending, available and spent points, owed settled later, the
welcome gift, and nothing twice."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.earning import service as earning
from loyalty.earning.rules import EarnRules, MemberDays, local_date
from loyalty.earning.service import ACTOR, PostingRefused
from loyalty.points.service import adjust_points
from loyalty.uow import LoyaltyUnitOfWork
from tests.loyalty.earning.factories import (
    AN_HOUR_AGO,
    deliver,
    entries,
    outbox,
    paid,
    refunded,
    registered,
    release,
    totals,
)
from tests.loyalty.factories import known_member
from yutang_shared.db import session_factory


async def spend(engine: AsyncEngine, member_id: uuid.UUID, points: int) -> None:
    await adjust_points(
        LoyaltyUnitOfWork(session_factory(engine)),
        member_id=member_id,
        points=-points,
        reason="兑换 redeemed",
        idempotency_key=f"spend-{uuid.uuid4().hex}",
        actor="test",
        max_points=10**9,
    )


async def test_an_order_earns_pending_points_linked_to_it(engine: AsyncEngine) -> None:
    # given
    member = await known_member(engine)
    order = paid(member, 12_399)

    # when
    assert await deliver(engine, order)

    # then: 123 points pending, none available, one entry keyed by the order under the consumer's name
    assert await totals(engine, member) == {"balance": 0, "pending": 123, "owed": 0}
    order_id = uuid.UUID(order.data["order_id"])
    assert await entries(engine, member) == [
        {
            "kind": "earn_pending",
            "points": 123,
            "key": f"order:{order_id}:pending",
            "order_id": order_id,
            "actor": ACTOR,
        }
    ]
    ((kind, data),) = await outbox(engine)
    assert kind == "points.earned"
    assert data["points"] == 123
    assert data["status"] == "pending"
    assert data["order_id"] == str(order_id)


async def test_threshold_bonus_and_member_day_multiply(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    rules = EarnRules(
        bonus_threshold_fen=10_000,
        bonus_points=50,
        member_days=MemberDays.parse(local_date(AN_HOUR_AGO).isoformat()),
        member_day_multiplier=Decimal(3),
    )
    await deliver(engine, paid(member, 10_000), rules)
    await deliver(engine, paid(member, 500), rules)
    assert (await totals(engine, member))["pending"] == (100 + 50) * 3 + 5 * 3


async def test_orders_that_do_not_earn_earn_nothing(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await deliver(engine, paid(member, 10_000, earns_points=False, imported=True))
    assert await totals(engine, member) == {"balance": 0, "pending": 0, "owed": 0}
    assert await entries(engine, member) == []


async def test_a_redelivered_or_republished_order_earns_once(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    order = paid(member, 5_000)
    assert await deliver(engine, order)
    # the same event again: the inbox refuses it
    assert not await deliver(engine, order)
    # the same order under a new event id (a re-publish outside the duplicate window): the order is known
    again = paid(member, 5_000, order_id=uuid.UUID(order.data["order_id"]))
    assert await deliver(engine, again)
    assert await totals(engine, member) == {"balance": 0, "pending": 50, "owed": 0}
    assert len(await entries(engine, member)) == 1


async def test_points_become_available_when_the_lock_period_ends(engine: AsyncEngine) -> None:
    # given: an order's 80 points pending
    member = await known_member(engine)
    await deliver(engine, paid(member, 8_000))

    # when: released as of the day before the lock period ends, then as of that day, then again
    before = await release(engine, days_after=6)
    on_time = await release(engine, days_after=7)
    again = await release(engine, days_after=30)

    # then
    assert before == (0, 0)
    assert on_time == (1, 80)
    assert again == (0, 0)
    assert await totals(engine, member) == {"balance": 80, "pending": 0, "owed": 0}
    kinds = [(e["kind"], e["points"]) for e in await entries(engine, member)]
    assert kinds == [("earn_pending", 80), ("pending_released", -80), ("earn", 80)]
    assert [kind for kind, _ in await outbox(engine)] == ["points.earned", "points.released"]


async def test_a_refund_cancels_pending_points_first(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    order = paid(member, 10_000)
    await deliver(engine, order)
    await deliver(engine, refunded(order, 5_000))
    assert await totals(engine, member) == {"balance": 0, "pending": 50, "owed": 0}
    await release(engine)
    assert await totals(engine, member) == {"balance": 50, "pending": 0, "owed": 0}
    (kind, data) = (await outbox(engine))[1]
    assert kind == "points.reversed"
    assert data["points"] == 50
    assert data["pending_cancelled"] == 50


async def test_a_refund_takes_available_points_back(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    order = paid(member, 10_000)
    await deliver(engine, order)
    await release(engine)
    await deliver(engine, refunded(order, 2_500))
    assert await totals(engine, member) == {"balance": 75, "pending": 0, "owed": 0}
    assert (await entries(engine, member))[-1]["kind"] == "reversal"


async def test_spent_points_become_owed_and_later_earnings_settle_them(engine: AsyncEngine) -> None:
    # given: 100 points available, 80 of them spent
    member = await known_member(engine)
    order = paid(member, 10_000)
    await deliver(engine, order)
    await release(engine)
    await spend(engine, member, 80)

    # when: the order is refunded in full
    await deliver(engine, refunded(order, 10_000))

    # then: the 20 left are taken, 80 are owed, the balance is zero (never below)
    assert await totals(engine, member) == {"balance": 0, "pending": 0, "owed": 80}

    # when: a later order's 50 points are released, then another's 100
    await deliver(engine, paid(member, 5_000))
    assert await totals(engine, member) == {"balance": 0, "pending": 50, "owed": 80}
    await release(engine)
    assert await totals(engine, member) == {"balance": 0, "pending": 0, "owed": 30}
    await deliver(engine, paid(member, 10_000))
    await release(engine)

    # then: the owed points came out of the new points first
    assert await totals(engine, member) == {"balance": 70, "pending": 0, "owed": 0}


async def test_partial_refunds_reverse_everything_in_the_end(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    order = paid(member, 10_000)
    await deliver(engine, order)
    await deliver(engine, refunded(order, 3_333, 3_333))
    await release(engine)
    await deliver(engine, refunded(order, 3_333, 6_666))
    await deliver(engine, refunded(order, 3_334, 10_000))
    assert await totals(engine, member) == {"balance": 0, "pending": 0, "owed": 0}


async def test_a_refund_applied_once_even_under_another_event_id(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    order = paid(member, 10_000)
    await deliver(engine, order)
    refund = refunded(order, 5_000)
    await deliver(engine, refund)
    await deliver(engine, refund)
    copy = type(refund)(type=refund.type, aggregate_id=refund.aggregate_id, data=refund.data)
    await deliver(engine, copy)
    assert await totals(engine, member) == {"balance": 0, "pending": 50, "owed": 0}


async def test_a_refund_before_its_order_is_parked_and_applied_when_the_order_earns(engine: AsyncEngine) -> None:
    # given two partial refunds that overtake their order.paid (another order's events, or a redelivery)
    member = await known_member(engine)
    order = paid(member, 10_000)
    first = refunded(order, 2_000)
    second = refunded(order, 3_000, total_refunded_fen=5_000)

    # when they arrive first, then the order
    await deliver(engine, second)
    await deliver(engine, first)
    parked = await totals(engine, member)
    await deliver(engine, order)

    # then nothing moved while the refunds waited, and the order earned net of both, once
    assert parked == {"balance": 0, "pending": 0, "owed": 0}
    assert await totals(engine, member) == {"balance": 0, "pending": 50, "owed": 0}
    await deliver(engine, order)
    assert await totals(engine, member) == {"balance": 0, "pending": 50, "owed": 0}


async def test_an_order_of_a_member_loyalty_does_not_know_is_retried_and_writes_nothing(engine: AsyncEngine) -> None:
    stranger = uuid.uuid4()
    with pytest.raises(PostingRefused):
        await deliver(engine, paid(stranger, 10_000))
    assert await entries(engine, stranger) == []
    assert await outbox(engine) == []


async def test_an_order_of_a_closed_member_is_forfeited(engine: AsyncEngine) -> None:
    member = await known_member(engine, closed=True)
    assert await deliver(engine, paid(member, 10_000))
    assert await entries(engine, member) == []


async def test_the_welcome_gift_on_registration(engine: AsyncEngine) -> None:
    # given: a welcome gift of 100 points
    rules = EarnRules(welcome_points=100)
    member = uuid.uuid4()
    event = registered(member)

    # when: the registration arrives (twice, the second under another event id)
    await deliver(engine, event, rules)
    await deliver(engine, registered(member), rules)

    # then: the member is known and got the gift once
    assert await totals(engine, member) == {"balance": 100, "pending": 0, "owed": 0}
    ((entry),) = await entries(engine, member)
    assert entry["kind"] == "welcome"
    assert entry["key"] == f"member:{member}:welcome"
    assert [kind for kind, _ in await outbox(engine)] == ["points.earned"]


async def test_no_welcome_gift_when_it_is_zero(engine: AsyncEngine) -> None:
    member = uuid.uuid4()
    await deliver(engine, registered(member))
    assert await entries(engine, member) == []
    # and the member is known to loyalty now: their orders earn
    await deliver(engine, paid(member, 1_000))
    assert (await totals(engine, member))["pending"] == 10


async def test_lock_period_zero_releases_the_same_day(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await deliver(engine, paid(member, 1_000), EarnRules(lock_days=0))
    assert await release(engine, days_after=0) == (1, 10)


async def test_release_ignores_orders_not_yet_due(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await deliver(engine, paid(member, 1_000))
    await deliver(engine, paid(member, 2_000, occurred_at=AN_HOUR_AGO + timedelta(days=2)))
    assert await release(engine, days_after=7) == (1, 10)
    assert await release(engine, days_after=9) == (1, 20)


async def test_a_limited_release_stops_at_its_limit_and_the_next_call_goes_on(engine: AsyncEngine) -> None:
    # given: five orders due, of two members
    first, second = await known_member(engine), await known_member(engine)
    for member, paid_fen in ((first, 1_000), (second, 2_000), (first, 3_000), (second, 4_000), (first, 5_000)):
        await deliver(engine, paid(member, paid_fen))
    as_of = local_date(AN_HOUR_AGO) + timedelta(days=7)

    # when: released two orders a call, in batches of one
    calls = []
    while not calls or calls[-1].more:
        uow = LoyaltyUnitOfWork(session_factory(engine))
        calls.append(await earning.release_pending_points(uow, as_of=as_of, batch=1, limit=2))

    # then: 2 + 2 + 1 orders, every point once, and the last call says nothing is left
    assert [(c.orders, c.more) for c in calls] == [(2, True), (2, True), (1, False)]
    assert sum(c.points for c in calls) == 150
    assert await totals(engine, first) == {"balance": 90, "pending": 0, "owed": 0}
    assert await totals(engine, second) == {"balance": 60, "pending": 0, "owed": 0}
    assert await release(engine, days_after=30) == (0, 0)


async def test_an_unlimited_release_in_small_batches_releases_every_due_order(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    for paid_fen in (1_000, 2_000, 3_000):
        await deliver(engine, paid(member, paid_fen))
    await deliver(engine, paid(member, 4_000, occurred_at=AN_HOUR_AGO + timedelta(days=1)))
    as_of = local_date(AN_HOUR_AGO) + timedelta(days=8)

    result = await earning.release_pending_points(LoyaltyUnitOfWork(session_factory(engine)), as_of=as_of, batch=2)

    assert (result.orders, result.points, result.more) == (4, 100, False)
    assert await totals(engine, member) == {"balance": 100, "pending": 0, "owed": 0}
