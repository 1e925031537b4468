"""Members tables (schema `members`): the member, with their source channel (客户来源) and status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
# Nicknames are limited in user-perceived characters (registration's rules); a 32-character nickname of emoji
# sequences holds up to 320 code points (the longest RGI emoji is 10), and the column counts code points.
NICKNAME_CODE_POINTS = 400


class SourceChannel(StrEnum):
    """How the member first reached the brand; a dimension of every report. Adding one needs a migration of
    the `source_channel` CHECK constraint (`make drift` reports it missing)."""

    STREET_PROMOTION = "street_promotion"  # 地推
    STORE_QR = "store_qr"  # 门店物料扫码
    DELIVERY_PLATFORM = "delivery_platform"  # 美团 / 京东到家
    LOCAL_LIFE = "local_life"  # 同城
    SHORT_VIDEO_LIVE = "short_video_live"  # 短视频直播
    REFERRAL_CAMPAIGN = "referral_campaign"  # 裂变
    PAY_TO_FOLLOW = "pay_to_follow"  # 支付即关注
    ADS = "ads"  # 广告投放
    OFFICIAL_ACCOUNT_MENU = "official_account_menu"  # 公众号菜单
    FRIEND_INVITE = "friend_invite"
    OTHER = "other"


class MemberStatus(StrEnum):
    """Whether the member can be served."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


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
    nickname: str | None = Field(default=None, sa_column=Column(String(NICKNAME_CODE_POINTS), nullable=True))
    source_channel: str = Field(sa_column=Column(String(32), nullable=False))
    status: str = Field(
        default=MemberStatus.ACTIVE.value,
        sa_column=Column(String(16), nullable=False, server_default=MemberStatus.ACTIVE.value),
    )
    registered_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
