"""Service tests of the points ledger on the real database, including concurrent attempts to break it."""

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.points.errors import IdempotencyKeyReused, InsufficientPoints, InvalidAdjustment
from loyalty.points.service import adjust_points
from loyalty.points.views import Posted
from loyalty.uow import LoyaltyUnitOfWork
from tests.loyalty.factories import known_member, known_members
from yutang_shared.db import session_factory


async def adjust(engine: AsyncEngine, member_id: uuid.UUID, points: int, key: str, reason: str = "test") -> Posted:
    return await adjust_points(
        LoyaltyUnitOfWork(session_factory(engine)),
        member_id=member_id,
        points=points,
        reason=reason,
        idempotency_key=key,
        actor="tester",
        max_points=1_000_000,
    )


async def ledger(engine: AsyncEngine, member_id: uuid.UUID) -> tuple[int, int, int]:
    """(balance, sum of entries, number of entries) for one member."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT coalesce((SELECT balance FROM loyalty.accounts WHERE member_id = :m), 0), "
                    "coalesce(sum(points), 0), count(*) FROM loyalty.ledger_entries WHERE member_id = :m"
                ),
                {"m": member_id},
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def test_credits_and_debits_move_the_balance(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    credit = await adjust(engine, member, 500, "k1")
    debit = await adjust(engine, member, -200, "k2")

    assert (credit.balance, debit.balance) == (500, 300)
    assert debit.entry.balance_after == 300
    assert await ledger(engine, member) == (300, 300, 2)


async def test_the_same_key_twice_applies_once(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    first = await adjust(engine, member, 100, "grant:once")

    again = await adjust(engine, member, 100, "grant:once")

    assert not first.replayed
    assert again.replayed
    assert again.entry.id == first.entry.id
    assert await ledger(engine, member) == (100, 100, 1)


async def test_a_key_reused_for_another_adjustment_is_refused(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await adjust(engine, member, 100, "grant:x")

    with pytest.raises(IdempotencyKeyReused):
        await adjust(engine, member, 999, "grant:x")
    with pytest.raises(IdempotencyKeyReused):
        await adjust(engine, await known_member(engine), 100, "grant:x")

    assert await ledger(engine, member) == (100, 100, 1)


async def test_a_debit_beyond_the_balance_is_refused_and_changes_nothing(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await adjust(engine, member, 50, "k1")

    with pytest.raises(InsufficientPoints) as refused:
        await adjust(engine, member, -51, "k2")

    assert refused.value.details == {"balance": 50, "requested": -51}
    assert await ledger(engine, member) == (50, 50, 1)


async def test_invalid_adjustments_write_nothing(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    with pytest.raises(InvalidAdjustment):
        await adjust(engine, member, 0, "k1")

    assert await ledger(engine, member) == (0, 0, 0)


async def test_concurrent_retries_of_one_key_apply_once(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    results = await asyncio.gather(*(adjust(engine, member, 70, "flow:run-1:member") for _ in range(12)))

    assert sum(not r.replayed for r in results) == 1
    assert len({r.entry.id for r in results}) == 1
    assert await ledger(engine, member) == (70, 70, 1)


async def test_one_key_raced_across_members_lands_once(engine: AsyncEngine) -> None:
    members = await known_members(engine, 6)

    results = await asyncio.gather(*(adjust(engine, m, 10, "shared-key") for m in members), return_exceptions=True)

    applied = [r for r in results if isinstance(r, Posted) and not r.replayed]
    assert len(applied) == 1
    assert all(isinstance(r, Posted | IdempotencyKeyReused) for r in results)
    totals = [await ledger(engine, m) for m in members]
    assert sum(t[2] for t in totals) == 1


async def test_concurrent_debits_never_overdraw(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await adjust(engine, member, 100, "seed")

    results = await asyncio.gather(
        *(adjust(engine, member, -15, f"spend-{i}") for i in range(20)), return_exceptions=True
    )

    spent = [r for r in results if isinstance(r, Posted)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    assert len(spent) == 6
    assert len(refused) == 14
    assert await ledger(engine, member) == (10, 10, 7)


async def test_the_database_refuses_a_negative_balance_and_ledger_edits(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await adjust(engine, member, 5, "k1")

    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE loyalty.accounts SET balance = -1 WHERE member_id = :m"), {"m": member}
            )
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE loyalty.ledger_entries SET points = 500 WHERE member_id = :m"), {"m": member}
            )
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM loyalty.ledger_entries WHERE member_id = :m"), {"m": member})

    assert await ledger(engine, member) == (5, 5, 1)
