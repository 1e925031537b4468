"""The earning feature's table (schema `loyalty`): one row per order that earns points, its lock period and what
refunds have taken back. The points themselves are on the ledger; this row is the order's side of the story."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, DateTime, Index, Numeric, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"


class OrderPointsStatus(StrEnum):
    """Where an order's points stand."""

    PENDING = "pending"  # in the lock period: `pending` points wait on the member's pending total
    RELEASED = "released"  # the lock period ended: what was still pending became available
    FORFEITED = "forfeited"  # the member was closed before the points could be earned or released


class OrderPoints(Model, table=True):
    """An order loyalty earned on (`order.paid` with earns_points). `points` is what the rules gave it, `pending`
    what still waits for `release_on`, `reversed` what refunds took back (from pending, available or as owed),
    `refunded_fen` the refunds seen so far."""

    __tablename__ = "order_points"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in OrderPointsStatus)})", name="status"),
        CheckConstraint("points >= 0 AND pending >= 0 AND pending <= points", name="pending_within_points"),
        CheckConstraint("reversed >= 0 AND reversed <= points", name="reversed_within_points"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunded_within_paid"),
        Index("ix_order_points_due", "release_on", postgresql_where=text("status = 'pending'")),
        Index("ix_order_points_member_id", "member_id"),
        {"schema": SCHEMA},
    )

    order_id: uuid.UUID = Field(primary_key=True)
    member_id: uuid.UUID = Field(nullable=False)
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    refunded_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    # The tier's earn multiplier applied (1 without a tier): reconciliation recomputes `points` with it.
    tier_multiplier: Decimal = Field(
        default=Decimal(1), sa_column=Column(Numeric(6, 2), nullable=False, server_default="1")
    )
    pending: int = Field(sa_column=Column(BigInteger, nullable=False))
    reversed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    release_on: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    released_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class ParkedRefund(Model, table=True):
    """An `order.refunded` that arrived before its `order.paid` (events of different orders, or a redelivery,
    can overtake each other): kept here and applied the moment the order earns, instead of being retried until it
    lands among the dead letters."""

    __tablename__ = "parked_refunds"
    __table_args__ = (Index("ix_parked_refunds_order_id", "order_id"), {"schema": SCHEMA})

    refund_id: uuid.UUID = Field(primary_key=True)
    order_id: uuid.UUID = Field(nullable=False)
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    parked_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
