"""Group tables (schema `community`) and the vocabularies of a group: its type and the kind of place it serves."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, Integer, String, UniqueConstraint, func, text
from sqlmodel import Field

from community.groups.rules import WECOM_MAX_MEMBERS
from yutang_shared.db import Model

SCHEMA = "community"


class GroupType(StrEnum):
    """What a group is for."""

    BASIC = "basic"  # 基础群: per region / store / residential community
    VIP = "vip"  # VIP群: invitation only
    BUFFER = "buffer"  # 缓冲群: one per warehouse, takes members of dissolving basic groups
    DISTRIBUTOR = "distributor"  # 分销员群: members who share and sell


class GroupStatus(StrEnum):
    """Where a group is in its life: WeCom has no API to create or dissolve groups, so staff confirm both."""

    PLANNED = "planned"  # the system needs it; a create-group task asks a steward to open it in WeCom
    ACTIVE = "active"  # a steward confirmed its WeCom chat id
    CLOSED = "closed"  # dissolved (a confirmed dissolve task)


class ScopeKind(StrEnum):
    """What kind of place a group serves."""

    REGION = "region"
    STORE = "store"
    COMMUNITY = "community"  # 小区: a residential community
    WAREHOUSE = "warehouse"


def one_of(column: str, values: type[StrEnum]) -> str:
    """A CHECK expression keeping `column` to the enum's values; adding a value needs a migration."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Group(Model, table=True):
    """A WeChat customer group (社群) run by one of the brand's WeCom accounts."""

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint(one_of("type", GroupType), name="type"),
        CheckConstraint(one_of("scope_kind", ScopeKind), name="scope_kind"),
        CheckConstraint("sequence >= 1", name="sequence"),
        CheckConstraint(f"capacity BETWEEN 1 AND {WECOM_MAX_MEMBERS}", name="capacity"),
        CheckConstraint("member_count >= 0 AND member_count <= capacity", name="member_count"),
        CheckConstraint(one_of("status", GroupStatus), name="status"),
        UniqueConstraint("type", "scope_kind", "scope_name", "sequence"),
        UniqueConstraint("chat_id"),
        Index("ix_groups_created_at_id", "created_at", "id"),
        # Never two planned groups of one (type, scope) at once: filling a group plans the next one only once.
        Index(
            "uq_groups_one_planned_per_scope",
            "type",
            "scope_kind",
            "scope_name",
            unique=True,
            postgresql_where=text("status = 'planned'"),
        ),
        # One buffer group per warehouse.
        Index(
            "uq_groups_one_buffer_per_warehouse", "scope_name", unique=True, postgresql_where=text("type = 'buffer'")
        ),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(64), nullable=False))
    type: str = Field(sa_column=Column(String(16), nullable=False))
    scope_kind: str = Field(sa_column=Column(String(16), nullable=False))
    scope_name: str = Field(sa_column=Column(String(64), nullable=False))
    sequence: int = Field(sa_column=Column(Integer, nullable=False))
    capacity: int = Field(sa_column=Column(Integer, nullable=False))
    member_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    status: str = Field(
        default=GroupStatus.ACTIVE.value,
        sa_column=Column(String(16), nullable=False, server_default=GroupStatus.ACTIVE.value),
    )
    chat_id: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    warehouse: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    steward: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    opened_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    closed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    joined_total: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    quit_total: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
