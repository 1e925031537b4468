"""Audience rules, pure: parsing and validating a rule tree (AND / OR groups over conditions) into typed nodes.

A rule is JSON: a group `{"all": [rule, …]}` or `{"any": [rule, …]}`, or a condition `{"condition": name, …its
parameters}`. Validation refuses unknown conditions, wrong value types, empty groups and trees deeper than
MAX_DEPTH with typed errors, before any SQL is built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from members.audiences.errors import EmptyRuleGroup, InvalidConditionValue, InvalidRule, RuleTooDeep, UnknownCondition
from members.insights.rules import ConsumerType, Segment, Stage
from members.orders.models import SalesChannel
from members.profile.models import SourceChannel

MAX_DEPTH = 5  # groups within groups
MAX_CONDITIONS = 50
MAX_DAYS = 3650
MAX_LIST = 100
TIERS = ("normal", "silver", "gold", "diamond")


@dataclass(frozen=True, slots=True)
class Condition:
    """One validated condition: its name and typed parameters."""

    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Group:
    """AND (`all`) or OR (`any`) over its children."""

    op: str
    children: tuple[Node, ...]


Node = Condition | Group


# ----------------------------------------------------------------------------------------- parameter types


def _int(low: int, high: int) -> Callable[[str, Any], int]:
    def check(name: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidConditionValue(f"{name} must be a whole number from {low} to {high}", parameter=name)
        return value

    return check


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidConditionValue(f"{name} must be true or false", parameter=name)
    return value


def _date(name: str, value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidConditionValue(f"{name} must be a date (YYYY-MM-DD)", parameter=name) from exc


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or not value.isprintable():
        raise InvalidConditionValue(f"{name} must be 1–64 printable characters", parameter=name)
    return value


def _uuid(name: str, value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidConditionValue(f"{name} must be a UUID", parameter=name) from exc


def _one_of(values: tuple[str, ...]) -> Callable[[str, Any], tuple[str, ...]]:
    def check(name: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST or any(v not in values for v in value):
            raise InvalidConditionValue(f"{name} must be a list of 1–{MAX_LIST} of {', '.join(values)}", parameter=name)
        return tuple(sorted(set(value)))

    return check


def _uuids(name: str, value: Any) -> tuple[uuid.UUID, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise InvalidConditionValue(f"{name} must be a list of 1–{MAX_LIST} UUIDs", parameter=name)
    return tuple(sorted({_uuid(name, v) for v in value}))


_DAYS = _int(1, MAX_DAYS)
_COUNT = _int(0, 1_000_000)
_FEN = _int(0, 10**12)
_MONTH = _int(1, 12)
_SIGNED_DAYS = _int(-MAX_DAYS, MAX_DAYS)


@dataclass(frozen=True, slots=True)
class Spec:
    """A condition's parameters: required ones, optional ones, and whether a range needs one of min / max."""

    required: Mapping[str, Callable[[str, Any], Any]]
    optional: Mapping[str, Callable[[str, Any], Any]]
    range_: bool = False


def _within() -> Spec:
    return Spec({"days": _DAYS}, {"negate": _bool})


def _range(check: Callable[[str, Any], Any]) -> Spec:
    return Spec({}, {"min": check, "max": check}, range_=True)


