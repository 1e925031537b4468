"""Service tests of opening balances on the real database: one `opening` entry per member through the write path,
its lot's expiry, replays, refusals, and the lots spent soonest-expiring first."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.directory.errors import UnknownMember
from loyalty.points.errors import IdempotencyKeyReused, InvalidAdjustment
from loyalty.points.lots import ExpiryPolicies
from loyalty.points.opening import OpeningBalance, post_opening_balances
from loyalty.points.service import adjust_points
from loyalty.points.views import Posted
from loyalty.uow import LoyaltyUnitOfWork
from tests.loyalty.factories import known_member
from yutang_shared.db import session_factory

SOON = date.today() + timedelta(days=30)


def uow(engine: AsyncEngine) -> LoyaltyUnitOfWork:
    return LoyaltyUnitOfWork(session_factory(engine))


async def rows(engine: AsyncEngine, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql), params)]


async def test_an_opening_balance_is_one_entry_one_lot_with_its_expiry_and_one_event(engine: AsyncEngine) -> None:
    # given
    member = await known_member(engine)

    # when
    (result,) = await post_opening_balances(uow(engine), [OpeningBalance(member, 1200, SOON, "from the old CRM")])

    # then
    assert isinstance(result, Posted)
    assert not result.replayed
    assert result.balance == 1200
    entries = await rows(
        engine,
        "SELECT kind, points, reason, idempotency_key, actor FROM loyalty.ledger_entries WHERE member_id = :m",
        m=member,
    )
    assert entries == [("opening", 1200, "from the old CRM", f"opening:{member}", "loyalty-import")]
    lots = await rows(
        engine, "SELECT source, points, remaining, expires_on FROM loyalty.point_lots WHERE member_id = :m", m=member
    )
    assert lots == [("opening", 1200, 1200, SOON)]
    events = await rows(
        engine,
        "SELECT data->>'available' FROM loyalty.outbox WHERE type = 'points.balance-changed' AND aggregate_id = :m",
        m=str(member),
    )
    assert events == [("1200",)]


async def test_without_an_expiry_the_opening_kinds_policy_applies(engine: AsyncEngine) -> None:
    member, other = await known_member(engine), await known_member(engine)
    policies = ExpiryPolicies.parse("default=next-year-end,opening=never")

    await post_opening_balances(uow(engine), [OpeningBalance(member, 10)], expiry=policies)
    await post_opening_balances(uow(engine), [OpeningBalance(other, 10)])

    lots = await rows(
        engine, "SELECT member_id, expires_on FROM loyalty.point_lots WHERE member_id IN (:a, :b)", a=member, b=other
    )
    assert dict(lots) == {member: None, other: date(date.today().year + 2, 1, 1)}


async def test_the_same_balance_again_replays_and_another_amount_is_refused(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await post_opening_balances(uow(engine), [OpeningBalance(member, 500, SOON)])

    same, other = await post_opening_balances(
        uow(engine), [OpeningBalance(member, 500, SOON), OpeningBalance(member, 700, SOON)]
    )

    assert isinstance(same, Posted)
    assert same.replayed
    assert isinstance(other, IdempotencyKeyReused)
    assert await rows(engine, "SELECT balance FROM loyalty.accounts WHERE member_id = :m", m=member) == [(500,)]
    assert await rows(engine, "SELECT count(*) FROM loyalty.point_lots WHERE member_id = :m", m=member) == [(1,)]


async def test_unknown_closed_and_invalid_balances_are_refused_and_write_nothing(engine: AsyncEngine) -> None:
    good, closed = await known_member(engine), await known_member(engine, closed=True)
    stranger = uuid.uuid4()

    results = await post_opening_balances(
        uow(engine),
        [
            OpeningBalance(stranger, 10),
            OpeningBalance(closed, 10),
            OpeningBalance(good, 10, date.today() - timedelta(days=1)),
            OpeningBalance(good, -5),
            OpeningBalance(good, 5, note="x" * 201),
            OpeningBalance(good, 3),
        ],
    )

    assert [type(r) for r in results] == [
        UnknownMember,
        UnknownMember,
        InvalidAdjustment,
        InvalidAdjustment,
        InvalidAdjustment,
        Posted,
    ]
    assert await rows(engine, "SELECT count(*) FROM loyalty.ledger_entries") == [(1,)]


async def test_a_spend_takes_the_sooner_expiring_opening_lot_first(engine: AsyncEngine) -> None:
    # given: an adjustment lot expiring at the end of next year, an opening lot in 30 days
    member = await known_member(engine)
    await adjust_points(
        uow(engine), member_id=member, points=100, reason="r", idempotency_key="a1", actor="t", max_points=1000
    )
    await post_opening_balances(uow(engine), [OpeningBalance(member, 50, SOON)])

    # when
    await adjust_points(
        uow(engine), member_id=member, points=-60, reason="r", idempotency_key="a2", actor="t", max_points=1000
    )

    # then
    lots = await rows(engine, "SELECT source, remaining FROM loyalty.point_lots WHERE member_id = :m", m=member)
    assert sorted(lots) == [("adjustment", 90), ("opening", 0)]
