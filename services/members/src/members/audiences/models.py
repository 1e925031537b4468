"""Audiences tables (schema `members`): saved rules, and frozen snapshots of their members for a campaign."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
NAME_LENGTH = 64
KEY_LENGTH = 64


def _now() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Audience(Model, table=True):
    """A saved rule (人群): a tree of AND / OR over conditions, evaluated live."""

    __tablename__ = "audiences"
    __table_args__ = ({"schema": SCHEMA},)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    rule: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class AudienceSnapshot(Model, table=True):
    """An audience's members frozen at one moment for a campaign; `key` makes materialising idempotent."""

    __tablename__ = "audience_snapshots"
    __table_args__ = ({"schema": SCHEMA},)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(sa_column=Column(String(KEY_LENGTH), nullable=False, unique=True))
    audience_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.audiences.id", ondelete="CASCADE"), nullable=False)
    )
    rule: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: str = Field(sa_column=Column(String(128), nullable=False))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_column=_now())


class AudienceSnapshotMember(Model, table=True):
    """One member of a snapshot."""

    __tablename__ = "audience_snapshot_members"
    __table_args__ = (Index("ix_audience_snapshot_members_member_id", "member_id"), {"schema": SCHEMA})

    snapshot_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.audience_snapshots.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id", ondelete="CASCADE"), primary_key=True)
    )
