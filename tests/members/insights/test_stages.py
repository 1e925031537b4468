"""The ten lifecycle stages: for each, a member who must fall in and one who must not, computed by hand from the
default rules as of AS_OF (days are local dates before AS_OF)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.members.insights.builders import member, order, refresh, stage


async def test_prospect_has_never_bought(engine: AsyncEngine) -> None:
    # given one member without orders and one with a single recent order
    never, bought = await member(engine), await member(engine)
    await order(engine, bought, 5)
    # when
    await refresh(engine)
    # then
    assert await stage(engine, never) == "prospect"
    assert await stage(engine, bought) != "prospect"


async def test_new_has_one_order_within_90_days(engine: AsyncEngine) -> None:
    inside, outside, refunded = await member(engine), await member(engine), await member(engine)
    await order(engine, inside, 90)
    await order(engine, outside, 91)
    # a fully refunded order is not an order: one counted order stays "new"
    await order(engine, refunded, 10)
    await order(engine, refunded, 20, paid=500, refunded=500)
    await refresh(engine)
    assert await stage(engine, inside) == "new"
    assert await stage(engine, outside) == "at_risk"
    assert await stage(engine, refunded) == "new"


async def test_repeat_has_two_orders_the_last_within_90_days(engine: AsyncEngine) -> None:
    inside, outside = await member(engine), await member(engine)
    await order(engine, inside, 150)
    await order(engine, inside, 10)
    await order(engine, outside, 10)
    await order(engine, outside, 5, paid=800, refunded=800)
    await refresh(engine)
    assert await stage(engine, inside) == "repeat"
    assert await stage(engine, outside) == "new"


async def test_loyal_has_four_orders_in_365_days(engine: AsyncEngine) -> None:
    loyal, three_in_year = await member(engine), await member(engine)
    # two loyal members, so the top-20 % bound (80th percentile of spend) is the larger one's: neither exceeds it
    other = await member(engine)
    for days in (300, 200, 100, 10):
        await order(engine, loyal, days)
        await order(engine, other, days)
    for days in (400, 200, 100, 10):  # the first is outside 365 days
        await order(engine, three_in_year, days)
    await refresh(engine)
    assert await stage(engine, loyal) == "loyal"
    assert await stage(engine, three_in_year) == "repeat"


async def test_high_value_is_loyal_and_in_the_top_20_percent_of_spend(engine: AsyncEngine) -> None:
    # given five loyal members spending 4×1000 … 4×5000: the 80th percentile (percentile_disc) is 16 000
    members = [await member(engine) for _ in range(5)]
    for i, member_id in enumerate(members, start=1):
        for days in (80, 60, 40, 20):
            await order(engine, member_id, days, paid=1000 * i)
    await refresh(engine)
    assert await stage(engine, members[4]) == "high_value"  # 20 000 > 16 000
    assert await stage(engine, members[3]) == "loyal"  # 16 000 is not above


async def test_at_risk_is_91_to_180_days_since_the_last_order(engine: AsyncEngine) -> None:
    early, late, too_late = await member(engine), await member(engine), await member(engine)
    await order(engine, early, 91)
    await order(engine, late, 180)
    await order(engine, too_late, 181)
    await refresh(engine)
    assert await stage(engine, early) == "at_risk"
    assert await stage(engine, late) == "at_risk"
    assert await stage(engine, too_late) == "dormant"


async def test_dormant_is_181_to_365_days(engine: AsyncEngine) -> None:
    inside, outside = await member(engine), await member(engine)
    await order(engine, inside, 365)
    await order(engine, outside, 366)
    await refresh(engine)
    assert await stage(engine, inside) == "dormant"
    assert await stage(engine, outside) == "churned"


async def test_churned_is_more_than_365_days(engine: AsyncEngine) -> None:
    inside, outside = await member(engine), await member(engine)
    await order(engine, inside, 700)
    await order(engine, outside, 700)
    await order(engine, outside, 500)
    await order(engine, outside, 200)
    await refresh(engine)
    assert await stage(engine, inside) == "churned"
    assert await stage(engine, outside) == "dormant"


async def test_won_back_bought_again_after_181_days_away_and_holds_90_days(engine: AsyncEngine) -> None:
    returned, short_gap, returned_long_ago = await member(engine), await member(engine), await member(engine)
    await order(engine, returned, 300)
    await order(engine, returned, 30)  # 270 days away
    await order(engine, short_gap, 200)
    await order(engine, short_gap, 30)  # 170 days away: a repeat buyer
    await order(engine, returned_long_ago, 400)
    await order(engine, returned_long_ago, 95)  # came back 95 days ago: the 90 days are over
    await refresh(engine)
    assert await stage(engine, returned) == "won_back"
    assert await stage(engine, short_gap) == "repeat"
    assert await stage(engine, returned_long_ago) == "at_risk"


async def test_closed_or_consent_withdrawn_wins_over_everything(engine: AsyncEngine) -> None:
    closed = await member(engine, status="closed")
    withdrawn = await member(engine, consent="withdrawn")
    given = await member(engine, consent="given")
    for member_id in (closed, withdrawn, given):
        await order(engine, member_id, 10)
    await refresh(engine)
    assert await stage(engine, closed) == "closed"
    assert await stage(engine, withdrawn) == "closed"
    assert await stage(engine, given) == "new"


async def test_a_member_registered_after_as_of_is_not_refreshed(engine: AsyncEngine) -> None:
    later = await member(engine, registered_days_ago=-1)
    result = await refresh(engine)
    assert result.members == 0
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM members.member_insights"))).scalar_one()
    assert count == 0
    assert later is not None
