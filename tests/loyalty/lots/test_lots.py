"""Lots on the real database: every grant a lot with its expiry, debits soonest-expiring first, restores to the
lots they came from, expiry per lot, and the refusals that change nothing."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.lots.errors import InvalidShard, NoLotToExpire
from loyalty.lots.service import expire_lot, expiring_members, expiring_soon
from loyalty.points.errors import InsufficientPoints
from loyalty.points.lots import ExpiryPolicies, ExpiryPolicy
from loyalty.points.models import EntryKind
from loyalty.points.views import Posted
from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import (
    balance,
    consumed,
    days,
    expire,
    invariant_violations,
    lots,
    post,
    today,
    uow,
)

SHORT = ExpiryPolicies.parse("default=10d,welcome=never,adjustment=30d")


def test_expiry_policies() -> None:
    assert ExpiryPolicy.parse("next-year-end").expires_on(date(2026, 3, 1)) == date(2028, 1, 1)
    assert ExpiryPolicy.parse("next-year-end").expires_on(date(2026, 12, 31)) == date(2028, 1, 1)
    assert ExpiryPolicy.parse("30d").expires_on(date(2026, 1, 1)) == date(2026, 2, 1)
    assert ExpiryPolicy.parse("never").expires_on(date(2026, 1, 1)) is None
    policies = ExpiryPolicies.parse("default=10d, checkin=90d, tier_gift=never")
    assert policies.of("checkin").days == 90
    assert policies.of("earn").days == 10
    for bad in ("default=0d", "default=soon", "bogus=10d", "checkin"):
        with pytest.raises(ValueError, match="expiry"):
            ExpiryPolicies.parse(bad)


async def test_a_grant_is_a_lot_expiring_by_its_source_policy(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    await post(engine, member, 100, "a", expiry=SHORT)
    await post(engine, member, 50, "w", kind=EntryKind.WELCOME, expiry=SHORT)
    await post(engine, member, 70, "c", kind=EntryKind.CHECKIN, expiry=SHORT)

    found = {lot["key"]: (lot["remaining"], lot["expires_on"]) for lot in await lots(engine, member)}
    assert found == {"a": (100, days(31)), "w": (50, None), "c": (70, days(11))}
    assert await balance(engine, member) == 220
    assert await invariant_violations(engine) == []


async def test_a_debit_takes_the_soonest_expiring_lots_first_and_records_them(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 100, "late", expiry=ExpiryPolicies.parse("default=90d"))
    await post(engine, member, 100, "never", expiry=ExpiryPolicies.parse("default=never"))
    await post(engine, member, 100, "soon", expiry=ExpiryPolicies.parse("default=5d"))

    spend = await post(engine, member, -150, "spend")

    assert isinstance(spend, Posted)
    assert await consumed(engine, spend.entry.id) == {"soon": 100, "late": 50}
    remaining = {lot["key"]: lot["remaining"] for lot in await lots(engine, member)}
    assert remaining == {"late": 50, "never": 100, "soon": 0}
    assert await invariant_violations(engine) == []


async def test_a_void_restores_the_lots_it_came_from(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 100, "soon", expiry=ExpiryPolicies.parse("default=5d"))
    await post(engine, member, 100, "late", expiry=ExpiryPolicies.parse("default=90d"))
    spend = await post(engine, member, -150, "spend")
    assert isinstance(spend, Posted)

    void = await post(engine, member, 150, "void", restores=spend.entry.id)

    assert isinstance(void, Posted)
    assert await consumed(engine, void.entry.id) == {"soon": -100, "late": -50}
    assert {lot["key"]: lot["remaining"] for lot in await lots(engine, member)} == {"soon": 100, "late": 100}
    assert await invariant_violations(engine) == []


async def test_a_refund_reversal_takes_its_own_orders_lot_first(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    order = uuid.uuid4()
    await post(engine, member, 100, "soon", expiry=ExpiryPolicies.parse("default=5d"))
    await post(engine, member, 80, "order", kind=EntryKind.EARN, order_id=order)

    reversal = await post(engine, member, -60, "refund", kind=EntryKind.REVERSAL, order_id=order)

    assert isinstance(reversal, Posted)
    assert await consumed(engine, reversal.entry.id) == {"order": 60}


async def test_expiry_expires_lapsed_lots_once(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 100, "soon", expiry=ExpiryPolicies.parse("default=5d"))
    await post(engine, member, 100, "late", expiry=ExpiryPolicies.parse("default=90d"))
    await post(engine, member, -30, "spend")

    before = await expire(engine, days(5))
    on_the_day = await expire(engine, days(6))
    again = await expire(engine, days(6))

    assert (before.lots, before.points) == (0, 0)
    assert (on_the_day.lots, on_the_day.points, on_the_day.members) == (1, 70, 1)
    assert (again.lots, again.points) == (0, 0)
    assert await balance(engine, member) == 100
    assert await invariant_violations(engine) == []


async def test_shards_split_members_and_cover_them_all(engine: AsyncEngine) -> None:
    members = [await known_member(engine) for _ in range(12)]
    for i, member in enumerate(members):
        await post(engine, member, 10 + i, f"g{i}", expiry=ExpiryPolicies.parse("default=1d"))

    results = [await expire(engine, days(2), shard, 4) for shard in range(4)]

    assert sum(r.members for r in results) == 12
    assert sum(r.points for r in results) == sum(10 + i for i in range(12))
    with pytest.raises(InvalidShard):
        await expire(engine, days(2), 4, 4)
    with pytest.raises(InvalidShard):
        await expire(engine, days(2), 0, 0)


async def test_a_restore_into_an_expired_lot_lapses_again(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 100, "soon", expiry=ExpiryPolicies.parse("default=5d"))
    spend = await post(engine, member, -40, "spend")
    assert isinstance(spend, Posted)
    assert (await expire(engine, days(6))).points == 60

    await post(engine, member, 40, "void", restores=spend.entry.id)
    again = await expire(engine, days(6))

    assert again.points == 40
    assert await balance(engine, member) == 0
    assert await invariant_violations(engine) == []


async def test_refusals_change_nothing(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 100, "g", expiry=ExpiryPolicies.parse("default=5d"))
    (lot,) = await lots(engine, member)

    overdraw = await post(engine, member, -101, "too-much")

    assert isinstance(overdraw, InsufficientPoints)
    with pytest.raises(NoLotToExpire):
        await expire_lot(uow(engine), lot_id=uuid.uuid4(), as_of=days(10))
    async with engine.connect() as connection:
        lot_id = await connection.scalar(text("SELECT id FROM loyalty.point_lots WHERE member_id = :m"), {"m": member})
    with pytest.raises(NoLotToExpire):
        await expire_lot(uow(engine), lot_id=lot_id, as_of=days(5))  # not lapsed yet
    assert (await expire_lot(uow(engine), lot_id=lot_id, as_of=days(6))).points == 100
    with pytest.raises(NoLotToExpire):
        await expire_lot(uow(engine), lot_id=lot_id, as_of=days(6))  # nothing left
    assert lot["remaining"] == 100
    assert await balance(engine, member) == 0
    assert await invariant_violations(engine) == []


async def test_expiring_soon_and_the_notice_list(engine: AsyncEngine) -> None:
    member, other = await known_member(engine), await known_member(engine)
    await post(engine, member, 100, "a", expiry=ExpiryPolicies.parse("default=5d"))
    await post(engine, member, 30, "b", expiry=ExpiryPolicies.parse("default=5d"))
    await post(engine, member, 50, "c", expiry=ExpiryPolicies.parse("default=60d"))
    await post(engine, other, 10, "d", expiry=ExpiryPolicies.parse("default=20d"))

    (soon,) = await expiring_soon(uow(engine), [member], as_of=today(), within_days=30)
    listed = await expiring_members(uow(engine), as_of=today(), within_days=30, after=None, limit=10)

    assert [(e.points, e.expires_on) for e in soon] == [(130, days(6))]
    assert sorted((e.member_id, e.points) for e in listed) == sorted([(member, 130), (other, 10)])


async def test_the_database_refuses_a_balance_that_is_not_its_lots(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post(engine, member, 100, "g")

    with pytest.raises(DBAPIError, match="not the sum of their lots"):
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE loyalty.accounts SET balance = balance + 1 WHERE member_id = :m"), {"m": member}
            )
    with pytest.raises(DBAPIError, match="less its consumptions"):
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE loyalty.point_lots SET remaining = remaining - 1 WHERE member_id = :m"), {"m": member}
            )
    assert await balance(engine, member) == 100
