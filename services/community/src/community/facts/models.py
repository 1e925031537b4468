"""Community's copies of other services' facts (schema `community`): members' orders and loyalty tiers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, String
from sqlmodel import Field

from community.groups.models import SCHEMA
from yutang_shared.db import Model


class OrderFact(Model, table=True):
    """One paid order of a member, net of its refunds so far (from `order.paid` / `order.refunded`)."""

    __tablename__ = "order_facts"
    __table_args__ = (
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunded"),
        Index("ix_order_facts_member_id_paid_at", "member_id", "paid_at"),
        {"schema": SCHEMA},
    )

    order_id: uuid.UUID = Field(primary_key=True)
    member_id: uuid.UUID = Field(nullable=False)
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    refunded_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    paid_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TierFact(Model, table=True):
    """A member's loyalty tier as of the newest `tier.changed` community has applied."""

    __tablename__ = "tier_facts"
    __table_args__ = ({"schema": SCHEMA},)

    member_id: uuid.UUID = Field(primary_key=True)
    level: str = Field(sa_column=Column(String(16), nullable=False))
    vip_eligible: bool = Field(nullable=False)
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
