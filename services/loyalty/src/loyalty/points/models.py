"""Loyalty tables (schema `loyalty`): one account per member and its append-only ledger.

An account has three buckets: `balance` (available points), `pending` (points of orders still in their lock
period) and `owed` (points a refund could not take back because they were spent). Every ledger entry moves
exactly one bucket (`Bucket`, fixed by its kind), and each bucket always equals the sum of its entries; in
particular `balance` is the sum of the entries of the available bucket.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"


class EntryKind(StrEnum):
    """What produced a ledger entry. Every writer of the ledger names its kind; adding one needs a migration
    of the `kind` CHECK constraint (`make drift` reports it missing)."""

    ADJUSTMENT = "adjustment"  # 积分调整: a manual change by staff, ops or a partner
    EARN_PENDING = "earn_pending"  # an order's points, pending until its lock period ends (pending +)
    PENDING_RELEASED = "pending_released"  # the lock period ended: the points leave pending (pending −)
    EARN = "earn"  # ... and become available (available +)
    PENDING_CANCELLED = "pending_cancelled"  # a refund cancelled pending points (pending −)
    REVERSAL = "reversal"  # a refund took available points back (available −)
    OWED = "owed"  # what a refund could not take back, the points being spent (owed +)
    OWED_SETTLEMENT = "owed_settlement"  # later earnings paying owed points back (available −)
    OWED_SETTLED = "owed_settled"  # ... and the owed points they paid (owed −)
    WELCOME = "welcome"  # 开卡礼: the card-opening gift on registration (available +)
    EXPIRY = "expiry"  # a lot's remaining points lapsed at its expiry date (available −)
    TIER_GIFT = "tier_gift"  # 升级礼: the gift of an upgrade to a tier (available +)
    CHECKIN = "checkin"  # 签到: the reward of a daily check-in (available +)
    CHECKIN_MAKEUP = "checkin_makeup"  # 补签: the points a make-up check-in costs (available −)
    POINTS_PAYMENT = "points_payment"  # 积分抵现: points held for (then spent on) an order's payment (available −)
    POINTS_PAYMENT_RELEASED = "points_payment_released"  # a voided or expired hold given back to its lots (+)
    BIRTHDAY = "birthday"  # 生日积分: the birthday points of the member's tier, once a year (available +)
    OPENING = "opening"  # 期初积分: a brand moving in: a member's points from its previous system, once (available +)


class Bucket(StrEnum):
    """Which of an account's three totals an entry moves."""

    AVAILABLE = "available"
    PENDING = "pending"
    OWED = "owed"


BUCKET_OF: dict[EntryKind, Bucket] = {
    EntryKind.EARN_PENDING: Bucket.PENDING,
    EntryKind.PENDING_RELEASED: Bucket.PENDING,
    EntryKind.PENDING_CANCELLED: Bucket.PENDING,
    EntryKind.OWED: Bucket.OWED,
    EntryKind.OWED_SETTLED: Bucket.OWED,
}
"""Kinds that move another bucket than the available balance (the others move `balance`)."""


def bucket_of(kind: EntryKind) -> Bucket:
    """The bucket entries of `kind` move."""
    return BUCKET_OF.get(kind, Bucket.AVAILABLE)


def _bucket_check() -> str:
    cases = " ".join(f"WHEN {k.value!r} THEN {b.value!r}" for k, b in BUCKET_OF.items())
    return f"bucket = CASE kind {cases} ELSE 'available' END"


class Account(Model, table=True):
    """A member's points: available `balance`, `pending` and `owed`, each the sum of its bucket's ledger entries
    and never below zero."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("pending >= 0", name="pending_not_negative"),
        CheckConstraint("owed >= 0", name="owed_not_negative"),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(primary_key=True)
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    pending: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    owed: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    )


class LedgerEntry(Model, table=True):
    """One change to one bucket of an account (`balance_after` is that bucket's total after it). Append-only (a
    trigger refuses UPDATE and DELETE); an idempotency key is unique per caller (`actor`, the token's subject, or
    the consumer's name for entries written from events), so two callers' keys never collide. `order_id` links
    the entries of an order's points to the order."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint(f"kind IN ({', '.join(repr(k.value) for k in EntryKind)})", name="kind"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint(_bucket_check(), name="bucket_of_kind"),
        UniqueConstraint("actor", "idempotency_key"),
        Index("ix_ledger_entries_member_id_created_at", "member_id", "created_at"),
        Index("ix_ledger_entries_order_id", "order_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.accounts.member_id"), nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    bucket: str = Field(
        default=Bucket.AVAILABLE.value, sa_column=Column(String(16), nullable=False, server_default="available")
    )
    order_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    reason: str = Field(sa_column=Column(String(200), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(128), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class PointLot(Model, table=True):
    """One grant of available points (a lot, 积分批次): how many it gave, how many are left, and the local date it
    expires on (`expires_on`, the first day it is no longer spendable; null: never). The ledger entry that granted
    it is `entry_id`. A member's available balance always equals the sum of their lots' `remaining` (a deferred
    constraint trigger checks it at commit), and a lot's `remaining` its `points` less its consumptions."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_within_points"),
        Index("ix_point_lots_member_open", "member_id", "expires_on", postgresql_where=text("remaining > 0")),
        Index("ix_point_lots_expires_on_open", "expires_on", postgresql_where=text("remaining > 0")),
        Index("ix_point_lots_order_id", "order_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(primary_key=True)
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.accounts.member_id"), nullable=False))
    entry_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.ledger_entries.id"), nullable=False, unique=True)
    )
    source: str = Field(sa_column=Column(String(32), nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    remaining: int = Field(sa_column=Column(BigInteger, nullable=False))
    earned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    order_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))


class LotConsumption(Model, table=True):
    """How many points one ledger entry took from (positive) or gave back to (negative) one lot: a debit's
    record of the lots it used, soonest-expiring first, and a reversal's or void's of the lots it restored."""

    __tablename__ = "lot_consumptions"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        Index("ix_lot_consumptions_lot_id", "lot_id"),
        {"schema": SCHEMA},
    )

    entry_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.ledger_entries.id"), primary_key=True, nullable=False)
    )
    lot_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.point_lots.id"), primary_key=True, nullable=False)
    )
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
