"""Loyalty's member directory (schema `loyalty`): the members the members service announced, and whether they are
still active, and their birthday as a month-day (for birthday points). Kept from `member.registered` /
`member.updated` / `member.closed` events; loyalty never reads members' tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, func, text
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"
# "MM-DD": a month 01-12 and a day 01-31 (02-30 and the like are not checked here; members sends real dates).
MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class DirectoryStatus(StrEnum):
    """Whether a member may still earn and spend points."""

    ACTIVE = "active"
    CLOSED = "closed"


class DirectoryMember(Model, table=True):
    """One member known to loyalty. `registered_at` is empty when the closing arrived before the registration;
    `birthday_md` ("MM-DD", no year) is empty when the member gave no birthday, and once they are closed."""

    __tablename__ = "member_directory"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in DirectoryStatus)})", name="status"),
        CheckConstraint(f"birthday_md ~ '{MONTH_DAY}'", name="birthday_md"),
        Index(
            "ix_member_directory_birthday_md",
            "birthday_md",
            "member_id",
            postgresql_where=text("status = 'active' AND birthday_md IS NOT NULL"),
        ),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(sa_column=Column(String(16), nullable=False))
    registered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    birthday_md: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    updated_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    )
