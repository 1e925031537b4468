"""The tiers feature's tables (schema `loyalty`): loyalty's own copy of members' orders (from `order.paid` and
`order.refunded`), each member's tier, and the history of tier changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, DateTime, Index, String, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"


class TierOrder(Model, table=True):
    """An order as tiers count it: paid (when `paid_at` is known) less refunded. A refund that overtakes its
    order.paid leaves `paid_at` null until the order arrives."""

    __tablename__ = "tier_orders"
    __table_args__ = (
        CheckConstraint("refunded_fen >= 0 AND paid_fen >= 0", name="amounts_not_negative"),
        Index("ix_tier_orders_member_id_paid_at", "member_id", "paid_at"),
        {"schema": SCHEMA},
    )

    order_id: uuid.UUID = Field(primary_key=True)
    member_id: uuid.UUID = Field(nullable=False)
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    refunded_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class MemberTier(Model, table=True):
    """A member's tier: the level, since when, the end of a grace period when the last review found them below
    it (null otherwise), and the last review period (`2026-12`) that looked at them."""

    __tablename__ = "member_tiers"
    __table_args__ = ({"schema": SCHEMA},)

    member_id: uuid.UUID = Field(primary_key=True)
    level: str = Field(sa_column=Column(String(32), nullable=False))
    since: date = Field(sa_column=Column(Date, nullable=False))
    grace_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    reviewed_period: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    updated_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class TierChange(Model, table=True):
    """One change of a member's tier: from, to, up or down, on which date, why (`qualified` or `review`)."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        CheckConstraint("direction IN ('up', 'down')", name="direction"),
        Index("ix_tier_changes_member_id", "member_id", "changed_on"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    member_id: uuid.UUID = Field(nullable=False)
    from_level: str = Field(sa_column=Column(String(32), nullable=False))
    to_level: str = Field(sa_column=Column(String(32), nullable=False))
    direction: str = Field(sa_column=Column(String(8), nullable=False))
    reason: str = Field(sa_column=Column(String(16), nullable=False))
    changed_on: date = Field(sa_column=Column(Date, nullable=False))
    recorded_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
