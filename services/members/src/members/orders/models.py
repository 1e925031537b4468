"""Orders tables (schema `members`): orders with their lines, refunds against them, and behaviour events.

Every row carries the calling client (the token's subject) and the client's own id for it: the pair is unique, so
the same id sent twice by one client is one row, and two clients never collide.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
ID_LENGTH = 64  # external order, refund and event ids
CLIENT_LENGTH = 128  # token subjects
STORE_CODE_LENGTH = 32
GUIDE_LENGTH = 64


class SalesChannel(StrEnum):
    """Where an order was placed; adding one needs a migration of the `channel` CHECK constraint."""

    IN_STORE = "in_store"  # 门店
    MINI_PROGRAM = "mini_program"  # 小程序商城
    DELIVERY_PLATFORM = "delivery_platform"  # 美团 / 京东到家 / 饿了么
    LIVE_STREAM = "live_stream"  # 直播
    COMMUNITY_GROUP = "community_group"  # 社群团购
    E_COMMERCE = "e_commerce"  # 天猫 / 京东 / 抖音 shops
    OTHER = "other"


class BehaviourKind(StrEnum):
    """What a member did; adding one needs a migration of the `kind` CHECK constraint."""

    VISIT = "visit"  # 到店 / 访问
    ADD_TO_CART = "add_to_cart"  # 加购
    FOLLOW_OFFICIAL_ACCOUNT = "follow_official_account"  # 关注公众号
    ACTIVITY_PARTICIPATION = "activity_participation"  # 参与活动
    MESSAGE_CLICK = "message_click"  # 点击消息


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _id(length: int) -> Column[Any]:
    return Column(String(length), nullable=False)


def _at(*, default: bool = False) -> Column[Any]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now() if default else None)


class Order(Model, table=True):
    """A purchase (消费记录). `refunded_fen` only grows, under a row lock, and never passes `paid_fen`; `lines` is
    the JSON array of the order's lines as recorded; `content_hash` identifies what the client sent, so a
    replay is told from a conflicting reuse of the id.

    The line summary (`lines_gross_fen`, `lines_discounted_fen`, `gift_lines`, `line_prices_fen`,
    `line_amounts_fen`: quantity × unit price per line, in line order) is written from `lines` by the function
    `members.summarise_order_lines` (migration 3c9e1f4a7b21), so the insights refresh reads typed columns instead
    of parsing JSON: on every change of `lines`, and on every insert that leaves any of the five NULL (migration
    7d2b8e0c4f13), as every writer but the bulk import does (the model's defaults are NULL too). The bulk import
    computes them while it validates the lines and sends all five; a test holds them equal to the trigger's."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("paid_fen > 0", name="paid_positive"),
        CheckConstraint("discount_fen >= 0", name="discount_not_negative"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunded_within_paid"),
        CheckConstraint(_in("channel", SalesChannel), name="channel"),
        CheckConstraint("jsonb_typeof(lines) = 'array'", name="lines_array"),
        UniqueConstraint("client", "external_id"),
        Index("ix_orders_member_id_occurred_at", "member_id", "occurred_at"),
        Index("ix_orders_occurred_at_id", "occurred_at", "id"),
        Index("ix_orders_store_code_occurred_at", "store_code", "occurred_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(primary_key=True)
    client: str = Field(sa_column=_id(CLIENT_LENGTH))
    external_id: str = Field(sa_column=_id(ID_LENGTH))
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id"), nullable=False))
    store_code: str = Field(sa_column=_id(STORE_CODE_LENGTH))
    guide: str | None = Field(default=None, sa_column=Column(String(GUIDE_LENGTH), nullable=True))
    channel: str = Field(sa_column=Column(String(32), nullable=False))
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    discount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    refunded_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    lines: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    # NULL by default: the trigger then fills them (a value given here would be kept)
    lines_gross_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False))
    lines_discounted_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=False))
    gift_lines: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=False))
    line_prices_fen: list[int] | None = Field(default=None, sa_column=Column(ARRAY(BigInteger), nullable=False))
    line_amounts_fen: list[int] | None = Field(default=None, sa_column=Column(ARRAY(BigInteger), nullable=False))
    occurred_at: datetime = Field(sa_column=_at())
    earns_points: bool = Field(sa_column=Column(Boolean, nullable=False))
    imported: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    recorded_at: datetime = Field(sa_column=_at(default=True))


class Refund(Model, table=True):
    """Money given back on an order, by amount or by lines (`lines`: `[{"line": n, "quantity": q}]`, or null)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("client", "external_id"),
        Index("ix_refunds_order_id", "order_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(primary_key=True)
    client: str = Field(sa_column=_id(CLIENT_LENGTH))
    external_id: str = Field(sa_column=_id(ID_LENGTH))
    order_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.orders.id"), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    lines: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    occurred_at: datetime = Field(sa_column=_at())
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    recorded_at: datetime = Field(sa_column=_at(default=True))


class BehaviourEvent(Model, table=True):
    """Something a member did short of buying (visit, add-to-cart, follow, activity, message click)."""

    __tablename__ = "behaviour_events"
    __table_args__ = (
        CheckConstraint(_in("kind", BehaviourKind), name="kind"),
        UniqueConstraint("client", "external_id"),
        Index("ix_behaviour_events_member_id_occurred_at", "member_id", "occurred_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(primary_key=True)
    client: str = Field(sa_column=_id(CLIENT_LENGTH))
    external_id: str = Field(sa_column=_id(ID_LENGTH))
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id"), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    sku: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    activity: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    page: str | None = Field(default=None, sa_column=Column(String(256), nullable=True))
    occurred_at: datetime = Field(sa_column=_at())
    content_hash: str = Field(sa_column=Column(String(64), nullable=False))
    recorded_at: datetime = Field(sa_column=_at(default=True))
