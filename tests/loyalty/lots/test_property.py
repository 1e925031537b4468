"""Property-based: random sequences of earn, spend, hold, capture, void, refund, expire and replayed keys against
the real database; after every step the balance is the sum of the lots (never negative), the lots are what a
model taking soonest-expiring first says, the reconciliation finds nothing, and no key applied twice."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.payment.errors import PaymentClosed, QuoteRefused
from loyalty.payment.rules import CashRules
from loyalty.payment.service import capture_points_payment, quote_points_payment, void_points_payment
from loyalty.points.errors import InsufficientPoints
from loyalty.points.lots import ExpiryPolicies
from loyalty.points.models import EntryKind
from loyalty.points.views import Posted
from tests.loyalty.factories import known_member
from tests.loyalty.lots.model import Model
from tests.loyalty.lots.support import balance, days, expire, invariant_violations, lots, post, uow

MEMBERS = 2
member_index = st.integers(0, MEMBERS - 1)
operation = st.one_of(
    st.tuples(st.just("earn"), member_index, st.integers(1, 500), st.one_of(st.none(), st.integers(1, 20))),
    st.tuples(st.just("order"), member_index, st.integers(1, 500), st.integers(1, 20)),
    st.tuples(st.just("spend"), member_index, st.integers(1, 600)),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 500)),
    st.tuples(st.just("expire"), st.integers(0, 25)),
    st.tuples(st.just("replay"), st.integers(0, 50)),
    st.tuples(st.just("hold"), member_index, st.integers(1, 600)),
    st.tuples(st.just("capture"), st.integers(0, 50)),
    st.tuples(st.just("release"), st.integers(0, 50)),
)


class Run:
    """One example: its members, the model, and what was done (for voids, refunds and replays)."""

    def __init__(self, engine: AsyncEngine, members: list[uuid.UUID]) -> None:
        self.engine = engine
        self.members = members
        self.model = Model()
        self.spends: list[tuple[str, str, Posted]] = []  # (member, key, result)
        self.orders: list[tuple[int, str, int]] = []  # (member index, order id, points)
        self.done: list[tuple[Any, ...]] = []  # (member, points, key, kwargs) of applied postings
        self.n = 0
        self.holds: list[tuple[str, str, uuid.UUID]] = []
        self.captured: set[str] = set()
        self.released: set[str] = set()
        self.prefix = uuid.uuid4().hex[:12]  # examples share the database: keys of one example are its own

    def key(self, name: str) -> str:
        self.n += 1
        return f"{self.prefix}-{name}-{self.n}"

    async def apply(self, op: tuple[Any, ...]) -> None:
        handler = getattr(self, f"_{op[0]}")
        await handler(*op[1:])

    async def _earn(self, m: int, points: int, policy_days: int | None) -> None:
        policy = ExpiryPolicies.parse("default=never" if policy_days is None else f"default={policy_days}d")
        key = self.key("earn")
        await self._post(m, points, key, expiry=policy)
        self.model.grant(str(m), key, points, None if policy_days is None else days(policy_days + 1))

    async def _order(self, m: int, points: int, policy_days: int) -> None:
        order = str(uuid.uuid4())
        key = self.key("order")
        policy = ExpiryPolicies.parse(f"default={policy_days}d")
        await self._post(m, points, key, kind=EntryKind.EARN, order_id=uuid.UUID(order), expiry=policy)
        self.model.grant(str(m), key, points, days(policy_days + 1), order=order)
        self.orders.append((m, order, points))

    async def _spend(self, m: int, points: int) -> None:
        key = self.key("spend")
        result = await post(self.engine, self.members[m], -points, key)
        expected = self.model.debit(str(m), key, points)
        assert isinstance(result, Posted) == expected, result
        if isinstance(result, Posted):
            self.spends.append((str(m), key, result))
            self.done.append((m, -points, key, {}))

    async def _void(self, i: int) -> None:
        if not self.spends:
            return
        _m, key, spend = self.spends[i % len(self.spends)]
        result = await post(
            self.engine, spend.entry.member_id, -spend.entry.points, f"void-{key}", restores=spend.entry.id
        )
        assert isinstance(result, Posted)
        if not result.replayed:
            assert self.model.restore(key) == -spend.entry.points

    async def _refund(self, i: int, points: int) -> None:
        if not self.orders:
            return
        m, order, _ = self.orders[i % len(self.orders)]
        key = self.key("refund")
        result = await post(
            self.engine, self.members[m], -points, key, kind=EntryKind.REVERSAL, order_id=uuid.UUID(order)
        )
        expected = self.model.debit(str(m), key, points, order=order)
        assert isinstance(result, Posted) == expected
        if not expected:
            assert isinstance(result, InsufficientPoints)

    async def _expire(self, ahead: int) -> None:
        # Examples share the database: earlier examples' members expire too, so `check` compares this one's.
        result = await expire(self.engine, days(ahead))
        assert result.points >= self.model.expire(days(ahead))

    async def _replay(self, i: int) -> None:
        if not self.done:
            return
        m, points, key, kwargs = self.done[i % len(self.done)]
        result = await post(self.engine, self.members[m], points, key, **kwargs)
        assert isinstance(result, Posted)
        assert result.replayed

    async def _hold(self, m: int, points: int) -> None:
        key = self.key("hold")
        try:
            held = await quote_points_payment(
                uow(self.engine),
                member_id=self.members[m],
                order_amount_fen=points * 2,
                store_code="S1",
                requested=points,
                quote_key=key,
                actor="till",
                rules=CashRules(min_order_fen=0),
                now=datetime.now(UTC),
            )
        except QuoteRefused:
            assert self.model.balance(str(m)) < points
            return
        assert self.model.debit(str(m), key, points)
        self.holds.append((str(m), key, held.id))
        again = await quote_points_payment(
            uow(self.engine),
            member_id=self.members[m],
            order_amount_fen=points * 2,
            store_code="S1",
            requested=points,
            quote_key=key,
            actor="till",
            rules=CashRules(min_order_fen=0),
            now=datetime.now(UTC),
        )
        assert again.replayed
        assert again.id == held.id

    async def _capture(self, i: int) -> None:
        if not self.holds:
            return
        _, key, payment = self.holds[i % len(self.holds)]
        try:
            await capture_points_payment(
                uow(self.engine), payment_id=payment, capture_key=f"c-{key}", now=datetime.now(UTC)
            )
        except PaymentClosed:
            assert key in self.released
            return
        self.captured.add(key)

    async def _release(self, i: int) -> None:
        if not self.holds:
            return
        _, key, payment = self.holds[i % len(self.holds)]
        try:
            voided = await void_points_payment(uow(self.engine), payment_id=payment, now=datetime.now(UTC))
        except PaymentClosed:
            assert key in self.captured
            return
        if not voided.replayed:
            self.model.restore(key)
            self.released.add(key)

    async def _post(self, m: int, points: int, key: str, **kwargs: Any) -> None:
        result = await post(self.engine, self.members[m], points, key, **kwargs)
        assert isinstance(result, Posted)
        assert not result.replayed
        self.done.append((m, points, key, kwargs))

    async def check(self) -> None:
        for m, member in enumerate(self.members):
            assert await balance(self.engine, member) == self.model.balance(str(m)) >= 0
            found = {lot["key"]: lot["remaining"] for lot in await lots(self.engine, member)}
            assert found == self.model.remaining(str(m))
        assert await invariant_violations(self.engine) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=30))
async def test_random_sequences_keep_every_invariant(engine: AsyncEngine, operations: list[tuple[Any, ...]]) -> None:
    run = Run(engine, [await known_member(engine) for _ in range(MEMBERS)])
    for op in operations:
        await run.apply(op)
        await run.check()


def test_the_model_is_not_trivially_equal() -> None:
    """The model itself takes soonest-expiring first (a model that agreed with anything would prove nothing)."""
    model = Model()
    model.grant("m", "late", 100, date(2030, 1, 1))
    model.grant("m", "soon", 100, date(2029, 1, 1))
    assert model.debit("m", "s", 150)
    assert model.remaining("m") == {"late": 50, "soon": 0}
