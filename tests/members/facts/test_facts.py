"""Members' copies of loyalty's and community's facts, written by the contract events (points.balance-changed,
tier.changed, benefit-card.changed, membership.changed v1) into the consumer: newest change wins, once per event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.facts.service import COMMUNITY, LOYALTY, UnsupportedEvent
from members.models import INBOX
from members.uow import MembersUnitOfWork
from yutang_shared.db import session_factory
from yutang_shared.inbox import claim
from yutang_shared.outbox import Event

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def deliver(engine: AsyncEngine, event: Event) -> bool:
    """What the inbox consumer does with one message: claim it, apply it, commit; False for a duplicate."""
    subscription = LOYALTY if event.type in LOYALTY.handlers else COMMUNITY
    uow = MembersUnitOfWork(session_factory(engine))
    async with uow:
        if not await claim(uow.session, INBOX, consumer=subscription.name, event_id=event.id):
            return False
        await subscription.handlers[event.type](uow, event)
        await uow.commit()
    return True


def event(kind: str, member_id: uuid.UUID, at: datetime, **data: Any) -> Event:
    return Event(
        type=kind, aggregate_id=str(member_id), data={"member_id": str(member_id), "changed_at": at.isoformat(), **data}
    )


async def rows(engine: AsyncEngine, table: str) -> list[dict[str, Any]]:
    # `table` is one of this module's literal table names, never input.
    statement = text(f"SELECT * FROM members.{table}")  # noqa: S608
    async with engine.connect() as connection:
        return [dict(r) for r in (await connection.execute(statement)).mappings()]


async def test_points_and_tier_keep_the_newest_fact(engine: AsyncEngine) -> None:
    member_id = uuid.uuid4()
    newer = event("points.balance-changed", member_id, T0 + timedelta(minutes=1), available=250)
    older = event("points.balance-changed", member_id, T0, available=100)
    assert await deliver(engine, newer)
    assert await deliver(engine, older)  # arrives late: applied, changes nothing
    assert not await deliver(engine, newer)  # redelivered: a duplicate
    tier = event("tier.changed", member_id, T0, from_level="normal", to_level="gold", direction="up", vip_eligible=True)
    assert await deliver(engine, tier)
    [row] = await rows(engine, "member_loyalty_facts")
    assert (row["points_available"], row["tier"], row["vip_eligible"]) == (250, "gold", True)


async def test_benefit_cards_and_group_memberships(engine: AsyncEngine) -> None:
    member_id, group_id = uuid.uuid4(), uuid.uuid4()
    await deliver(
        engine, event("benefit-card.changed", member_id, T0, card_code="BIRTHDAY", held=True, expires_at=None)
    )
    await deliver(
        engine,
        event(
            "benefit-card.changed", member_id, T0 + timedelta(days=1), card_code="BIRTHDAY", held=False, expires_at=None
        ),
    )
    await deliver(
        engine,
        event("membership.changed", member_id, T0, group_id=str(group_id), group_type="vip", status="joined"),
    )
    [card] = await rows(engine, "member_benefit_cards")
    [membership] = await rows(engine, "member_group_memberships")
    assert (card["card_code"], card["held"]) == ("BIRTHDAY", False)
    assert (membership["group_id"], membership["group_type"], membership["status"]) == (group_id, "vip", "joined")


@pytest.mark.parametrize(
    "bad",
    [
        Event(type="tier.changed", aggregate_id="x", version=2, data={}),
        event("tier.changed", uuid.uuid4(), T0, to_level="platinum", vip_eligible=False),
        event("points.balance-changed", uuid.uuid4(), T0, available="12"),
        event("membership.changed", uuid.uuid4(), T0, group_id=str(uuid.uuid4()), group_type="x", status="maybe"),
    ],
)
async def test_an_event_it_does_not_understand_is_refused_and_changes_nothing(engine: AsyncEngine, bad: Event) -> None:
    with pytest.raises((UnsupportedEvent, KeyError)):
        await deliver(engine, bad)
    assert await rows(engine, "member_loyalty_facts") == []
    assert await rows(engine, "inbox") == []


async def test_a_run_of_balance_events_in_one_statement_leaves_what_one_by_one_leaves(engine: AsyncEngine) -> None:
    # given: five balance events for two members, out of order, one member's newest twice with the same time
    first, second = uuid.uuid4(), uuid.uuid4()
    run = [
        event("points.balance-changed", first, T0 + timedelta(minutes=2), available=300),
        event("points.balance-changed", first, T0, available=100),
        event("points.balance-changed", second, T0, available=50),
        event("points.balance-changed", second, T0 + timedelta(minutes=1), available=70),
        event("points.balance-changed", second, T0 + timedelta(minutes=1), available=75),
    ]
    already = event("points.balance-changed", first, T0 + timedelta(minutes=1), available=200)
    assert await deliver(engine, already)

    # when: applied together by the batch handler
    uow = MembersUnitOfWork(session_factory(engine))
    async with uow:
        await LOYALTY.batch_handlers["points.balance-changed"](uow, run)
        await uow.commit()

    # then: the newest of each member, a tie going to the later event, as one by one would leave it
    stored = {row["member_id"]: row["points_available"] for row in await rows(engine, "member_loyalty_facts")}
    assert stored == {first: 300, second: 75}


async def test_a_run_with_a_malformed_event_raises_and_writes_nothing(engine: AsyncEngine) -> None:
    member_id = uuid.uuid4()
    run = [
        event("points.balance-changed", member_id, T0, available=100),
        event("points.balance-changed", member_id, T0 + timedelta(minutes=1), available="lots"),
    ]
    uow = MembersUnitOfWork(session_factory(engine))
    async with uow:
        with pytest.raises(UnsupportedEvent):
            await LOYALTY.batch_handlers["points.balance-changed"](uow, run)
    assert await rows(engine, "member_loyalty_facts") == []
