"""Members tables (schema `members`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, func
from sqlmodel import Field

from members.domain.channels import MemberStatus, SourceChannel
from yutang_shared.db import Model

SCHEMA = "members"


def _in(column: str, values: type[SourceChannel] | type[MemberStatus]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Member(Model, table=True):
    """A registered member. The mobile is stored encrypted, fingerprinted for lookup and masked for display."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(_in("source_channel", SourceChannel), name="source_channel"),
        CheckConstraint(_in("status", MemberStatus), name="status"),
        Index("ix_members_registered_at_id", "registered_at", "id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mobile_fingerprint: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    mobile_ciphertext: str = Field(sa_column=Column(String(256), nullable=False))
    mobile_masked: str = Field(sa_column=Column(String(11), nullable=False))
    nickname: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    source_channel: str = Field(sa_column=Column(String(32), nullable=False))
    status: str = Field(
        default=MemberStatus.ACTIVE.value,
        sa_column=Column(String(16), nullable=False, server_default=MemberStatus.ACTIVE.value),
    )
    registered_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
