"""Loyalty tables (schema `loyalty`): one account per member and its append-only ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, ForeignKey, Index, String, Uuid, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"
ENTRY_KINDS = ("adjustment",)


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
    """One change to a balance. Append-only (a trigger refuses UPDATE and DELETE); unique per idempotency key."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in ENTRY_KINDS)})", name="kind"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_not_blank"),
        Index("ix_ledger_entries_member_id_created_at", "member_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.accounts.member_id"), nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    reason: str = Field(sa_column=Column(String(200), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
