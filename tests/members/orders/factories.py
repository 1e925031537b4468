"""Small factories of the orders tests: order, refund and behaviour inputs, and members registered directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.orders.models import BehaviourKind, SalesChannel
from members.orders.views import BehaviourInput, Line, MemberRef, OrderInput, RefundInput, RefundLine
from members.pii import MobileVault
from members.profile.models import MemberStatus, SourceChannel
from members.registration.service import register_member
from members.uow import MembersUnitOfWork
from yutang_shared.db import session_factory

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


async def make_member(
    engine: AsyncEngine, vault: MobileVault, mobile: str = "13800138000", status: MemberStatus = MemberStatus.ACTIVE
) -> uuid.UUID:
    """A registered member, frozen or closed when asked."""
    registration = await register_member(
        MembersUnitOfWork(session_factory(engine)),
        vault,
        mobile=mobile,
        nickname=None,
        source_channel=SourceChannel.STORE_QR,
    )
    if status is not MemberStatus.ACTIVE:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE members.members SET status = :s WHERE id = :id"),
                {"s": status.value, "id": registration.member.id},
            )
    return registration.member.id


def lines(*prices: int, quantity: int = 1, discounted: bool = False) -> tuple[Line, ...]:
    """One line per price, each `quantity` times."""
    return tuple(
        Line(
            sku=f"SKU{i}",
            category="tea" if i % 2 else "snacks",
            quantity=quantity,
            unit_price_fen=price,
            name=f"item {i}",
            discounted=discounted,
        )
        for i, price in enumerate(prices, start=1)
    )


def make_order(member: uuid.UUID | MemberRef, **overrides: Any) -> OrderInput:
    """An order of two lines (1 000 + 500 fen, 300 off: 1 200 paid) an hour ago, at store S001."""
    ref = member if isinstance(member, MemberRef) else MemberRef(member_id=member)
    values: dict[str, Any] = {
        "external_id": f"POS-{uuid.uuid4().hex[:12]}",
        "member": ref,
        "store_code": "S001",
        "channel": SalesChannel.IN_STORE,
        "paid_fen": 1200,
        "discount_fen": 300,
        "lines": lines(1000, 500),
        "occurred_at": AN_HOUR_AGO,
        "guide": "guide-7",
        "earns_points": True,
    }
    values.update(overrides)
    return OrderInput(**values)


def make_refund(order_id: uuid.UUID | None, **overrides: Any) -> RefundInput:
    """A full refund of the order, now."""
    values: dict[str, Any] = {
        "external_id": f"RF-{uuid.uuid4().hex[:12]}",
        "occurred_at": datetime.now(UTC),
        "order_id": order_id,
    }
    values.update(overrides)
    return RefundInput(**values)


def refund_lines(*pairs: tuple[int, int]) -> tuple[RefundLine, ...]:
    return tuple(RefundLine(line, quantity) for line, quantity in pairs)


def make_behaviour(member: uuid.UUID, **overrides: Any) -> BehaviourInput:
    values: dict[str, Any] = {
        "external_id": f"EV-{uuid.uuid4().hex[:12]}",
        "member": MemberRef(member_id=member),
        "kind": BehaviourKind.ADD_TO_CART,
        "occurred_at": AN_HOUR_AGO,
        "sku": "SKU1",
    }
    values.update(overrides)
    return BehaviourInput(**values)
