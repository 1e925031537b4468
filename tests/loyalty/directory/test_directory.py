"""Loyalty's member directory: kept from members' events, and points refused for members it does not hold as
active (never registered, not yet heard of, or closed) with nothing written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.directory.errors import UnknownMember
from loyalty.directory.models import DirectoryMember
from loyalty.directory.service import (
    SUBSCRIPTION,
    NotYetRegistered,
    UnsupportedEvent,
    on_member_closed,
    on_member_registered,
    on_member_updated,
)
from loyalty.points.service import Adjustment, adjust_points, adjust_points_batch
from loyalty.points.views import Posted
from loyalty.uow import LoyaltyUnitOfWork
from tests.loyalty.factories import known_member
from tests.support import SubgraphClient, Tokens
from yutang_shared.db import session_factory
from yutang_shared.outbox import Event

ADJUST = """
mutation($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    __typename
    ... on LoyaltyUnknownMemberError { code memberId message }
  }
}
"""
BATCH = """
mutation($inputs: [AdjustPointsInput!]!) {
  adjustPointsBatch(inputs: $inputs) { __typename ... on LoyaltyUnknownMemberError { code memberId } }
}
"""


def adjustment(member: uuid.UUID, key: str) -> dict[str, object]:
    return {"memberId": str(member), "points": 10, "reason": "开卡礼", "idempotencyKey": key}


async def written(engine: AsyncEngine) -> tuple[int, int]:
    """(accounts, ledger entries) in loyalty."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT (SELECT count(*) FROM loyalty.accounts), (SELECT count(*) FROM loyalty.ledger_entries)")
            )
        ).one()
    return int(row[0]), int(row[1])


async def directory(engine: AsyncEngine) -> dict[uuid.UUID, tuple[str, datetime | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(DirectoryMember.member_id, DirectoryMember.status, DirectoryMember.registered_at)
        )  # type: ignore[call-overload]
        return {row[0]: (row[1], row[2]) for row in rows}


def event(event_type: str, member_id: uuid.UUID, version: int = 1, **data: str) -> Event:
    return Event(
        type=event_type, aggregate_id=str(member_id), data={"member_id": str(member_id), **data}, version=version
    )


async def apply(engine: AsyncEngine, handler, evt: Event) -> None:  # type: ignore[no-untyped-def]
    uow = LoyaltyUnitOfWork(session_factory(engine))
    async with uow:
        await handler(uow, evt)
        await uow.commit()


async def test_an_unknown_member_gets_no_points_and_nothing_is_written(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: a member id loyalty never heard of
    stranger = uuid.uuid4()

    # when
    result = await loyalty_api(ADJUST, {"input": adjustment(stranger, "welcome")}, token=tokens.ops())

    # then
    payload = result["data"]["adjustPoints"]
    assert (payload["__typename"], payload["code"], payload["memberId"]) == (
        "LoyaltyUnknownMemberError",
        "LOYALTY_UNKNOWN_MEMBER",
        str(stranger),
    )
    assert await written(engine) == (0, 0)


async def test_a_batch_refuses_only_its_unknown_and_closed_members(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: one active, one closed, one unknown member
    active, closed, stranger = await known_member(engine), await known_member(engine, closed=True), uuid.uuid4()
    inputs = [adjustment(active, "b1"), adjustment(closed, "b2"), adjustment(stranger, "b3")]

    # when
    result = await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.ops())

    # then: the active member's adjustment applied; one account and one entry, both the active member's
    assert result["data"]["adjustPointsBatch"] == [
        {"__typename": "AdjustPointsSuccess"},
        {"__typename": "LoyaltyUnknownMemberError", "code": "LOYALTY_UNKNOWN_MEMBER", "memberId": str(closed)},
        {"__typename": "LoyaltyUnknownMemberError", "code": "LOYALTY_UNKNOWN_MEMBER", "memberId": str(stranger)},
    ]
    assert await written(engine) == (1, 1)


async def test_the_service_raises_unknown_member_and_checks_a_batch_in_one_go(engine: AsyncEngine) -> None:
    # given
    known = await known_member(engine)
    strangers = [uuid.uuid4() for _ in range(3)]
    uow = LoyaltyUnitOfWork(session_factory(engine))

    # when / then
    with pytest.raises(UnknownMember):
        await adjust_points(
            uow, member_id=strangers[0], points=5, reason="r", idempotency_key="k", actor="t", max_points=100
        )
    results = await adjust_points_batch(
        uow, [Adjustment(m, 5, "r", f"k-{m}") for m in [known, *strangers]], actor="t", max_points=100
    )
    assert isinstance(results[0], Posted)
    assert [type(r) for r in results[1:]] == [UnknownMember] * 3
    assert await written(engine) == (1, 1)


async def test_events_keep_the_directory(engine: AsyncEngine) -> None:
    # given
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    member, early_closed = uuid.uuid4(), uuid.uuid4()

    # when: a registration (applied twice by mistake), a closing, and a closing that overtook its registration
    registered = event("member.registered", member, registered_at=at.isoformat(), source_channel="store_qr")
    await apply(engine, on_member_registered, registered)
    await apply(engine, on_member_registered, registered)
    await apply(engine, on_member_closed, event("member.closed", early_closed, closed_at=at.isoformat()))
    late = event("member.registered", early_closed, registered_at=(at - timedelta(days=1)).isoformat())
    await apply(engine, on_member_registered, late)

    # then: the member is active; the closed one stays closed and learns their registration date
    assert await directory(engine) == {member: ("active", at), early_closed: ("closed", at - timedelta(days=1))}

    # and when: the member is closed, points are refused
    await apply(engine, on_member_closed, event("member.closed", member, closed_at=at.isoformat()))
    uow = LoyaltyUnitOfWork(session_factory(engine))
    with pytest.raises(UnknownMember):
        await adjust_points(uow, member_id=member, points=5, reason="r", idempotency_key="k", actor="t", max_points=9)


async def test_an_event_version_it_does_not_know_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(UnsupportedEvent):
        await apply(engine, on_member_registered, event("member.registered", uuid.uuid4(), version=2))
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(DirectoryMember))).scalar_one() == 0


