"""Faults mid-stream: the relay killed, the NATS server killed and restarted on its store, a consumer restarted,
while 500 members register. Afterwards every event is on the bus once and applied exactly once by each
consumer: none lost, none applied twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from community.directory.models import DirectoryMember as CommunityDirectoryMember
from community.directory.service import SUBSCRIPTION as COMMUNITY_DIRECTORY
from community.models import INBOX as COMMUNITY_INBOX
from loyalty.directory.models import DirectoryMember as LoyaltyDirectoryMember
from loyalty.directory.service import SUBSCRIPTION as LOYALTY_DIRECTORY
from loyalty.models import INBOX as LOYALTY_INBOX
from members.models import OUTBOX
from members.pii import MobileVault
from tests.shared.events.conftest import eventually
from tests.shared.events.factories import (
    community_directory,
    count,
    loyalty_directory,
    members_relay,
    register,
    start,
    stop,
    stream_events,
)
from yutang_dev.nats import EmbeddedNats
from yutang_shared.db import SessionFactory
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event

MEMBERS = 500


def counting(subscription: Subscription, applied: Counter[uuid.UUID]) -> Subscription:  # type: ignore[type-arg]
    """The subscription with each handler counting the events it applied."""

    def wrap(handler):  # type: ignore[no-untyped-def]
        async def counted(uow, event: Event) -> None:  # type: ignore[no-untyped-def]
            await handler(uow, event)
            applied[event.id] += 1

        return counted

    handlers = {event_type: wrap(handler) for event_type, handler in subscription.handlers.items()}
    return Subscription(name=subscription.name, source=subscription.source, handlers=handlers)


async def test_no_event_is_lost_or_applied_twice_when_relay_bus_and_consumer_fail(
    sessions: SessionFactory,
    vault: MobileVault,
    events_engine: AsyncEngine,
    js: JetStreamContext,
    bus: EmbeddedNats,
) -> None:
    # given: the members relay and both directory consumers running, each consumer counting what it applies
    loyalty_applied: Counter[uuid.UUID] = Counter()
    community_applied: Counter[uuid.UUID] = Counter()
    options = {"fetch_timeout": 0.5, "backoff_seconds": (0.1,)}
    loyalty_sub = counting(LOYALTY_DIRECTORY, loyalty_applied)

    def relay():  # type: ignore[no-untyped-def]
        return members_relay(events_engine, sessions, js, batch=50, poll_seconds=0.2, ack_timeout=2.0)

    relay_task = start(relay().run, "relay")
    loyalty_task = start(loyalty_directory(sessions, js, loyalty_sub, **options).run, "loyalty")
    community = community_directory(sessions, js, **options)
    community.subscription = counting(COMMUNITY_DIRECTORY, community_applied)
    community_task = start(community.run, "community")
    registered: list[uuid.UUID] = []

    async def registrations() -> None:
        for first in range(0, MEMBERS, 10):
            registered.extend(await asyncio.gather(*(register(sessions, vault, n) for n in range(first, first + 10))))

    producer = start(registrations, "registrations")
    try:
        # when: the relay is killed mid-stream and another takes over
        await _until(lambda: len(registered) >= 100)
        await stop(relay_task)
        await asyncio.sleep(0.3)
        relay_task = start(relay().run, "relay-2")

        # and: the NATS server is killed (no clean shutdown) and restarted on the same store
        await _until(lambda: len(registered) >= 250)
        bus.kill()
        await asyncio.sleep(0.5)
        bus.start()

        # and: the loyalty consumer is stopped and a new one starts on the same durable consumer
        await _until(lambda: len(registered) >= 350)
        await stop(loyalty_task)
        loyalty_task = start(loyalty_directory(sessions, js, loyalty_sub, **options).run, "loyalty-2")
        await producer

        # then: every member reaches both directories
        async def everyone_everywhere() -> bool:
            return (
                await count(events_engine, LoyaltyDirectoryMember) == MEMBERS
                and await count(events_engine, CommunityDirectoryMember) == MEMBERS
            )

        await eventually(everyone_everywhere, within=90)
    finally:
        for task in (producer, relay_task, loyalty_task, community_task):
            await stop(task)

    # and: every event was published (once: JetStream dropped re-publishes) and applied exactly once by each
    outbox_ids = {uuid.UUID(str(e)) for e in await _outbox_ids(events_engine)}
    assert len(outbox_ids) == MEMBERS
    on_bus = [event.id for _, event in await stream_events(js, "members")]
    assert set(on_bus) == outbox_ids
    assert len(on_bus) == MEMBERS
    assert await count(events_engine, OUTBOX, OUTBOX.c.published_at.is_(None)) == 0
    assert set(loyalty_applied) == outbox_ids
    assert set(community_applied) == outbox_ids
    assert set(loyalty_applied.values()) == {1}
    assert set(community_applied.values()) == {1}
    assert await count(events_engine, LOYALTY_INBOX) == MEMBERS
    assert await count(events_engine, COMMUNITY_INBOX) == MEMBERS


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    async def holds() -> bool:
        return bool(condition())

    await eventually(holds, within=60, every=0.01)


async def _outbox_ids(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as connection:
        return list((await connection.execute(OUTBOX.select().with_only_columns(OUTBOX.c.id))).scalars())
