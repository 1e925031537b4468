"""The payment feature's table (schema `loyalty`): one row per quote, its hold and how it ended."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, String, UniqueConstraint, Uuid, func, text
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"


class PaymentStatus(StrEnum):
    """Where a points payment stands."""

    HELD = "held"  # the points are held (debited, lots recorded) until captured, voided or expired
    CAPTURED = "captured"  # the hold became the spend
    VOIDED = "voided"  # released back to the lots they came from
    EXPIRED = "expired"  # the hold lapsed and released itself


class PointsPayment(Model, table=True):
    """A quote of points paying part of an order, and its hold: `points` worth `amount_fen`, held by the ledger
    entry `hold_entry_id` until `expires_at`. A quote is once per caller's `quote_key`; a capture once per
    `capture_key`."""

    __tablename__ = "points_payments"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in PaymentStatus)})", name="status"),
        CheckConstraint("points > 0 AND amount_fen > 0", name="positive"),
        UniqueConstraint("actor", "quote_key"),
        Index("ix_points_payments_held_expires_at", "expires_at", postgresql_where=text("status = 'held'")),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(primary_key=True)
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    store_code: str = Field(sa_column=Column(String(64), nullable=False))
    order_amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    hold_entry_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    quote_key: str = Field(sa_column=Column(String(128), nullable=False))
    capture_key: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    settled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
