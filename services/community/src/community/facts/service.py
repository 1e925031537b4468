"""The facts consumers: members' `order.paid` / `order.refunded` and loyalty's `tier.changed` into community's own
copies, which the VIP entry rule reads (community never reads another service's tables)."""

from __future__ import annotations

import uuid
from datetime import datetime

from community.directory.service import UnsupportedEvent
from community.uow import CommunityUnitOfWork
from yutang_shared.events.consumer import Subscription
from yutang_shared.outbox import Event

ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
TIER_CHANGED = "tier.changed"


class OrderNotKnown(RuntimeError):
    """A refund of an order whose `order.paid` has not been applied yet: retried until it has."""


async def on_order_paid(uow: CommunityUnitOfWork, event: Event) -> None:
    """`order.paid` v1: the member paid `paid_fen` at `occurred_at`."""
    _version(event, 1)
    await uow.facts.add_order(
        order_id=uuid.UUID(event.data["order_id"]),
        member_id=uuid.UUID(event.data["member_id"]),
        paid_fen=int(event.data["paid_fen"]),
        paid_at=datetime.fromisoformat(event.data["occurred_at"]),
    )


async def on_order_refunded(uow: CommunityUnitOfWork, event: Event) -> None:
    """`order.refunded` v1: the order's refunds now total `total_refunded_fen`."""
    _version(event, 1)
    order_id = uuid.UUID(event.data["order_id"])
    if not await uow.facts.refund_order(order_id, int(event.data["total_refunded_fen"])):
        raise OrderNotKnown(f"order {order_id} has no order.paid applied yet")


async def on_tier_changed(uow: CommunityUnitOfWork, event: Event) -> None:
    """`tier.changed` v1 (loyalty): the member's tier level is `to_level` from `changed_at`."""
    _version(event, 1)
    await uow.facts.set_tier(
        member_id=uuid.UUID(event.data["member_id"]),
        level=str(event.data["to_level"]),
        vip_eligible=bool(event.data["vip_eligible"]),
        changed_at=datetime.fromisoformat(event.data["changed_at"]),
    )


def _version(event: Event, version: int) -> None:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")


ORDERS: Subscription[CommunityUnitOfWork] = Subscription(
    name="orders", source="members", handlers={ORDER_PAID: on_order_paid, ORDER_REFUNDED: on_order_refunded}
)
"""The durable `community-orders` on members' order events."""

TIERS: Subscription[CommunityUnitOfWork] = Subscription(
    name="tiers", source="loyalty", handlers={TIER_CHANGED: on_tier_changed}
)
"""The durable `community-tiers` on loyalty's tier events."""
