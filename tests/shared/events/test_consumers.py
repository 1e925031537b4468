"""The receiving side: an event applied once whatever the deliveries, a poison event dead-lettered after N tries
with its error, and an operator's replay applying it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.directory.models import DirectoryMember
from loyalty.directory.service import on_member_registered
from loyalty.models import INBOX
from loyalty.uow import LoyaltyUnitOfWork
from tests.shared.events.conftest import eventually
from tests.shared.events.factories import count, loyalty_directory, start, stop
from yutang_shared.db import SessionFactory
from yutang_shared.events.bus import DEAD_LETTERS, MSG_ID, Header, ensure_stream
from yutang_shared.events.consumer import Subscription
from yutang_shared.events.dead_letters import dead_letters, replay
from yutang_shared.outbox import Event

SUBJECT = "yutang.members.member.registered"


def registered(member_id: uuid.UUID) -> Event:
    now = datetime.now(UTC)
    data = {"member_id": str(member_id), "registered_at": now.isoformat(), "source_channel": "store_qr"}
    return Event(type="member.registered", aggregate_id=str(member_id), data=data)


async def publish(js: JetStreamContext, event: Event, message_id: str | None = None) -> None:
    await js.publish(SUBJECT, event.to_json(), headers={MSG_ID: message_id or str(uuid.uuid4())})


async def test_an_event_delivered_twice_is_applied_once(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: the same event on the bus twice (a replay, or a re-publish outside the duplicate window)
    consumer = loyalty_directory(sessions, js, fetch_timeout=0.5)
    await consumer.ensure()
    event = registered(uuid.uuid4())
    await publish(js, event)
    await publish(js, event)

    # when
    subscription = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)
    outcomes = [await consumer.handle(message) for message in await subscription.fetch(2, timeout=2)]

    # then: applied, then recognised from the inbox; one directory row, one inbox row, nothing left pending
    assert outcomes == ["applied", "duplicate"]
    assert await count(events_engine, DirectoryMember) == 1
    assert await count(events_engine, INBOX) == 1
    info = await consumer.info()
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


async def test_a_failing_event_is_dead_lettered_after_max_deliveries_and_a_replay_applies_it(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: a handler that fails until an operator fixes what it depends on
    broken = {"yes": True}
    attempts: list[uuid.UUID] = []

    async def flaky(uow: LoyaltyUnitOfWork, event: Event) -> None:
        attempts.append(event.id)
        if broken["yes"]:
            raise RuntimeError("directory unavailable")
        await on_member_registered(uow, event)

    subscription = Subscription(name="directory", source="members", handlers={"member.registered": flaky})
    consumer = loyalty_directory(
        sessions, js, subscription, max_deliveries=3, backoff_seconds=(0.05,), fetch_timeout=0.5
    )
    event = registered(uuid.uuid4())
    task = start(consumer.run, "consumer")
    try:
        await eventually(_consumer_exists(consumer))
        await publish(js, event)

        # when: it fails three times
        async def dead_lettered() -> bool:
            return len(await dead_letters(js)) == 1

        await eventually(dead_lettered, within=20)

        # then: one dead letter with where it came from and why; nothing applied, nothing pending
        (letter,) = await dead_letters(js)
        assert (letter.service, letter.consumer, letter.subject) == ("loyalty", "directory", SUBJECT)
        assert (letter.event_id, letter.event_type, letter.deliveries) == (str(event.id), "member.registered", 3)
        assert "RuntimeError: directory unavailable" in letter.error
        assert attempts == [event.id] * 3
        assert await count(events_engine, DirectoryMember) == 0
        assert await count(events_engine, INBOX) == 0

        # when: the operator fixes the cause and replays
        broken["yes"] = False
        replayed = await replay(js, event_ids={str(event.id)})

        # then: applied once, and the dead letter is gone
        async def applied() -> bool:
            return await count(events_engine, DirectoryMember) == 1

        await eventually(applied, within=10)
        assert [r.event_id for r in replayed] == [str(event.id)]
        assert await dead_letters(js) == []
        assert await count(events_engine, INBOX) == 1
    finally:
        await stop(task)


async def test_a_message_that_is_no_event_is_dead_lettered_at_once(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given
    consumer = loyalty_directory(sessions, js, fetch_timeout=0.5)
    await consumer.ensure()
    await js.publish(SUBJECT, b"not json")

    # when
    subscription = await js.pull_subscribe_bind(durable=consumer.durable, stream=consumer.stream)
    (message,) = await subscription.fetch(1, timeout=2)

    # then
    assert await consumer.handle(message) == "dead-lettered"
    (letter,) = await dead_letters(js)
    assert letter.deliveries == 1
    assert letter.error.startswith("ValueError: not an event")
    raw = await js.get_msg(DEAD_LETTERS, letter.seq)
    assert (raw.headers or {})[Header.SUBJECT] == SUBJECT
    assert raw.data == b"not json"


async def test_streams_are_created_idempotently(js: JetStreamContext) -> None:
    # when: two processes make sure of the same stream
    await ensure_stream(js, "members")
    await ensure_stream(js, "members")

    # then
    info = await js.stream_info("YUTANG_MEMBERS")
    assert info.config.subjects == ["yutang.members.>"]
    assert info.config.duplicate_window == 120


def _consumer_exists(consumer):  # type: ignore[no-untyped-def]
    async def consumer_exists() -> bool:
        try:
            await consumer.info()
        except Exception:
            return False
        return True

    return consumer_exists