async def birthdays(engine: AsyncEngine) -> dict[uuid.UUID, str | None]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(DirectoryMember.member_id, DirectoryMember.birthday_md))  # type: ignore[call-overload]
        return {row[0]: row[1] for row in rows}


def updated(member_id: uuid.UUID, **data: object) -> Event:
    return Event(
        type="member.updated",
        aggregate_id=str(member_id),
        data={"member_id": str(member_id), "changed": ["birthday"], "status": "active", **data},
    )


async def test_the_directory_keeps_the_birthday_month_day_from_members_events(engine: AsyncEngine) -> None:
    # given: a member registered without a birthday, one registered with one, and one not yet registered
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    member, born, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await apply(engine, on_member_registered, event("member.registered", member, registered_at=at.isoformat()))
    with_birthday = Event(
        type="member.registered",
        aggregate_id=str(born),
        data={"member_id": str(born), "registered_at": at.isoformat(), "birthday_md": "02-29"},
    )
    await apply(engine, on_member_registered, with_birthday)

    # when: the member gives a birthday; an update without birthday_md (an older producer) follows
    await apply(engine, on_member_updated, updated(member, birthday_md="05-01"))
    await apply(
        engine,
        on_member_updated,
        Event(type="member.updated", aggregate_id=str(member), data={"member_id": str(member), "changed": ["guide"]}),
    )
    kept = await birthdays(engine)

    # then: both birthdays are kept, month-day only
    assert kept == {member: "05-01", born: "02-29"}

    # and: a cleared birthday is forgotten, a closing forgets it too
    await apply(engine, on_member_updated, updated(member, birthday_md=None))
    await apply(engine, on_member_closed, event("member.closed", born, closed_at=at.isoformat()))
    assert await birthdays(engine) == {member: None, born: None}

    # and: an update for a member loyalty has not heard of is retried (nothing written), a malformed one refused
    with pytest.raises(NotYetRegistered):
        await apply(engine, on_member_updated, updated(stranger, birthday_md="05-01"))
    with pytest.raises(ValueError, match="MM-DD"):
        await apply(engine, on_member_updated, updated(member, birthday_md="1990-05-01"))
    assert await birthdays(engine) == {member: None, born: None}
    # the durable consumer reads member.updated too (its filter subjects follow its handlers)
    assert "yutang.members.member.updated" in SUBSCRIPTION.subjects()
