"""The writing side: events are in the outbox only if their transaction commits, and the relay publishes them to
JetStream in commit order, marks them, wakes on NOTIFY and never stores a re-published batch twice."""

from __future__ import annotations

import asyncio
from datetime import datetime

from nats.js import JetStreamContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from members.models import OUTBOX
from members.pii import MobileVault
from tests.shared.events.conftest import eventually
from tests.shared.events.factories import count, members_relay, register, start, stop, stream_events
from yutang_shared.db import SessionFactory
from yutang_shared.events.bus import ensure_stream, stream_name
from yutang_shared.events.workers import outbox_backlog
from yutang_shared.outbox import Event, record


async def test_registering_a_member_writes_member_registered_in_the_same_transaction(
    sessions: SessionFactory, vault: MobileVault, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # when: a member registers, then registers again with the same mobile
    member_id = await register(sessions, vault, 1)
    again = await register(sessions, vault, 1)

    # then: one event, with the ids and dates consumers need and no personal data
    async with events_engine.connect() as connection:
        rows = (await connection.execute(select(OUTBOX))).mappings().all()
    assert again == member_id
    assert [(r["type"], r["version"], r["aggregate_id"], r["published_at"]) for r in rows] == [
        ("member.registered", 1, str(member_id), None)
    ]
    data = rows[0]["data"]
    assert set(data) == {"member_id", "registered_at", "source_channel", "birthday_md"}
    assert data["birthday_md"] is None  # month-day only, and only when known at registration
    assert data["member_id"] == str(member_id)
    assert data["source_channel"] == "store_qr"
    datetime.fromisoformat(data["registered_at"])


async def test_a_rolled_back_transaction_leaves_no_event(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: an event recorded in a transaction that then fails
    async with sessions() as session:
        await record(session, OUTBOX, [Event(type="member.registered", aggregate_id="x", data={})])
        assert await count(events_engine, OUTBOX) == 0  # not visible before commit
        await session.rollback()

    # then
    assert await count(events_engine, OUTBOX) == 0


async def test_the_relay_publishes_in_commit_order_in_batches_and_marks_every_row(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: 1 200 events committed in 12 transactions
    recorded: list[Event] = []
    for chunk in range(12):
        events = [Event(type="member.registered", aggregate_id=f"{chunk}-{i}", data={"i": i}) for i in range(100)]
        async with sessions() as session, session.begin():
            await record(session, OUTBOX, events)
        recorded += events
    relay = members_relay(events_engine, sessions, js, batch=500)
    async with sessions() as session:
        assert (await outbox_backlog(session, OUTBOX))["unpublished"] == 1200

    # when: the relay runs its batches until nothing is left
    await ensure_stream(js, "members")
    published = [await relay.publish_batch() for _ in range(4)]

    # then: three batches (500, 500, 200), the stream in commit order on the event's subject, every row marked
    assert published == [500, 500, 200, 0]
    stored = await stream_events(js, "members")
    assert [event.id for _, event in stored] == [event.id for event in recorded]
    raw = await js.get_msg(stream_name("members"), 1)
    assert raw.subject == "yutang.members.member.registered"
    assert (raw.headers or {}).get("Nats-Msg-Id") == str(recorded[0].id)
    assert await count(events_engine, OUTBOX, OUTBOX.c.published_at.is_(None)) == 0
    async with sessions() as session:
        assert await outbox_backlog(session, OUTBOX) == {"unpublished": 0, "oldest_age_seconds": 0.0}


async def test_a_batch_published_again_after_a_crash_is_stored_once(
    sessions: SessionFactory, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: a relay that published a batch but died before marking it (its transaction rolled back)
    async with sessions() as session, session.begin():
        await record(
            session, OUTBOX, [Event(type="member.registered", aggregate_id=str(i), data={}) for i in range(50)]
        )
    relay = members_relay(events_engine, sessions, js)
    await ensure_stream(js, "members")
    async with sessions() as session, session.begin():
        rows = await relay._next_rows(session)
        assert await relay._publish(rows) == 50
        await session.rollback()
    assert await count(events_engine, OUTBOX, OUTBOX.c.published_at.is_(None)) == 50

    # when: the next relay publishes the same rows again
    assert await relay.publish_batch() == 50

    # then: JetStream de-duplicated them by event id
    assert len(await stream_events(js, "members")) == 50
    assert await count(events_engine, OUTBOX, OUTBOX.c.published_at.is_(None)) == 0


async def test_the_relay_wakes_on_the_commit_notification_not_on_its_poll(
    sessions: SessionFactory, vault: MobileVault, events_engine: AsyncEngine, js: JetStreamContext
) -> None:
    # given: a running relay that would poll only once a minute
    relay = members_relay(events_engine, sessions, js, poll_seconds=60)
    task = start(relay.run, "relay")
    try:
        await eventually(_stream_exists(js))
        await asyncio.sleep(0.2)  # the relay is now waiting

        # when
        member_id = await register(sessions, vault, 7)

        # then: the event is on the bus long before the next poll
        async def published() -> bool:
            return [e.aggregate_id for _, e in await stream_events(js, "members")] == [str(member_id)]

        await eventually(published, within=10)
    finally:
        await stop(task)


def _stream_exists(js: JetStreamContext):  # type: ignore[no-untyped-def]
    async def stream_exists() -> bool:
        try:
            await js.stream_info(stream_name("members"))
        except Exception:
            return False
        return True

    return stream_exists
