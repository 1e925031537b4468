"""The audit log table (`members.audit_log`): append-only, a trigger refuses UPDATE and DELETE."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index, String, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
OK = "ok"


class AuditEntry(Model, table=True):
    """One recorded action: who (actor, role, client), what (action on a target), in which request, and how it
    ended (`ok`, or the code it was refused with)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at_id", "at", "id"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_target_at", "target_type", "target_id", "at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    client_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    request_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    target_type: str = Field(sa_column=Column(String(32), nullable=False))
    target_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    outcome: str = Field(sa_column=Column(String(64), nullable=False))