CONDITIONS: Mapping[str, Spec] = {
    # behaviour
    "followed_since": Spec({"date": _date}, {}),
    "wechat_fan": Spec({"value": _bool}, {}),
    "visited_within": _within(),
    "carted_within": _within(),
    "bought_within": _within(),
    # orders
    "orders_two_years": _range(_COUNT),
    "orders_without_refund": _range(_COUNT),
    "total_spend_fen": _range(_FEN),
    "average_order_fen": _range(_FEN),
    # loyalty's and community's facts (members' copies)
    "holds_benefit_card": Spec({}, {"card_code": _text}),
    "points_balance": _range(_int(-(10**12), 10**12)),
    "tier": Spec({"in": _one_of(TIERS)}, {}),
    "group_membership": Spec({}, {"group_id": _uuid, "group_type": _text}),
    # intelligence
    "tags": Spec({"ids": _uuids}, {}),  # any of these tags
    "lifecycle_stage": Spec({"in": _one_of(tuple(s.value for s in Stage))}, {}),
    "rfm_segment": Spec({"in": _one_of(tuple(s.value for s in Segment))}, {}),
    "consumer_type": Spec({"in": _one_of(tuple(c.value for c in ConsumerType))}, {}),
    # the automatic tags' default rules
    "source_channel": Spec({"in": _one_of(tuple(c.value for c in SourceChannel))}, {}),
    "first_order_channel": Spec({"in": _one_of(tuple(c.value for c in SalesChannel))}, {}),
    "first_order_month": Spec({"month": _MONTH}, {}),
    "monthly_spend_fen": _range(_FEN),
    "repurchase_due": Spec({"from_days": _SIGNED_DAYS, "to_days": _SIGNED_DAYS}, {}),
}


def parse_rule(raw: Any) -> Node:
    """The validated tree of a JSON rule. Raises UnknownCondition, InvalidConditionValue, EmptyRuleGroup,
    RuleTooDeep or InvalidRule (not an object, or several of all / any / condition, or too many conditions)."""
    counter = [0]
    return _node(raw, 1, counter)


def _node(raw: Any, depth: int, counter: list[int]) -> Node:
    if not isinstance(raw, dict):
        raise InvalidRule("a rule is an object: {all: […]}, {any: […]} or {condition: …}")
    keys = {"all", "any", "condition"} & raw.keys()
    if len(keys) != 1:
        raise InvalidRule("a rule has exactly one of all, any and condition")
    [key] = keys
    if key == "condition":
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise InvalidRule(f"a rule holds at most {MAX_CONDITIONS} conditions")
        return _condition(raw)
    if depth > MAX_DEPTH:
        raise RuleTooDeep(f"groups nest at most {MAX_DEPTH} deep", max_depth=MAX_DEPTH)
    if set(raw) != {key}:
        raise InvalidRule(f"a group holds only {key}")
    children = raw[key]
    if not isinstance(children, list):
        raise InvalidRule(f"{key} is a list of rules")
    if not children:
        raise EmptyRuleGroup(f"an {key} group needs at least one rule")
    return Group(key, tuple(_node(child, depth + 1, counter) for child in children))


def _condition(raw: dict[str, Any]) -> Condition:
    name = raw["condition"]
    spec = CONDITIONS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise UnknownCondition(f"unknown condition {str(name)[:64]!r}", condition=str(name)[:64])
    given = {k: v for k, v in raw.items() if k != "condition"}
    unknown = set(given) - set(spec.required) - set(spec.optional)
    if unknown:
        raise InvalidConditionValue(f"{name} has no parameter {sorted(unknown)[0]!r}", parameter=sorted(unknown)[0])
    missing = set(spec.required) - set(given)
    if missing:
        raise InvalidConditionValue(f"{name} needs {sorted(missing)[0]}", parameter=sorted(missing)[0])
    params = {key: {**spec.required, **spec.optional}[key](key, value) for key, value in given.items()}
    if spec.range_:
        if "min" not in params and "max" not in params:
            raise InvalidConditionValue(f"{name} needs min, max or both", parameter="min")
        if "min" in params and "max" in params and params["min"] > params["max"]:
            raise InvalidConditionValue(f"{name}: min is above max", parameter="min")
    if name == "repurchase_due" and params["from_days"] > params["to_days"]:
        raise InvalidConditionValue("repurchase_due: from_days is after to_days", parameter="from_days")
    return Condition(name, params)


def conditions_of(node: Node) -> list[Condition]:
    """Every condition of a tree, depth first."""
    if isinstance(node, Condition):
        return [node]
    return [c for child in node.children for c in conditions_of(child)]
