"""Builders of the insights, audiences and tags tests: members, orders and behaviour written straight into the
members tables on chosen local dates (days before AS_OF, noon in Asia/Shanghai), so every figure is hand-computed."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.insights.service import RefreshResult, refresh_insights
from members.uow import MembersUnitOfWork
from yutang_shared.db import session_factory

AS_OF = date(2026, 6, 30)
ZONE = ZoneInfo("Asia/Shanghai")


def at(days_ago: int, as_of: date = AS_OF) -> datetime:
    """Noon (Asia/Shanghai) `days_ago` local days before `as_of`."""
    return datetime.combine(as_of - timedelta(days=days_ago), time(12), ZONE)


async def member(
    engine: AsyncEngine,
    *,
    status: str = "active",
    consent: str | None = None,
    source: str = "store_qr",
    store: str | None = None,
    registered_days_ago: int = 800,
    as_of: date = AS_OF,
) -> uuid.UUID:
    """A member registered `registered_days_ago` days before AS_OF."""
    member_id = uuid.uuid4()
    fingerprint = None if status == "closed" else hashlib.sha256(member_id.bytes).hexdigest()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO members.members (id, mobile_fingerprint, source_channel, status, registered_at, consent, "
                "home_store_code, gender) VALUES (:id, :fp, :source, :status, :at, :consent, :store, 'unknown')"
            ),
            {
                "id": member_id,
                "fp": fingerprint,
                "source": source,
                "status": status,
                "at": at(registered_days_ago, as_of),
                "consent": consent,
                "store": store,
            },
        )
    return member_id


def line(price: int, *, quantity: int = 1, discounted: bool = False, category: str = "tea") -> dict[str, Any]:
    return {
        "sku": f"SKU-{price}",
        "name": None,
        "category": category,
        "quantity": quantity,
        "unit_price_fen": price,
        "discounted": discounted,
    }


async def order(
    engine: AsyncEngine,
    member_id: uuid.UUID,
    days_ago: int,
    paid: int = 1000,
    *,
    refunded: int = 0,
    discount: int = 0,
    lines: list[dict[str, Any]] | None = None,
    channel: str = "in_store",
    store: str = "S001",
    as_of: date = AS_OF,
) -> uuid.UUID:
    """An order paid `days_ago` days before AS_OF; one line at `paid + discount` unless lines are given."""
    order_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO members.orders (id, client, external_id, member_id, store_code, channel, paid_fen, "
                "discount_fen, refunded_fen, lines, occurred_at, earns_points, content_hash) VALUES (:id, 'test', "
                ":ext, :member, :store, :channel, :paid, :discount, :refunded, CAST(:lines AS jsonb), :at, false, "
                "'x')"
            ),
            {
                "id": order_id,
                "ext": order_id.hex,
                "member": member_id,
                "store": store,
                "channel": channel,
                "paid": paid,
                "discount": discount,
                "refunded": refunded,
                "lines": json.dumps(lines if lines is not None else [line(paid + discount)]),
                "at": at(days_ago, as_of),
            },
        )
    return order_id


async def behaviour(
    engine: AsyncEngine,
    member_id: uuid.UUID,
    kind: str,
    days_ago: int,
    *,
    activity: str | None = None,
    page: str | None = None,
    as_of: date = AS_OF,
) -> None:
    """A behaviour event `days_ago` days before AS_OF."""
    event_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO members.behaviour_events (id, client, external_id, member_id, kind, activity, page, "
                "occurred_at, content_hash) VALUES (:id, 'test', :ext, :member, :kind, :activity, :page, :at, 'x')"
            ),
            {
                "id": event_id,
                "ext": event_id.hex,
                "member": member_id,
                "kind": kind,
                "activity": activity,
                "page": page,
                "at": at(days_ago, as_of),
            },
        )


async def refresh(engine: AsyncEngine, as_of: date = AS_OF, shard: int = 0, shards: int = 1) -> RefreshResult:
    return await refresh_insights(MembersUnitOfWork(session_factory(engine)), as_of=as_of, shard=shard, shards=shards)


async def insight(engine: AsyncEngine, member_id: uuid.UUID) -> dict[str, Any]:
    """The member's insights row."""
    async with engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    text("SELECT * FROM members.member_insights WHERE member_id = :id"), {"id": member_id}
                )
            )
            .mappings()
            .one()
        )
    return dict(row)


async def stage(engine: AsyncEngine, member_id: uuid.UUID) -> str:
    return str((await insight(engine, member_id))["stage"])
