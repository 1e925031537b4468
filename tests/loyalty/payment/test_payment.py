"""Points as cash on the real database: quote and hold, capture, void back to the lots, expiry of holds, each
exactly once under retries and 16 concurrent attempts, and the refusals that change nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.payment.errors import PaymentClosed, PaymentNotFound, QuoteRefused
from loyalty.payment.models import PaymentStatus
from loyalty.payment.rules import CashRules
from loyalty.payment.service import (
    capture_points_payment,
    quote_points_payment,
    release_expired_holds,
    void_points_payment,
)
from loyalty.payment.views import PaymentView
from loyalty.points.errors import IdempotencyKeyReused
from loyalty.points.lots import ExpiryPolicies
from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import balance, invariant_violations, lots, post, uow

RULES = CashRules()  # 100 points = ¥1, at most 50 %, orders from ¥10, holds for 15 minutes


async def quote(
    engine: AsyncEngine,
    member: uuid.UUID,
    amount: int,
    key: str,
    points: int | None = None,
    now: datetime | None = None,
) -> PaymentView:
    return await quote_points_payment(
        uow(engine),
        member_id=member,
        order_amount_fen=amount,
        store_code="S1",
        requested=points,
        quote_key=key,
        actor="till",
        rules=RULES,
        now=now or datetime.now(UTC),
    )


async def capture(engine: AsyncEngine, payment: uuid.UUID, key: str = "cap") -> PaymentView:
    return await capture_points_payment(uow(engine), payment_id=payment, capture_key=key, now=datetime.now(UTC))


async def void(engine: AsyncEngine, payment: uuid.UUID) -> PaymentView:
    return await void_points_payment(uow(engine), payment_id=payment, now=datetime.now(UTC))


def test_rules() -> None:
    assert RULES.cap(10_000) == 5_000
    assert RULES.quote(order_amount_fen=10_000, balance=3_000, requested=None) == (3_000, 3_000)
    assert CashRules(points_per_yuan=200).quote(order_amount_fen=10_000, balance=999, requested=None) == (998, 499)
    with pytest.raises(QuoteRefused):
        RULES.quote(order_amount_fen=999, balance=3_000, requested=None)  # below the minimum order
    with pytest.raises(QuoteRefused):
        RULES.quote(order_amount_fen=10_000, balance=9_000, requested=5_001)  # over the cap
    with pytest.raises(QuoteRefused):
        RULES.quote(order_amount_fen=10_000, balance=0, requested=None)  # nothing to hold


async def test_quote_holds_and_capture_spends(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 8_000, "g")

    held = await quote(engine, member, 10_000, "q1")
    captured = await capture(engine, held.id)
    again = await capture(engine, held.id)

    assert (held.points, held.amount_fen, held.status) == (5_000, 5_000, PaymentStatus.HELD)
    assert (captured.status, captured.replayed, again.replayed) == (PaymentStatus.CAPTURED, False, True)
    assert await balance(engine, member) == 3_000
    with pytest.raises(PaymentClosed):
        await capture(engine, held.id, "another-key")
    with pytest.raises(PaymentClosed):
        await void(engine, held.id)
    assert await invariant_violations(engine) == []


async def test_void_gives_the_points_back_to_their_lots(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 300, "soon", expiry=ExpiryPolicies.parse("default=5d"))
    await post(engine, member, 700, "late", expiry=ExpiryPolicies.parse("default=50d"))

    held = await quote(engine, member, 10_000, "q1", points=500)
    during = {lot["key"]: lot["remaining"] for lot in await lots(engine, member)}
    voided = await void(engine, held.id)
    again = await void(engine, held.id)

    assert during == {"soon": 0, "late": 500}
    assert {lot["key"]: lot["remaining"] for lot in await lots(engine, member)} == {"soon": 300, "late": 700}
    assert (voided.status, again.replayed) == (PaymentStatus.VOIDED, True)
    with pytest.raises(PaymentClosed):
        await capture(engine, held.id)
    assert await balance(engine, member) == 1_000


async def test_an_expired_hold_releases_itself(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 1_000, "g")
    old = await quote(engine, member, 10_000, "q-old", points=400, now=datetime.now(UTC) - timedelta(minutes=16))
    swept = await quote(engine, member, 10_000, "q-swept", points=100, now=datetime.now(UTC) - timedelta(minutes=16))

    with pytest.raises(PaymentClosed):
        await capture(engine, old.id)  # finds it expired: released, refused
    released = await release_expired_holds(uow(engine), now=datetime.now(UTC))

    assert released == 1  # the other one; the first released itself
    assert await balance(engine, member) == 1_000
    with pytest.raises(PaymentClosed):
        await void(engine, swept.id)
    assert await invariant_violations(engine) == []


async def test_retried_and_concurrent_quotes_captures_and_voids_apply_once(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 10_000, "g")

    quotes = await asyncio.gather(*(quote(engine, member, 10_000, "same-quote", points=1_000) for _ in range(16)))
    (payment_id,) = {q.id for q in quotes}
    captures = await asyncio.gather(*(capture(engine, payment_id, "same-capture") for _ in range(16)))
    other = await quote(engine, member, 10_000, "other", points=2_000)
    voids = await asyncio.gather(*(void(engine, other.id) for _ in range(16)), return_exceptions=True)

    assert sum(not q.replayed for q in quotes) == 1
    assert sum(not c.replayed for c in captures) == 1
    assert sum(isinstance(v, PaymentView) and not v.replayed for v in voids) == 1
    assert await balance(engine, member) == 9_000
    assert await invariant_violations(engine) == []


async def test_refusals_change_nothing(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 1_000, "g")
    await quote(engine, member, 10_000, "used", points=100)

    with pytest.raises(QuoteRefused):
        await quote(engine, member, 10_000, "over-cap", points=5_001)
    with pytest.raises(QuoteRefused):
        await quote(engine, member, 10_000, "over-balance", points=1_000)
    with pytest.raises(QuoteRefused):
        await quote(engine, member, 500, "small")
    with pytest.raises(QuoteRefused):
        await quote(engine, member, 10_000, "bad key!")
    with pytest.raises(IdempotencyKeyReused):
        await quote(engine, member, 20_000, "used", points=100)
    with pytest.raises(PaymentNotFound):
        await capture(engine, uuid.uuid4())
    with pytest.raises(PaymentNotFound):
        await void(engine, uuid.uuid4())

    assert await balance(engine, member) == 900
