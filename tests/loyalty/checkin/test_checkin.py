"""Check-in on the real database: once per local day even under 16 concurrent taps, streaks and rewards by
streak day, themed days, make-up within its window at its cost, and the refusals that change nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.checkin.errors import AlreadyCheckedIn, MakeUpNotAllowed
from loyalty.checkin.rules import CheckInRules
from loyalty.checkin.service import calendar, check_in, make_up
from loyalty.directory.errors import UnknownMember
from loyalty.points.errors import InsufficientPoints
from tests.loyalty.factories import known_member
from tests.loyalty.lots.support import balance, invariant_violations, uow

DAY = date(2026, 12, 1)
RULES = CheckInRules(themed={date(2026, 12, 21): 50}, makeup_days=3, makeup_cost=20)


def on(n: int) -> date:
    return DAY + timedelta(days=n)


async def rows(engine: AsyncEngine, member: uuid.UUID) -> int:
    async with engine.connect() as connection:
        value = await connection.scalar(
            text("SELECT count(*) FROM loyalty.check_ins WHERE member_id = :m"), {"m": member}
        )
    return int(value or 0)


async def test_sixteen_concurrent_taps_count_once(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    results = await asyncio.gather(
        *(check_in(uow(engine), member_id=member, day=DAY, rules=RULES) for _ in range(16)), return_exceptions=True
    )

    done = [r for r in results if not isinstance(r, BaseException)]
    assert len(done) == 1
    assert all(isinstance(r, AlreadyCheckedIn) for r in results if isinstance(r, BaseException))
    assert await balance(engine, member) == 5
    assert await rows(engine, member) == 1


async def test_a_streak_earns_by_streak_day_over_a_weekly_cycle(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    week = [await check_in(uow(engine), member_id=member, day=on(i), rules=RULES) for i in range(8)]
    after_a_gap = await check_in(uow(engine), member_id=member, day=on(9), rules=RULES)

    assert [c.streak for c in week] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [c.points for c in week] == [5, 5, 10, 5, 5, 10, 30, 5]
    assert (after_a_gap.streak, after_a_gap.points) == (1, 5)
    assert await balance(engine, member) == 80
    assert await invariant_violations(engine) == []


async def test_a_themed_day_adds_its_bonus(engine: AsyncEngine) -> None:
    member = await known_member(engine)

    done = await check_in(uow(engine), member_id=member, day=date(2026, 12, 21), rules=RULES)

    assert done.points == 55


async def test_make_up_mends_the_streak_at_its_cost(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await check_in(uow(engine), member_id=member, day=on(0), rules=RULES)
    await check_in(uow(engine), member_id=member, day=on(1), rules=RULES)
    await check_in(uow(engine), member_id=member, day=on(2), rules=RULES)  # 20 points

    mended = await make_up(uow(engine), member_id=member, day=on(3), as_of=on(4), rules=RULES)
    today = await check_in(uow(engine), member_id=member, day=on(4), rules=RULES)

    assert (mended.streak, mended.points, mended.balance) == (4, -20, 0)
    assert (today.streak, today.points) == (5, 5)
    assert await balance(engine, member) == 5


async def test_refusals_change_nothing(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await check_in(uow(engine), member_id=member, day=on(5), rules=RULES)

    with pytest.raises(AlreadyCheckedIn):
        await check_in(uow(engine), member_id=member, day=on(5), rules=RULES)
    with pytest.raises(MakeUpNotAllowed):
        await make_up(uow(engine), member_id=member, day=on(1), as_of=on(5), rules=RULES)  # outside the window
    with pytest.raises(MakeUpNotAllowed):
        await make_up(uow(engine), member_id=member, day=on(5), as_of=on(5), rules=RULES)  # today is no make-up
    with pytest.raises(MakeUpNotAllowed):
        await make_up(uow(engine), member_id=member, day=on(4), as_of=on(5), rules=CheckInRules(makeup_days=0))
    with pytest.raises(InsufficientPoints):
        await make_up(uow(engine), member_id=member, day=on(4), as_of=on(5), rules=RULES)  # 5 points < 20
    with pytest.raises(AlreadyCheckedIn):
        await make_up(uow(engine), member_id=member, day=on(5), as_of=on(6), rules=RULES)
    with pytest.raises(UnknownMember):
        await check_in(uow(engine), member_id=uuid.uuid4(), day=on(5), rules=RULES)

    assert await balance(engine, member) == 5
    assert await rows(engine, member) == 1


async def test_the_calendar_shows_days_streak_and_next_reward(engine: AsyncEngine) -> None:
    member = await known_member(engine)
    for i in range(3):
        await check_in(uow(engine), member_id=member, day=on(18 + i), rules=RULES)  # 19th, 20th, 21st

    before = await calendar(uow(engine), member_id=member, month=DAY, as_of=on(20), rules=RULES)
    next_day = await calendar(uow(engine), member_id=member, month=DAY, as_of=on(21), rules=RULES)
    lapsed = await calendar(uow(engine), member_id=member, month=DAY, as_of=on(25), rules=RULES)

    assert [d.day.day for d in before.days] == [19, 20, 21]
    assert (before.streak, before.checked_in_today, before.next_reward) == (3, True, 5)
    assert (next_day.streak, next_day.checked_in_today, next_day.next_reward) == (3, False, 5)
    assert (lapsed.streak, lapsed.next_reward) == (0, 5)
    assert before.themed == {date(2026, 12, 21): 50}
