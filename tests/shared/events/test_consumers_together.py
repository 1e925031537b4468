"""Events applied together: a fetched batch in one transaction, and the fall-back to one by one when any of it
fails, with nothing of the failed batch written."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.directory.models import DirectoryMember
from loyalty.directory.service import on_member_registered
from loyalty.models import INBOX
from loyalty.uow import LoyaltyUnitOfWork
from tests.shared.events.factories import count, loyalty_directory
from tests.shared.events.test_consumers import publish, registered
from yutang_shared.db import SessionFactory
from yutang_shared.events.bus import MSG_ID
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event


async def test_a_batch_is_applied_in_one_transaction_and_a_redelivery_finds_its_claims(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: three events, the second published twice
    subscription = Subscription(
        name="directory", source="members", handlers={"member.registered": on_member_registered}, together=True
    )
    consumer = loyalty_directory(sessions, js, subscription, fetch_timeout=0.5)
    await consumer.ensure()
    events = [registered(uuid.uuid4()) for _ in range(3)]
    for event in (*events, events[1]):
        await publish(js, event)

    # when: fetched together
    pulled = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)
    assert await consumer.apply_together(await pulled.fetch(4, timeout=2))

    # then: three members, three claims, every message acknowledged
    assert await count(events_engine, DirectoryMember) == 3
    assert await count(events_engine, INBOX) == 3
    info = await consumer.info()
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


async def test_a_batch_with_a_failing_event_writes_nothing_and_leaves_the_messages_to_one_by_one(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: a handler that fails on one event of three
    poison = registered(uuid.uuid4())

    async def sometimes(uow: LoyaltyUnitOfWork, event: Event) -> None:
        if event.id == poison.id:
            raise RuntimeError("cannot apply this one")
        await on_member_registered(uow, event)

    subscription = Subscription(
        name="directory", source="members", handlers={"member.registered": sometimes}, together=True
    )
    consumer = loyalty_directory(sessions, js, subscription, max_deliveries=1, fetch_timeout=0.5)
    await consumer.ensure()
    for event in (registered(uuid.uuid4()), poison, registered(uuid.uuid4())):
        await publish(js, event)
    pulled = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)
    messages = await pulled.fetch(3, timeout=2)

    # when: tried together
    # then: refused, nothing written, nothing settled
    assert not await consumer.apply_together(messages)
    assert await count(events_engine, DirectoryMember) == 0
    assert await count(events_engine, INBOX) == 0
    assert (await consumer.info()).num_ack_pending == 3

    # when: one by one, as the consumer then goes on
    outcomes = [await consumer.handle(message) for message in messages]

    # then: the two good ones applied, the poison one dead-lettered
    assert outcomes == ["applied", "dead-lettered", "applied"]
    assert await count(events_engine, DirectoryMember) == 2
    assert await count(events_engine, INBOX) == 2


async def test_a_batch_applies_each_event_once_beside_earlier_claims_and_copies_in_the_same_fetch(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: four events, the first already applied one by one, the third on the bus twice in the same fetch
    applied: list[uuid.UUID] = []

    async def counting(uow: LoyaltyUnitOfWork, event: Event) -> None:
        applied.append(event.id)
        await on_member_registered(uow, event)

    subscription = Subscription(
        name="directory", source="members", handlers={"member.registered": counting}, together=True
    )
    consumer = loyalty_directory(sessions, js, subscription, fetch_timeout=0.5)
    await consumer.ensure()
    events = [registered(uuid.uuid4()) for _ in range(4)]
    await publish(js, events[0])
    pulled = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)
    (first,) = await pulled.fetch(1, timeout=2)
    assert await consumer.handle(first) == "applied"
    for event in (events[0], events[1], events[2], events[2], events[3]):
        await publish(js, event)

    # when: the five messages are applied together
    assert await consumer.apply_together(await pulled.fetch(5, timeout=2))

    # then: every event's handler ran exactly once; four members, four claims, nothing left to acknowledge
    assert sorted(applied) == sorted(e.id for e in events)
    assert await count(events_engine, DirectoryMember) == 4
    assert await count(events_engine, INBOX) == 4
    info = await consumer.info()
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


async def test_a_batch_handler_takes_each_run_of_its_type_and_the_order_across_types_is_kept(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: registered, registered, closed, registered (closed has no batch handler)
    calls: list[tuple[str, int]] = []

    async def many(uow: LoyaltyUnitOfWork, events: Sequence[Event]) -> None:
        calls.append(("registered", len(events)))
        for event in events:
            await on_member_registered(uow, event)

    async def closed(uow: LoyaltyUnitOfWork, event: Event) -> None:
        calls.append(("closed", 1))

    subscription = Subscription(
        name="directory",
        source="members",
        handlers={"member.registered": on_member_registered, "member.closed": closed},
        together=True,
        batch_handlers={"member.registered": many},
    )
    consumer = loyalty_directory(sessions, js, subscription, fetch_timeout=0.5)
    await consumer.ensure()
    ids = [uuid.uuid4() for _ in range(3)]
    gone = Event(type="member.closed", aggregate_id=str(ids[0]), data={"member_id": str(ids[0])})
    for event in (registered(ids[0]), registered(ids[1]), gone, registered(ids[2])):
        await js.publish(event.subject("members"), event.to_json(), headers={MSG_ID: str(uuid.uuid4())})

    # when
    pulled = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)
    assert await consumer.apply_together(await pulled.fetch(4, timeout=2))

    # then: two registrations in one call, the closing, then the last registration
    assert calls == [("registered", 2), ("closed", 1), ("registered", 1)]
    assert await count(events_engine, DirectoryMember) == 3
    assert await count(events_engine, INBOX) == 4
