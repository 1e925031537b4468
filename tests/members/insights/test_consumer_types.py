"""Consumer types: for each, a member whose facts match the default rule and one whose facts do not (computed by
hand; brand averages are those of the two or three members of each case)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from members.insights.rules import ConsumerType
from tests.members.insights.builders import behaviour, insight, line, member, order, refresh

Case = Callable[[AsyncEngine], Awaitable[tuple[uuid.UUID, uuid.UUID]]]


async def _discount(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    inside, outside = await member(engine), await member(engine)
    await order(engine, inside, 10, lines=[line(1000, discounted=True)])
    await order(engine, outside, 10, lines=[line(500, discounted=True), line(500)])  # 50 %
    return inside, outside


async def _stock_up(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    # brand average order: (10 000 + 5 × 1 000) / 6 = 2 500; stock-up needs ≤ 2 orders averaging ≥ 5 000
    inside, outside = await member(engine), await member(engine)
    await order(engine, inside, 10, paid=10_000)
    for days in range(10, 15):
        await order(engine, outside, days, paid=1_000)
    return inside, outside


async def _campaign(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    # brand average order: (2 × 3 000 + 2 × 1 000) / 4 = 2 000; both discounted every time
    inside, outside = await member(engine), await member(engine)
    for days in (10, 20):
        await order(engine, inside, days, paid=3_000, discount=500)
        await order(engine, outside, days, paid=1_000, discount=100)
    return inside, outside


def _activity(kind: str, other: str) -> Case:
    async def case(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
        inside, outside = await member(engine), await member(engine)
        await behaviour(engine, inside, "activity_participation", 5, activity=kind)
        await behaviour(engine, outside, "activity_participation", 5, activity=other)
        return inside, outside

    return case


async def _undecided(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    inside, outside = await member(engine), await member(engine)
    for member_id in (inside, outside):
        await behaviour(engine, member_id, "add_to_cart", 10)
    await order(engine, outside, 20)
    await order(engine, outside, 30)
    return inside, outside


async def _seeded(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    return await member(engine, source="short_video_live"), await member(engine, source="store_qr")


async def _gifting(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    inside, outside = await member(engine), await member(engine)
    await order(engine, inside, 10, lines=[line(1000, category="gift_card")])
    await order(engine, outside, 10, lines=[line(1000, category="tea")])
    return inside, outside


async def _circle(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    inside, outside = await member(engine), await member(engine)
    await behaviour(engine, inside, "follow_official_account", 10, page="gh_brand")
    await behaviour(engine, inside, "follow_official_account", 20, page="gh_club")
    await behaviour(engine, outside, "follow_official_account", 10, page="gh_brand")
    return inside, outside


async def _spreader(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    inside, outside = await member(engine), await member(engine)
    await behaviour(engine, inside, "activity_participation", 5, activity="bring_friend_2026")
    await behaviour(engine, outside, "activity_participation", 5, activity="quiz_tea")
    return inside, outside


async def _spreader_by_referral(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    return await member(engine, source="referral_campaign"), await member(engine, source="ads")


CASES: list[tuple[ConsumerType, Case]] = [
    (ConsumerType.DISCOUNT, _discount),
    (ConsumerType.STOCK_UP, _stock_up),
    (ConsumerType.CAMPAIGN, _campaign),
    (ConsumerType.HONOUR, _activity("contest_spring", "quiz_tea")),
    (ConsumerType.CURIOUS, _activity("quiz_tea", "contest_spring")),
    (ConsumerType.UNDECIDED, _undecided),
    (ConsumerType.SEEDED, _seeded),
    (ConsumerType.GIFTING, _gifting),
    (ConsumerType.CIRCLE, _circle),
    (ConsumerType.ANXIOUS, _activity("health_talk_sleep", "contest_spring")),
    (ConsumerType.SPREADER, _spreader),
    (ConsumerType.SPREADER, _spreader_by_referral),
]


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k.value}-{i}" for i, (k, _) in enumerate(CASES)])
async def test_each_consumer_type_has_a_member_in_and_one_out(
    engine: AsyncEngine, kind: ConsumerType, case: Case
) -> None:
    inside, outside = await case(engine)
    await refresh(engine)
    assert kind.value in (await insight(engine, inside))["consumer_types"]
    assert kind.value not in (await insight(engine, outside))["consumer_types"]


def test_every_consumer_type_has_a_case() -> None:
    assert {kind for kind, _ in CASES} == set(ConsumerType)
