"""Members tables (schema `members`): the member with their profile, source channel (客户来源), consent and
status, and their WeChat ids (one unionid; one openid per mini-program or official account)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, DateTime, ForeignKey, Index, String, Uuid, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
# Nicknames are limited in user-perceived characters (registration's rules); a 32-character nickname of emoji
# sequences holds up to 320 code points (the longest RGI emoji is 10), and the column counts code points.
NICKNAME_CODE_POINTS = 400
AVATAR_URL_LENGTH = 512
TEXT_LENGTH = 64


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


class Gender(StrEnum):
    """The member's gender as they gave it."""

    UNKNOWN = "unknown"
    FEMALE = "female"
    MALE = "male"


class ConsentState(StrEnum):
    """Whether the member agreed to marketing messages."""

    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class ConsentChannel(StrEnum):
    """Where marketing consent was given or withdrawn."""

    MINI_PROGRAM = "mini_program"
    H5 = "h5"
    OFFICIAL_ACCOUNT = "official_account"
    STORE = "store"
    PHONE = "phone"
    PARTNER = "partner"
    OTHER = "other"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Member(Model, table=True):
    """A registered member. The mobile is stored encrypted, fingerprinted for lookup and masked for display."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(_in("source_channel", SourceChannel), name="source_channel"),
        CheckConstraint(_in("status", MemberStatus), name="status"),
        CheckConstraint(_in("gender", Gender), name="gender"),
        CheckConstraint(_in("consent", ConsentState), name="consent"),
        CheckConstraint(_in("consent_channel", ConsentChannel), name="consent_channel"),
        CheckConstraint("birthday >= DATE '1900-01-01'", name="birthday"),
        # Only an erased (closed) member has no mobile.
        CheckConstraint("status = 'closed' OR mobile_fingerprint IS NOT NULL", name="mobile_unless_closed"),
        Index("ix_members_registered_at_id", "registered_at", "id"),
        Index("ix_members_home_store_code", "home_store_code"),
        Index("ix_members_guide_id", "guide_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Null once the member is closed (erased): the mobile may then register again as a new member.
    mobile_fingerprint: str | None = Field(sa_column=Column(String(64), nullable=True, unique=True))
    mobile_ciphertext: str | None = Field(sa_column=Column(String(256), nullable=True))
    mobile_masked: str | None = Field(sa_column=Column(String(11), nullable=True))
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
    wechat_unionid: str | None = Field(default=None, sa_column=Column(String(64), nullable=True, unique=True))
    avatar_url: str | None = Field(default=None, sa_column=Column(String(AVATAR_URL_LENGTH), nullable=True))
    gender: str = Field(
        default=Gender.UNKNOWN.value, sa_column=Column(String(16), nullable=False, server_default=Gender.UNKNOWN.value)
    )
    birthday: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    city: str | None = Field(default=None, sa_column=Column(String(TEXT_LENGTH), nullable=True))
    occupation: str | None = Field(default=None, sa_column=Column(String(TEXT_LENGTH), nullable=True))
    home_store_code: str | None = Field(
        default=None, sa_column=Column(String(32), ForeignKey(f"{SCHEMA}.stores.code"), nullable=True)
    )
    registration_store_code: str | None = Field(
        default=None, sa_column=Column(String(32), ForeignKey(f"{SCHEMA}.stores.code"), nullable=True)
    )
    guide_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.staff.id"), nullable=True)
    )
    consent: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    consent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    consent_channel: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class MemberWechatId(Model, table=True):
    """A member's openid in one WeChat app (mini-program or official account): unique per app."""

    __tablename__ = "member_wechat_ids"
    __table_args__ = (Index("ix_member_wechat_ids_member_id", "member_id"), {"schema": SCHEMA})

    app_id: str = Field(sa_column=Column(String(64), primary_key=True))
    openid: str = Field(sa_column=Column(String(128), primary_key=True))
    member_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id", ondelete="CASCADE"), nullable=False)
    )
