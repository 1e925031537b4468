"""Community tables (schema `community`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlmodel import Field

from community.domain.kinds import GroupRole, GroupType, JoinChannel, ScopeKind
from community.domain.rules import WECOM_MAX_MEMBERS
from yutang_shared.db import Model

SCHEMA = "community"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Group(Model, table=True):
    """A WeChat customer group (社群) run by one of the brand's WeCom accounts."""

    __tablename__ = "groups"
    __table_args__ = (
        CheckConstraint(_in("type", GroupType), name="type"),
        CheckConstraint(_in("scope_kind", ScopeKind), name="scope_kind"),
        CheckConstraint("sequence >= 1", name="sequence"),
        CheckConstraint(f"capacity BETWEEN 1 AND {WECOM_MAX_MEMBERS}", name="capacity"),
        CheckConstraint("member_count >= 0 AND member_count <= capacity", name="member_count"),
        UniqueConstraint("type", "scope_kind", "scope_name", "sequence"),
        Index("ix_groups_created_at_id", "created_at", "id"),
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


class GroupMember(Model, table=True):
    """A member's place in a group. The member lives in the members service: no foreign key can reach it."""

    __tablename__ = "group_members"
    __table_args__ = (
        CheckConstraint(_in("role", GroupRole), name="role"),
        CheckConstraint(_in("channel", JoinChannel), name="channel"),
        Index("ix_group_members_member_id", "member_id"),
        Index("ix_group_members_group_id_joined_at_member_id", "group_id", "joined_at", "member_id"),
        {"schema": SCHEMA},
    )

    group_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.groups.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: uuid.UUID = Field(primary_key=True)
    role: str = Field(
        default=GroupRole.MEMBER.value,
        sa_column=Column(String(16), nullable=False, server_default=GroupRole.MEMBER.value),
    )
    channel: str = Field(sa_column=Column(String(32), nullable=False))
    joined_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
