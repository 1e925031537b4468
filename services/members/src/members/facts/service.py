"""Applying other services' events to members' copies of their facts (points, tier, benefit cards, groups).

Each handler checks the event's version and its fields, then upserts the copy: the newest `changed_at` wins, so
events arriving out of order or twice leave the newest fact. A malformed event raises (retried, then
dead-lettered for an operator).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from members.facts.repository import PointsFact
from members.uow import MembersUnitOfWork
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event

POINTS_BALANCE_CHANGED = "points.balance-changed"
TIER_CHANGED = "tier.changed"
BENEFIT_CARD_CHANGED = "benefit-card.changed"
MEMBERSHIP_CHANGED = "membership.changed"
TIERS = frozenset({"normal", "silver", "gold", "diamond"})
MEMBERSHIP_STATUSES = frozenset({"joined", "left"})


class UnsupportedEvent(ValueError):
    """An event version or shape this consumer does not understand: retried, then dead-lettered."""


def _data(event: Event, version: int) -> dict[str, Any]:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")
    return dict(event.data)


def _at(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise UnsupportedEvent(f"{value!r} has no time zone")
    return parsed


def _points(event: Event) -> PointsFact:
    data = _data(event, 1)
    available = data["available"]
    if not isinstance(available, int) or isinstance(available, bool):
        raise UnsupportedEvent(f"available must be an integer, not {available!r}")
    return PointsFact(uuid.UUID(data["member_id"]), available, _at(data["changed_at"]))


async def on_points_balance_changed(uow: MembersUnitOfWork, event: Event) -> None:
    """`points.balance-changed` v1: the member's available points."""
    await uow.facts.points([_points(event)])


async def on_points_balances_changed(uow: MembersUnitOfWork, events: Sequence[Event]) -> None:
    """`on_points_balance_changed` for a run of events, in one statement (the newest of a member's wins)."""
    await uow.facts.points([_points(event) for event in events])


async def on_tier_changed(uow: MembersUnitOfWork, event: Event) -> None:
    """`tier.changed` v1: the member's tier (lower-case level) and whether it makes them VIP-eligible."""
    data = _data(event, 1)
    tier = str(data["to_level"])
    if tier not in TIERS:
        raise UnsupportedEvent(f"unknown tier {tier!r}")
    await uow.facts.tier(uuid.UUID(data["member_id"]), tier, bool(data["vip_eligible"]), _at(data["changed_at"]))


async def on_benefit_card_changed(uow: MembersUnitOfWork, event: Event) -> None:
    """`benefit-card.changed` v1: whether the member holds the card, until when."""
    data = _data(event, 1)
    expires = data.get("expires_at")
    await uow.facts.benefit_card(
        uuid.UUID(data["member_id"]),
        str(data["card_code"]),
        bool(data["held"]),
        None if expires is None else _at(expires),
        _at(data["changed_at"]),
    )


async def on_membership_changed(uow: MembersUnitOfWork, event: Event) -> None:
    """`membership.changed` v1: the member joined or left a community group."""
    data = _data(event, 1)
    status = str(data["status"])
    if status not in MEMBERSHIP_STATUSES:
        raise UnsupportedEvent(f"unknown membership status {status!r}")
    await uow.facts.membership(
        uuid.UUID(data["member_id"]),
        uuid.UUID(data["group_id"]),
        str(data["group_type"]),
        status,
        _at(data["changed_at"]),
    )


LOYALTY: Subscription[MembersUnitOfWork] = Subscription(
    name="facts-loyalty",
    source="loyalty",
    handlers={
        POINTS_BALANCE_CHANGED: on_points_balance_changed,
        TIER_CHANGED: on_tier_changed,
        BENEFIT_CARD_CHANGED: on_benefit_card_changed,
    },
    together=True,  # upserts of members' own copies, which nothing else writes
    batch_handlers={POINTS_BALANCE_CHANGED: on_points_balances_changed},  # one per ledger write: the busiest
)
"""Members' copy of loyalty's facts: the durable `members-facts-loyalty`."""

COMMUNITY: Subscription[MembersUnitOfWork] = Subscription(
    name="facts-community",
    source="community",
    handlers={MEMBERSHIP_CHANGED: on_membership_changed},
    together=True,  # upserts of members' own copies, which nothing else writes
)
"""Members' copy of community's facts: the durable `members-facts-community`."""
