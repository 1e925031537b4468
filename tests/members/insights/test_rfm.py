"""RFM: quintile scores, the eight segments (a member in and one out of each), the extra indicators, and the
refresh's idempotency and events. Every figure is computed by hand from the rules in members/insights/sql.py."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.insights.errors import InvalidAsOf, InvalidShard
from members.insights.repository import InsightsRepository
from members.insights.rules import Segment
from members.insights.service import refresh_insights, today
from members.uow import MembersUnitOfWork
from tests.members.insights.builders import AS_OF, insight, line, member, order, refresh
from yutang_shared.db import session_factory


async def test_scores_are_quintiles_among_the_windows_buyers(engine: AsyncEngine) -> None:
    # given five buyers: member i has i orders of 1 000 fen, the last 10 × i days ago
    # (bounds: R 10/20/30/40, F 1/2/3/4, M 1000/2000/3000/4000), and one who bought only 400 days ago
    buyers = []
    for i in range(1, 6):
        member_id = await member(engine)
        for k in range(i):
            await order(engine, member_id, 10 * i + k)
        buyers.append(member_id)
    lapsed = await member(engine)
    await order(engine, lapsed, 400)
    # when
    await refresh(engine)
    # then
    for i, member_id in enumerate(buyers, start=1):
        row = await insight(engine, member_id)
        assert (row["r_score"], row["f_score"], row["m_score"]) == (6 - i, i, i)
        assert (row["recency_days"], row["frequency"], row["monetary_fen"]) == (10 * i, i, 1000 * i)
    row = await insight(engine, lapsed)
    assert (row["r_score"], row["segment"], row["recency_days"], row["frequency"]) == (None, None, 400, 0)


# R↑: recency 10 (average 105), R↓: 200; F↑: 3 orders (average 2), F↓: 1; M↑: 10 000 (average 5 500), M↓: 1 000.
SEGMENTS = {
    Segment.IMPORTANT_VALUE: (True, True, True),
    Segment.IMPORTANT_DEVELOP: (True, False, True),
    Segment.IMPORTANT_KEEP: (False, True, True),
    Segment.IMPORTANT_RETAIN: (False, False, True),
    Segment.GENERAL_VALUE: (True, True, False),
    Segment.GENERAL_DEVELOP: (True, False, False),
    Segment.GENERAL_KEEP: (False, True, False),
    Segment.GENERAL_RETAIN: (False, False, False),
}


async def _shopper(engine: AsyncEngine, recent: bool, frequent: bool, spends: bool) -> uuid.UUID:
    member_id = await member(engine)
    last = 10 if recent else 200
    count = 3 if frequent else 1
    total = 10_000 if spends else 1_000
    for k in range(count):
        paid = total - (count - 1) * (total // count) if k == 0 else total // count
        await order(engine, member_id, last + k, paid=paid)
    return member_id


@pytest.mark.parametrize("segment", list(Segment))
async def test_each_segment_has_a_member_in_and_one_out(engine: AsyncEngine, segment: Segment) -> None:
    # given one shopper of each R/F/M combination (so the averages are 105 days, 2 orders, 5 500 fen)
    shoppers = {s: await _shopper(engine, *SEGMENTS[s]) for s in Segment}
    # when
    await refresh(engine)
    # then the shopper of that combination is in the segment; the one with M flipped is not
    assert (await insight(engine, shoppers[segment]))["segment"] == segment.value
    recent, frequent, spends = SEGMENTS[segment]
    flipped = next(s for s, combo in SEGMENTS.items() if combo == (recent, frequent, not spends))
    assert (await insight(engine, shoppers[flipped]))["segment"] != segment.value


async def test_extra_indicators(engine: AsyncEngine) -> None:
    # given a buyer of a discounted 1 000 line, a 2 000 line and a 500 line (two orders), and another buyer of
    # 100-fen lines
    buyer, other = await member(engine), await member(engine)
    await order(engine, buyer, 5, paid=3000, lines=[line(1000, discounted=True), line(2000)])
    await order(engine, buyer, 6, paid=500, lines=[line(500)])
    await order(engine, other, 5, paid=400, lines=[line(100, quantity=4)])
    # unit prices: 1000, 2000, 500, 100 → percentile_disc(0.8) = 2000: the buyer's premium spend is 2000 of 3500
    await refresh(engine)
    row = await insight(engine, buyer)
    assert row["largest_order_fen"] == 3000
    assert row["discount_share"] == pytest.approx(1000 / 3500)
    assert row["premium_share"] == pytest.approx(2000 / 3500)
    assert row["average_order_fen"] == 1750
    assert row["first_order_channel"] == "in_store"


async def test_shares_of_orders_with_many_lines_and_the_line_summary_written_with_the_order(
    engine: AsyncEngine,
) -> None:
    # given an order of five lines (beyond the inline comparison of the premium share) and one of a single line
    buyer = await member(engine)
    many = [line(100), line(3000, quantity=2, discounted=True), line(200), line(3000), line(50, category="gift_wrap")]
    await order(engine, buyer, 5, paid=9350, lines=many)
    await order(engine, buyer, 6, paid=100, lines=[line(100)])
    # unit prices 100, 3000, 200, 3000, 50, 100 → percentile_disc(0.8) = 3000: premium spend 9000 of 9450
    await refresh(engine)
    row = await insight(engine, buyer)
    assert row["premium_share"] == pytest.approx(9000 / 9450)
    assert row["discount_share"] == pytest.approx(6000 / 9450)
    assert "gifting" in row["consumer_types"]
    async with engine.connect() as connection:
        summary = (
            await connection.execute(
                text(
                    "SELECT lines_gross_fen, lines_discounted_fen, gift_lines, line_prices_fen, line_amounts_fen "
                    "FROM members.orders WHERE member_id = :m AND cardinality(line_prices_fen) = 5"
                ),
                {"m": buyer},
            )
        ).one()
    assert tuple(summary) == (9350, 6000, True, [100, 3000, 200, 3000, 50], [100, 6000, 200, 3000, 50])


async def test_the_same_as_of_twice_gives_the_same_stages_histories_and_no_new_events(engine: AsyncEngine) -> None:
    # given a member who was new on the first date and is at risk 100 days later
    member_id = await member(engine)
    await order(engine, member_id, 110)
    earlier = AS_OF.replace(month=3, day=22)  # 100 days before AS_OF: the order was 10 days old
    first = await refresh(engine, as_of=earlier)
    second = await refresh(engine)
    again = await refresh(engine)
    # then
    assert (first.transitions, first.events) == (1, 1)
    assert (second.transitions, second.events) == (1, 1)
    assert (again.members, again.transitions, again.events) == (1, 0, 0)
    row = await insight(engine, member_id)
    assert (row["stage"], row["stage_since"], row["previous_stage"]) == ("at_risk", AS_OF, "new")
    async with engine.connect() as connection:
        history = (
            await connection.execute(
                text("SELECT as_of, from_stage, to_stage FROM members.stage_transitions ORDER BY as_of")
            )
        ).all()
        events = (
            await connection.execute(
                text("SELECT type, version, data FROM members.outbox WHERE type = 'member.stage-changed' ORDER BY seq")
            )
        ).all()
    assert [tuple(h) for h in history] == [(earlier, None, "new"), (AS_OF, "new", "at_risk")]
    assert [e.data for e in events] == [
        {"member_id": str(member_id), "from_stage": None, "to_stage": "new", "as_of": str(earlier)},
        {"member_id": str(member_id), "from_stage": "new", "to_stage": "at_risk", "as_of": str(AS_OF)},
    ]
    assert {(e.type, e.version) for e in events} == {("member.stage-changed", 1)}


async def test_stage_changed_events_have_distinct_version_4_ids_across_members_and_refreshes(
    engine: AsyncEngine,
) -> None:
    # given three members whose stage changes on two dates (new, then at risk)
    for _ in range(3):
        await order(engine, await member(engine), 110)
    # when
    await refresh(engine, as_of=AS_OF.replace(month=3, day=22))
    await refresh(engine)
    # then
    async with engine.connect() as connection:
        ids = (
            (await connection.execute(text("SELECT id FROM members.outbox WHERE type = 'member.stage-changed'")))
            .scalars()
            .all()
        )
    assert len(ids) == 6
    assert len(set(ids)) == 6
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)


async def test_shards_cover_every_member_once(engine: AsyncEngine) -> None:
    members = [await member(engine) for _ in range(20)]
    results = [await refresh(engine, shard=s, shards=3) for s in range(3)]
    assert sum(r.members for r in results) == len(members)
    assert all(r.members < len(members) for r in results)


async def test_bad_dates_and_shards_are_refused(engine: AsyncEngine) -> None:
    uow = MembersUnitOfWork(session_factory(engine))
    with pytest.raises(InvalidAsOf):
        await refresh_insights(uow, as_of=today().replace(year=today().year + 1))
    with pytest.raises(InvalidShard):
        await refresh_insights(uow, as_of=AS_OF, shard=3, shards=3)
    with pytest.raises(InvalidShard):
        await refresh_insights(uow, as_of=AS_OF, shard=0, shards=0)


async def _stored(engine: AsyncEngine) -> tuple[dict[str, object], list[tuple[object, ...]]]:
    """The date's baseline row and every member's insights row (but when they were written), then both forgotten
    (the next refresh is a first one)."""
    async with engine.begin() as connection:
        baseline = (await connection.execute(text("SELECT * FROM members.insight_baselines"))).mappings().one()
        rows = (await connection.execute(text("SELECT * FROM members.member_insights ORDER BY member_id"))).mappings()
        insights = [tuple(v for k, v in row.items() if k != "computed_at") for row in rows]
        for table in ("stage_transitions", "member_insights", "insight_baselines"):
            await connection.execute(text(f"DELETE FROM members.{table}"))  # noqa: S608 (names of this test)
    return {k: v for k, v in baseline.items() if k != "computed_at"}, insights


async def test_one_shard_and_three_shards_write_the_same_baseline_and_rows(engine: AsyncEngine) -> None:
    # given buyers in and out of the window, a refund, a five-line order, a member who has never bought, and one
    # registered after the date whose orders (imported, say) came before it: a buyer of the window all the same
    first, second, idle = await member(engine), await member(engine), await member(engine)
    await order(engine, first, 3, paid=4000, lines=[line(100), line(900), line(1000), line(1000), line(1000)])
    await order(engine, first, 40, paid=1200, refunded=200)
    await order(engine, second, 200, paid=300)
    await order(engine, second, 500, paid=9000)
    late = await member(engine, registered_days_ago=-10)
    await order(engine, late, 20, paid=50_000, lines=[line(50_000)])
    # when the date is refreshed in one shard (the baseline's R, F, M from its facts), then again in three shards
    # (the baseline's own pass over the window's orders)
    assert (await refresh(engine)).members == 3
    one = await _stored(engine)
    assert sum([(await refresh(engine, shard=s, shards=3)).members for s in range(3)]) == 3
    three = await _stored(engine)
    # then both baselines count the late buyer (three buyers; largest spend 50 000) and both are the same row, as
    # are the members' rows (the late member has none)
    assert one[0]["buyers"] == 3
    assert one[0]["m_bounds"][-1] == 50_000
    assert one == three
    assert idle in {row[0] for row in one[1]}
    assert late not in {row[0] for row in one[1]}


async def test_a_baseline_written_meanwhile_at_another_premium_price_is_the_one_used(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a buyer of a 100-fen line and a 1 000-fen line (premium price 1 000: share 1000 / 1100), and the date's
    # baseline written by a concurrent refresh at a premium price of 100 after this refresh found none
    buyer = await member(engine)
    await order(engine, buyer, 5, paid=1100, lines=[line(100), line(1000)])
    await refresh(engine)
    assert (await insight(engine, buyer))["premium_share"] == pytest.approx(1000 / 1100)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.insight_baselines SET premium_unit_fen = 100"))
        for table in ("stage_transitions", "member_insights"):
            await connection.execute(text(f"DELETE FROM members.{table}"))  # noqa: S608 (names of this test)
    checks: list[object] = []
    looked_up = InsightsRepository._premium_unit_fen

    async def first_finds_none(self: InsightsRepository, params: dict[str, object]) -> int | None:
        checks.append(params["as_of"])
        return None if len(checks) == 1 else await looked_up(self, params)

    monkeypatch.setattr(InsightsRepository, "_premium_unit_fen", first_finds_none)
    # when
    await refresh(engine)
    # then the facts were computed again at the stored price: every line is premium
    assert len(checks) == 2
    assert (await insight(engine, buyer))["premium_share"] == pytest.approx(1.0)
