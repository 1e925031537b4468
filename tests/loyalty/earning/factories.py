"""Helpers of the earning tests: events shaped like members' (docs/orders.md), delivered like the consumer
delivers them (inbox claim, handler, commit), and reads of accounts, entries and the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.earning import service as earning
from loyalty.earning.rules import EarnRules, local_date
from loyalty.models import INBOX
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.db import session_factory
from yutang_shared.inbox import claim
from yutang_shared.outbox import Event

RULES = EarnRules()
AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def paid(member_id: uuid.UUID, paid_fen: int, **overrides: Any) -> Event:
    """An `order.paid` v1 for a new order of `member_id`."""
    order_id = overrides.pop("order_id", uuid.uuid4())
    occurred_at: datetime = overrides.pop("occurred_at", AN_HOUR_AGO)
    data = {
        "order_id": str(order_id),
        "client": "pos",
        "external_id": f"POS-{order_id.hex[:8]}",
        "member_id": str(member_id),
        "store_code": "S001",
        "guide": None,
        "channel": "in_store",
        "paid_fen": paid_fen,
        "discount_fen": 0,
        "occurred_at": occurred_at.isoformat(),
        "earns_points": True,
        "imported": False,
        "categories": [],
        "discounted_share": 0,
        "item_count": 1,
        "line_count": 1,
        **overrides,
    }
    return Event(type="order.paid", aggregate_id=str(order_id), occurred_at=occurred_at, data=data)


def refunded(order: Event, refunded_fen: int, total_refunded_fen: int | None = None) -> Event:
    """An `order.refunded` v1 of `order` (the order.paid event) giving back `refunded_fen`."""
    data = order.data
    total = refunded_fen if total_refunded_fen is None else total_refunded_fen
    refund_id = uuid.uuid4()
    return Event(
        type="order.refunded",
        aggregate_id=data["order_id"],
        data={
            "order_id": data["order_id"],
            "refund_id": str(refund_id),
            "client": "pos",
            "external_refund_id": f"RF-{refund_id.hex[:8]}",
            "member_id": data["member_id"],
            "refunded_fen": refunded_fen,
            "paid_fen": data["paid_fen"],
            "total_refunded_fen": total,
            "remaining_fen": data["paid_fen"] - total,
            "earns_points": data["earns_points"],
            "occurred_at": datetime.now(UTC).isoformat(),
        },
    )


def registered(member_id: uuid.UUID) -> Event:
    now = datetime.now(UTC)
    data = {"member_id": str(member_id), "registered_at": now.isoformat(), "source_channel": "store_qr"}
    return Event(type="member.registered", aggregate_id=str(member_id), data=data)


async def deliver(engine: AsyncEngine, event: Event, rules: EarnRules = RULES) -> bool:
    """Apply `event` like the `loyalty-earning` consumer: inbox claim, handler, commit; False for a duplicate."""
    handler = earning.subscription(rules).handlers[event.type]
    uow = LoyaltyUnitOfWork(session_factory(engine))
    async with uow:
        if not await claim(uow.session, INBOX, consumer=earning.CONSUMER, event_id=event.id):
            return False
        await handler(uow, event)
        await uow.commit()
    return True


async def totals(engine: AsyncEngine, member_id: uuid.UUID) -> dict[str, int]:
    """The account's balance, pending and owed; each checked against the sum of its bucket's entries."""
    async with engine.connect() as connection:
        account = (
            await connection.execute(
                text("SELECT balance, pending, owed FROM loyalty.accounts WHERE member_id = :m"), {"m": member_id}
            )
        ).first()
        sums = dict(
            (
                await connection.execute(
                    text("SELECT bucket, sum(points) FROM loyalty.ledger_entries WHERE member_id = :m GROUP BY bucket"),
                    {"m": member_id},
                )
            ).all()
        )
    found = {"balance": 0, "pending": 0, "owed": 0} if account is None else dict(account._mapping)
    assert found == {
        "balance": sums.get("available", 0),
        "pending": sums.get("pending", 0),
        "owed": sums.get("owed", 0),
    }, "an account total differs from the sum of its entries"
    return found


async def entries(engine: AsyncEngine, member_id: uuid.UUID) -> list[dict[str, Any]]:
    """The member's entries, oldest first: kind, points, key, order id, actor."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT kind, points, idempotency_key AS key, order_id, actor FROM loyalty.ledger_entries "
                "WHERE member_id = :m ORDER BY created_at, id"
            ),
            {"m": member_id},
        )
        return [dict(row) for row in rows.mappings()]


async def outbox(engine: AsyncEngine, *, balances: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of loyalty's outbox, in order; points.balance-changed only when `balances`."""
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT type, data FROM loyalty.outbox ORDER BY seq"))
        return [(row.type, row.data) for row in rows if balances or row.type != "points.balance-changed"]


async def release(engine: AsyncEngine, days_after: int = 7) -> tuple[int, int]:
    """Release what is due `days_after` days after the local day of AN_HOUR_AGO: (orders, points)."""
    as_of = local_date(AN_HOUR_AGO) + timedelta(days=days_after)
    result = await earning.release_pending_points(LoyaltyUnitOfWork(session_factory(engine)), as_of=as_of)
    return result.orders, result.points
