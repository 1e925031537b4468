"""Loyalty tables (schema `loyalty`): one account per member and its append-only ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
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
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"


class EntryKind(StrEnum):
    """What produced a ledger entry. Every writer of the ledger names its kind; adding one needs a migration
    of the `kind` CHECK constraint (`make drift` reports it missing)."""

    ADJUSTMENT = "adjustment"  # 积分调整: a manual change by staff, ops or a partner


class Account(Model, table=True):
    """A member's points balance; always the sum of their ledger entries, never below zero."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"), {"schema": SCHEMA})

    member_id: uuid.UUID = Field(primary_key=True)
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    )


class LedgerEntry(Model, table=True):
    """One change to a balance. Append-only (a trigger refuses UPDATE and DELETE); an idempotency key is unique
    per caller (`actor`, the token's subject), so two callers' keys never collide."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint(f"kind IN ({', '.join(repr(k.value) for k in EntryKind)})", name="kind"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_not_blank"),
        UniqueConstraint("actor", "idempotency_key"),
        Index("ix_ledger_entries_member_id_created_at", "member_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.accounts.member_id"), nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    reason: str = Field(sa_column=Column(String(200), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(128), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
