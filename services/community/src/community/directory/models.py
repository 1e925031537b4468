"""Community's member directory (schema `community`): the members the members service announced, and whether
they are still active. Kept from `member.registered` / `member.closed` events; community never reads members' tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, String, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "community"


class DirectoryStatus(StrEnum):
    """Whether a member may still join groups."""

    ACTIVE = "active"
    CLOSED = "closed"


class DirectoryMember(Model, table=True):
    """One member known to community. `registered_at` is empty when the closing arrived before the registration."""

    __tablename__ = "member_directory"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in DirectoryStatus)})", name="status"),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(sa_column=Column(String(16), nullable=False))
    registered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    updated_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    )
