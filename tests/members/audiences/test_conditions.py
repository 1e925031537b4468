"""Audience conditions: each has a member that must be selected and one that must not, computed by hand from
the facts written below (orders, behaviour, loyalty's and community's events, tags), refreshed as of today."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.audiences.errors import EmptyRuleGroup, InvalidConditionValue, InvalidRule, RuleTooDeep, UnknownCondition
from members.audiences.service import AudienceView, audience_members, preview_audience
from members.insights.service import today
from members.uow import MembersUnitOfWork
from tests.members.facts.test_facts import deliver, event
from tests.members.insights import builders
from tests.members.insights.builders import at, line
from yutang_shared.db import session_factory

TODAY = today()
member = partial(builders.member, as_of=TODAY)
order = partial(builders.order, as_of=TODAY)
behaviour = partial(builders.behaviour, as_of=TODAY)
NOW = datetime.now(UTC)

Setup = Callable[[AsyncEngine], Awaitable[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]]]


async def selected(engine: AsyncEngine, rule: dict[str, Any]) -> set[uuid.UUID]:
    """The members a rule selects (everyone in reach: no scope)."""
    view = AudienceView(uuid.uuid4(), "t", rule, "test", NOW, NOW)
    rows = await audience_members(MembersUnitOfWork(session_factory(engine)), view, scope=None, limit=1000, after=None)
    return {row.id for row in rows}


async def pair(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    return await member(engine), await member(engine)


def cond(name: str, **params: Any) -> dict[str, Any]:
    return {"condition": name, **params}


async def _followed_since(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await behaviour(engine, inside, "follow_official_account", 10)
    await behaviour(engine, outside, "follow_official_account", 60)
    return inside, outside, cond("followed_since", date=str(TODAY - timedelta(days=30)))


async def _wechat_fan(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await behaviour(engine, inside, "follow_official_account", 400)
    await behaviour(engine, outside, "visit", 1)
    return inside, outside, cond("wechat_fan", value=True)


async def _visited(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await behaviour(engine, inside, "visit", 5)
    await behaviour(engine, outside, "visit", 40)
    return inside, outside, cond("visited_within", days=30)


async def _not_visited(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    outside, inside = await pair(engine)
    await behaviour(engine, outside, "visit", 5)
    await behaviour(engine, inside, "visit", 40)
    return inside, outside, cond("visited_within", days=30, negate=True)


async def _carted(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await behaviour(engine, inside, "add_to_cart", 1)
    await behaviour(engine, outside, "add_to_cart", 10)
    return inside, outside, cond("carted_within", days=7)


async def _bought(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10)
    await order(engine, outside, 50)
    return inside, outside, cond("bought_within", days=30)


async def _orders_two_years(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    for days in (100, 600):
        await order(engine, inside, days)
    for days in (100, 800):
        await order(engine, outside, days)
    return inside, outside, cond("orders_two_years", min=2)


async def _without_refund(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10)
    await order(engine, inside, 20)
    await order(engine, outside, 10)
    await order(engine, outside, 20, refunded=100)
    return inside, outside, cond("orders_without_refund", min=2)


async def _total_spend(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10, paid=6000)
    await order(engine, outside, 10, paid=5000, refunded=1000)
    return inside, outside, cond("total_spend_fen", min=5000)


async def _average_order(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10, paid=800)
    await order(engine, inside, 20, paid=1000)
    await order(engine, outside, 10, paid=2000)
    return inside, outside, cond("average_order_fen", max=1000)


async def _benefit_card(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    for member_id, held in ((inside, True), (outside, False)):
        await deliver(
            engine, event("benefit-card.changed", member_id, NOW, card_code="BIRTHDAY", held=held, expires_at=None)
        )
    return inside, outside, cond("holds_benefit_card", card_code="BIRTHDAY")


async def _points(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    for member_id, points in ((inside, 150), (outside, 50)):
        await deliver(engine, event("points.balance-changed", member_id, NOW, available=points))
    return inside, outside, cond("points_balance", min=100)


async def _tier(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    for member_id, level in ((inside, "gold"), (outside, "silver")):
        data = {"from_level": "normal", "to_level": level, "direction": "up", "vip_eligible": False}
        await deliver(engine, event("tier.changed", member_id, NOW, **data))
    return inside, outside, cond("tier", **{"in": ["gold", "diamond"]})


async def _group(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    group = str(uuid.uuid4())
    for member_id, status in ((inside, "joined"), (outside, "left")):
        data = {"group_id": group, "group_type": "vip", "status": status}
        await deliver(engine, event("membership.changed", member_id, NOW, **data))
    return inside, outside, cond("group_membership", group_type="vip")


async def _tags(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    tag = uuid.uuid4()
    async with engine.begin() as connection:
        category = (
            await connection.execute(
                text(
                    "INSERT INTO members.tag_categories (id, name) "
                    "VALUES (gen_random_uuid(), 'preference') RETURNING id"
                )
            )
        ).scalar_one()
        group = (
            await connection.execute(
                text(
                    "INSERT INTO members.tag_groups (id, category_id, name) VALUES (gen_random_uuid(), :c, 'taste') "
                    "RETURNING id"
                ),
                {"c": category},
            )
        ).scalar_one()
        await connection.execute(
            text("INSERT INTO members.tags (id, group_id, name, kind) VALUES (:t, :g, 'green tea', 'manual')"),
            {"t": tag, "g": group},
        )
        await connection.execute(
            text(
                "INSERT INTO members.member_tags (member_id, tag_id, source, applied_by) VALUES (:m, :t, 'manual', 'x')"
            ),
            {"m": inside, "t": tag},
        )
    return inside, outside, cond("tags", ids=[str(tag)])


async def _stage(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10)
    await order(engine, outside, 10)
    await order(engine, outside, 20)
    return inside, outside, cond("lifecycle_stage", **{"in": ["new"]})


async def _segment(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    # averages: R (5 + 200) / 2, F 2, M (9 000 + 100) / 2
    inside, outside = await pair(engine)
    for days in (5, 6, 7):
        await order(engine, inside, days, paid=3000)
    await order(engine, outside, 200, paid=100)
    return inside, outside, cond("rfm_segment", **{"in": ["important_value"]})


async def _consumer_type(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10, lines=[line(1000, discounted=True)])
    await order(engine, outside, 10, lines=[line(500, discounted=True), line(500)])
    return inside, outside, cond("consumer_type", **{"in": ["discount"]})


async def _source(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await member(engine, source="ads"), await member(engine)
    return inside, outside, cond("source_channel", **{"in": ["ads"]})


async def _first_channel(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 30, channel="mini_program")
    await order(engine, inside, 10)
    await order(engine, outside, 30)
    await order(engine, outside, 10, channel="mini_program")
    return inside, outside, cond("first_order_channel", **{"in": ["mini_program"]})


async def _first_month(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10)
    await order(engine, outside, 100)
    await order(engine, outside, 10)
    return inside, outside, cond("first_order_month", month=at(10, TODAY).month)


async def _monthly_spend(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 10, paid=12_000)
    await order(engine, outside, 10, paid=11_988)
    return inside, outside, cond("monthly_spend_fen", min=1000)


async def _repurchase_due(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any]]:
    inside, outside = await pair(engine)
    await order(engine, inside, 40)
    await order(engine, inside, 20)  # every 20 days: due today
    await order(engine, outside, 100)
    await order(engine, outside, 60)  # every 40 days: was due 20 days ago
    return inside, outside, cond("repurchase_due", from_days=0, to_days=30)


CASES: dict[str, Setup] = {
    "followed_since": _followed_since,
    "wechat_fan": _wechat_fan,
    "visited_within": _visited,
    "visited_within_negated": _not_visited,
    "carted_within": _carted,
    "bought_within": _bought,
    "orders_two_years": _orders_two_years,
    "orders_without_refund": _without_refund,
    "total_spend_fen": _total_spend,
    "average_order_fen": _average_order,
    "holds_benefit_card": _benefit_card,
    "points_balance": _points,
    "tier": _tier,
    "group_membership": _group,
    "tags": _tags,
    "lifecycle_stage": _stage,
    "rfm_segment": _segment,
    "consumer_type": _consumer_type,
    "source_channel": _source,
    "first_order_channel": _first_channel,
    "first_order_month": _first_month,
    "monthly_spend_fen": _monthly_spend,
    "repurchase_due": _repurchase_due,
}


@pytest.mark.parametrize("name", list(CASES))
async def test_each_condition_selects_its_member_and_not_the_other(engine: AsyncEngine, name: str) -> None:
    # given
    inside, outside, rule = await CASES[name](engine)
    await builders.refresh(engine, as_of=TODAY)
    # when
    chosen = await selected(engine, rule)
    # then
    assert inside in chosen
    assert outside not in chosen


async def test_all_and_any_groups(engine: AsyncEngine) -> None:
    recent_ads, recent, ads = (
        await member(engine, source="ads"),
        await member(engine),
        await member(engine, source="ads"),
    )
    for member_id in (recent_ads, recent):
        await order(engine, member_id, 5)
    await builders.refresh(engine, as_of=TODAY)
    bought = cond("bought_within", days=30)
    from_ads = cond("source_channel", **{"in": ["ads"]})
    assert await selected(engine, {"all": [bought, from_ads]}) == {recent_ads}
    assert await selected(engine, {"any": [bought, from_ads]}) == {recent_ads, recent, ads}
    assert await selected(engine, {"all": [{"any": [bought]}, {"all": [from_ads]}]}) == {recent_ads}
    count = await preview_audience(
        MembersUnitOfWork(session_factory(engine)), rule={"any": [bought, from_ads]}, scope=None
    )
    assert count == 3


def _deep(levels: int) -> dict[str, Any]:
    rule: dict[str, Any] = cond("wechat_fan", value=True)
    for _ in range(levels):
        rule = {"all": [rule]}
    return rule


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (cond("shoe_size", min=40), UnknownCondition),
        (cond("points_balance", min="100"), InvalidConditionValue),
        (cond("bought_within", days=0), InvalidConditionValue),
        (cond("bought_within"), InvalidConditionValue),
        (cond("bought_within", days=3, colour="red"), InvalidConditionValue),
        (cond("lifecycle_stage", **{"in": ["vip"]}), InvalidConditionValue),
        (cond("total_spend_fen"), InvalidConditionValue),
        (cond("total_spend_fen", min=10, max=5), InvalidConditionValue),
        (cond("followed_since", date="yesterday"), InvalidConditionValue),
        (cond("tags", ids=["not-a-uuid"]), InvalidConditionValue),
        ({"all": []}, EmptyRuleGroup),
        ({"any": [{"all": []}]}, EmptyRuleGroup),
        (_deep(6), RuleTooDeep),
        ([], InvalidRule),
        ({"all": [cond("wechat_fan", value=True)], "any": []}, InvalidRule),
        ({"all": "x"}, InvalidRule),
    ],
)
async def test_bad_rules_are_typed_errors(engine: AsyncEngine, rule: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        await preview_audience(MembersUnitOfWork(session_factory(engine)), rule=rule, scope=None)


async def test_five_levels_deep_is_allowed(engine: AsyncEngine) -> None:
    assert await preview_audience(MembersUnitOfWork(session_factory(engine)), rule=_deep(5), scope=None) == 0
