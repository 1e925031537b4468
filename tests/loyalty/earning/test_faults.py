"""Faults while orders flow: the earning consumer stopped and restarted, the NATS server killed and restarted on
its store, while 120 orders (and refunds of 4 in every 10) go through the members use cases, its relay and the
`loyalty-earning` consumer. Afterwards each order's points are exactly what the rules say, once."""

from __future__ import annotations

import asyncio
import uuid

from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.earning import service as earning
from loyalty.earning.rules import EarnRules, reversed_through
from loyalty.models import INBOX
from loyalty.uow import LoyaltyUnitOfWork
from members.orders.service import record_orders, record_refund
from members.pii import MobileVault
from members.uow import MembersUnitOfWork
from tests.members.orders.conftest import make_stores
from tests.members.orders.factories import lines, make_order, make_refund
from tests.shared.events.conftest import eventually
from tests.shared.events.factories import count, members_relay, register, start, stop
from yutang_dev.nats import EmbeddedNats
from yutang_shared.db import SessionFactory
from yutang_shared.events.consumer import Consumer

MEMBERS = 20
ORDERS = 120
RULES = EarnRules()


def consumer(sessions: SessionFactory, js: JetStreamContext) -> Consumer[LoyaltyUnitOfWork]:
    return Consumer(
        service="loyalty",
        subscription=earning.subscription(RULES),
        inbox=INBOX,
        unit_of_work=lambda: LoyaltyUnitOfWork(sessions),
        js=js,
        fetch_timeout=0.5,
        # The production backoff (1, 2, 5, 10, 30 s): a refund that overtakes its order.paid (redelivered only
        # after the ack wait, 30 s, when the consumer died holding it) is retried long enough to see it applied.
    )


async def test_points_per_order_are_exact_when_the_consumer_and_the_bus_fail(
    sessions: SessionFactory,
    vault: MobileVault,
    events_engine: AsyncEngine,
    js: JetStreamContext,
    bus: EmbeddedNats,
) -> None:
    # given: members registered, the members relay and the earning consumer running
    await make_stores(events_engine, "S001")
    members = [await register(sessions, vault, n) for n in range(MEMBERS)]
    relay_task = start(
        members_relay(events_engine, sessions, js, batch=50, poll_seconds=0.2, ack_timeout=2.0).run, "relay"
    )
    consumer_task = start(consumer(sessions, js).run, "earning")
    paid: dict[uuid.UUID, int] = {}
    refunded: set[uuid.UUID] = set()

    async def orders() -> None:
        for first in range(0, ORDERS, 10):
            batch = [
                make_order(members[i % MEMBERS], paid_fen=1_000 + 137 * i, discount_fen=0, lines=lines(1_000 + 137 * i))
                for i in range(first, first + 10)
            ]
            results = await record_orders(MembersUnitOfWork(sessions), vault, batch, client="pos")
            for result in results:
                order = result.order  # type: ignore[union-attr]
                paid[order.id] = order.paid_fen
            for result in results[::3]:
                order = result.order  # type: ignore[union-attr]
                await record_refund(
                    MembersUnitOfWork(sessions), make_refund(order.id, amount_fen=order.paid_fen // 2), client="pos"
                )
                refunded.add(order.id)
            await asyncio.sleep(0.05)

    producer = start(orders, "orders")
    try:
        # when: the consumer is stopped mid-stream and a new one takes over the durable consumer
        await _until(lambda: len(paid) >= 30)
        await stop(consumer_task)
        await asyncio.sleep(0.3)
        consumer_task = start(consumer(sessions, js).run, "earning-2")

        # and: the NATS server is killed (no clean shutdown) and restarted on the same store
        await _until(lambda: len(paid) >= 70)
        bus.kill()
        await asyncio.sleep(0.5)
        bus.start()
        await producer

        # then: every registration, order and refund is applied
        async def all_applied() -> bool:
            return await count(events_engine, INBOX, INBOX.c.consumer == earning.CONSUMER) == MEMBERS + ORDERS + len(
                refunded
            )

        await eventually(all_applied, within=150)
    finally:
        for task in (producer, relay_task, consumer_task):
            await stop(task)

    # and: each order's entries are exactly what the rules say, written once
    assert len(paid) == ORDERS
    async with events_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT order_id, sum(points) FILTER (WHERE kind = 'earn_pending') AS earned, "
                "count(*) FILTER (WHERE kind = 'earn_pending') AS earns, "
                "coalesce(-sum(points) FILTER (WHERE kind = 'pending_cancelled'), 0) AS cancelled "
                "FROM loyalty.ledger_entries WHERE order_id IS NOT NULL GROUP BY order_id"
            )
        )
        ledger = {row.order_id: row for row in rows}
    assert set(ledger) == set(paid)
    assert len(refunded) == ORDERS // 10 * 4
    for order_id, paid_fen in paid.items():
        expected = paid_fen // 100
        assert ledger[order_id].earned == expected
        assert ledger[order_id].earns == 1
        reversal = reversed_through(expected, paid_fen=paid_fen, refunded_fen=paid_fen // 2)
        assert ledger[order_id].cancelled == (reversal if order_id in refunded else 0)


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    async def holds() -> bool:
        return bool(condition())

    await eventually(holds, within=60, every=0.01)
