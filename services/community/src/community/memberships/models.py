"""Membership table (schema `community`) and its vocabularies: a member's role in a group and how they came in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, String, Uuid, func
from sqlmodel import Field

from community.groups.models import SCHEMA, one_of
from yutang_shared.db import Model


class GroupRole(StrEnum):
    """A person's role inside one group."""

    OWNER = "owner"  # 群主 (staff)
    OPINION_LEADER = "opinion_leader"  # 意见领袖 (a member)
    ADMIN = "admin"  # 管理员
    STEWARD = "steward"  # 小管家: the staff member measured on the group's orders
    CONTENT_EDITOR = "content_editor"  # activities and posts
    MEMBER = "member"


class JoinChannel(StrEnum):
    """How a member came into a group; channels differ in speed and member quality."""

    STREET_PROMOTION = "street_promotion"  # 地推
    STORE_QR = "store_qr"  # 门店扫码
    DM_FLYER_QR = "dm_flyer_qr"  # DM 单页扫码
    FRIEND_INVITE = "friend_invite"
    ACTIVITY_PAGE = "activity_page"
    ADS = "ads"
    OFFICIAL_ACCOUNT_MENU = "official_account_menu"  # 公众号菜单
    INVITE_LINK = "invite_link"  # 邀请链接: after QR joins stop at 200
    STAFF_INVITE = "staff_invite"  # pulled in by a staff member (an invitation task)
    GROUP_TRANSFER = "group_transfer"  # moved from another group (e.g. a dissolving basic group to its buffer group)


QR_CHANNELS = frozenset({JoinChannel.STORE_QR, JoinChannel.DM_FLYER_QR})
"""Channels that join by scanning a group's QR code, which WeCom stops honouring at 200 members."""


class GroupMembership(Model, table=True):
    """A member's place in a group. The member lives in the members service: no foreign key can reach it."""

    __tablename__ = "group_members"
    __table_args__ = (
        CheckConstraint(one_of("role", GroupRole), name="role"),
        CheckConstraint(one_of("channel", JoinChannel), name="channel"),
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


class JoinQrGroup(Model, table=True):
    """A join QR code (活码) and one of the groups it serves; WeCom lets one code serve at most 5 groups."""

    __tablename__ = "join_qr_groups"
    __table_args__ = ({"schema": SCHEMA},)

    code: str = Field(sa_column=Column(String(64), primary_key=True))
    group_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.groups.id", ondelete="CASCADE"), primary_key=True)
    )
