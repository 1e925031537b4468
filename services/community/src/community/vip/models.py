"""VIP tables (schema `community`): applications, entry exceptions and the warnings of the monthly review."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, String, Text, Uuid, func
from sqlmodel import Field

from community.groups.models import SCHEMA, one_of
from yutang_shared.db import Model


class ExceptionReason(StrEnum):
    """Why a member may enter a group type without meeting its entry rule."""

    LONG_STANDING_BUYER = "long_standing_buyer"
    HIGH_ORDER_VALUE = "high_order_value"
    INFLUENCER = "influencer"


class ApplicationStatus(StrEnum):
    """How a VIP application ended."""

    INVITED = "invited"
    REFUSED = "refused"


class EntryException(Model, table=True):
    """A logged exception to a group type's entry rule: who, why, who approved."""

    __tablename__ = "entry_exceptions"
    __table_args__ = (CheckConstraint(one_of("reason", ExceptionReason), name="reason"), {"schema": SCHEMA})

    member_id: uuid.UUID = Field(primary_key=True)
    group_type: str = Field(sa_column=Column(String(16), primary_key=True))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    approver: str = Field(sa_column=Column(String(128), nullable=False))
    granted_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class VipApplication(Model, table=True):
    """A member's application for a VIP group, with the contact collected and the verdict."""

    __tablename__ = "vip_applications"
    __table_args__ = (CheckConstraint(one_of("status", ApplicationStatus), name="status"), {"schema": SCHEMA})

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    member_id: uuid.UUID = Field(nullable=False, index=True)
    wechat_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    mobile_last4: str | None = Field(default=None, sa_column=Column(String(4), nullable=True))
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    task_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class VipWarning(Model, table=True):
    """A VIP member who stopped qualifying, warned on `warned_on`; removed after the grace unless they qualify again."""

    __tablename__ = "vip_warnings"
    __table_args__ = ({"schema": SCHEMA},)

    group_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.groups.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: uuid.UUID = Field(primary_key=True)
    warned_on: date = Field(sa_column=Column(Date, nullable=False))
