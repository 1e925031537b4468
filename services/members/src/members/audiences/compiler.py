"""Compiles a validated audience rule into one SQL condition over members and their insights (one row each,
joined by primary key), with semi-joins (`IN (SELECT …)`) into the indexed copies of other services' facts and
members' tags: a count is one statement, whatever the tree."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, cast, extract, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String
from sqlmodel import col

from members.audiences.rules import Condition, Group, Node
from members.facts.models import BenefitCardFact, GroupMembershipFact, LoyaltyFacts
from members.insights.models import MemberInsight
from members.insights.rules import BRAND_ZONE
from members.insights.service import day_start
from members.profile.models import Member
from members.tags.models import MemberTag

I = MemberInsight  # noqa: E741 - the insights side of the join, as in the SQL


def compile_rule(node: Node, now: datetime) -> ColumnElement[bool]:
    """The SQL condition of a rule tree, evaluated at `now` (for "within N days")."""
    if isinstance(node, Group):
        parts = [compile_rule(child, now) for child in node.children]
        return and_(true(), *parts) if node.op == "all" else or_(false(), *parts)
    condition: ColumnElement[bool] = _CONDITIONS[node.name](node.params, now)
    return condition


def _range(column: Any, params: dict[str, Any]) -> ColumnElement[bool]:
    parts = []
    if "min" in params:
        parts.append(column >= params["min"])
    if "max" in params:
        parts.append(column <= params["max"])
    return and_(*parts)


def _within(column: Any, params: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    inside = func.coalesce(column >= now - timedelta(days=params["days"]), false())
    return not_(inside) if params.get("negate") else inside


def _member_in(statement: Any) -> ColumnElement[bool]:
    return col(Member.id).in_(statement)


def _benefit_card(params: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    held = select(col(BenefitCardFact.member_id)).where(
        col(BenefitCardFact.held), or_(col(BenefitCardFact.expires_at).is_(None), col(BenefitCardFact.expires_at) > now)
    )
    if "card_code" in params:
        held = held.where(col(BenefitCardFact.card_code) == params["card_code"])
    return _member_in(held)


def _membership(params: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    joined = select(col(GroupMembershipFact.member_id)).where(col(GroupMembershipFact.status) == "joined")
    if "group_id" in params:
        joined = joined.where(col(GroupMembershipFact.group_id) == params["group_id"])
    if "group_type" in params:
        joined = joined.where(col(GroupMembershipFact.group_type) == params["group_type"])
    return _member_in(joined)


def _repurchase_due(params: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    today = now.astimezone(ZoneInfo(BRAND_ZONE)).date()
    return col(I.expected_repurchase_on).between(
        today + timedelta(days=params["from_days"]), today + timedelta(days=params["to_days"])
    )


def _fan(params: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    followed = col(I.followed_at).is_not(None)
    return followed if params["value"] else not_(followed)


_CONDITIONS: dict[str, Any] = {
    "followed_since": lambda p, now: col(I.followed_at) >= day_start(p["date"]),
    "wechat_fan": _fan,
    "visited_within": lambda p, now: _within(col(I.last_visit_at), p, now),
    "carted_within": lambda p, now: _within(col(I.last_cart_at), p, now),
    "bought_within": lambda p, now: _within(col(I.last_order_at), p, now),
    "orders_two_years": lambda p, now: _range(func.coalesce(col(I.orders_two_years), 0), p),
    "orders_without_refund": lambda p, now: _range(func.coalesce(col(I.orders_without_refund), 0), p),
    "total_spend_fen": lambda p, now: _range(func.coalesce(col(I.total_spend_fen), 0), p),
    "average_order_fen": lambda p, now: _range(col(I.average_order_fen), p),
    "holds_benefit_card": _benefit_card,
    "points_balance": lambda p, now: _member_in(
        select(col(LoyaltyFacts.member_id)).where(_range(col(LoyaltyFacts.points_available), p))
    ),
    "tier": lambda p, now: _member_in(select(col(LoyaltyFacts.member_id)).where(col(LoyaltyFacts.tier).in_(p["in"]))),
    "group_membership": _membership,
    "tags": lambda p, now: _member_in(select(col(MemberTag.member_id)).where(col(MemberTag.tag_id).in_(p["ids"]))),
    "lifecycle_stage": lambda p, now: col(I.stage).in_(p["in"]),
    "rfm_segment": lambda p, now: col(I.segment).in_(p["in"]),
    "consumer_type": lambda p, now: col(I.consumer_types).op("&&")(cast(list(p["in"]), ARRAY(String(32)))),
    "source_channel": lambda p, now: col(Member.source_channel).in_(p["in"]),
    "first_order_channel": lambda p, now: col(I.first_order_channel).in_(p["in"]),
    "first_order_month": lambda p, now: (
        extract("month", func.timezone(literal(BRAND_ZONE), col(I.first_order_at))) == p["month"]
    ),
    "monthly_spend_fen": lambda p, now: _range(func.coalesce(col(I.monetary_fen), 0) / 12, p),
    "repurchase_due": _repurchase_due,
}


def check_covered(names: set[str]) -> None:
    """Fails at import when a validated condition has no SQL (rules.CONDITIONS and this table must agree)."""
    missing = names - set(_CONDITIONS)
    if missing:
        raise RuntimeError(f"audience conditions without SQL: {sorted(missing)}")


def _check() -> None:
    from members.audiences.rules import CONDITIONS

    check_covered(set(CONDITIONS))


_check()

__all__ = ["Condition", "compile_rule"]
