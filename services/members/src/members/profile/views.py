"""What profile use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row

from members.profile.models import ConsentChannel, ConsentState, Gender, Member, MemberStatus, SourceChannel


@dataclass(frozen=True, slots=True)
class MemberView:
    """A member as callers see it; the mobile stays sealed until a permitted caller reveals it (a closed member
    has none: it was erased)."""

    id: uuid.UUID
    nickname: str | None
    mobile_masked: str | None
    mobile_ciphertext: str | None
    source_channel: SourceChannel
    status: MemberStatus
    registered_at: datetime
    avatar_url: str | None = None
    gender: Gender = Gender.UNKNOWN
    birthday: date | None = None
    city: str | None = None
    occupation: str | None = None
    home_store_code: str | None = None
    registration_store_code: str | None = None
    guide_id: uuid.UUID | None = None
    consent: ConsentState | None = None
    consent_at: datetime | None = None
    consent_channel: ConsentChannel | None = None
    closed_at: datetime | None = None
    wechat_unionid: str | None = None

    @classmethod
    def of(cls, row: Member | Row[Any]) -> MemberView:
        """From the ORM object or a row of the members table (the same attribute names)."""
        return cls(
            id=row.id,
            nickname=row.nickname,
            mobile_masked=row.mobile_masked,
            mobile_ciphertext=row.mobile_ciphertext,
            source_channel=SourceChannel(row.source_channel),
            status=MemberStatus(row.status),
            registered_at=row.registered_at,
            avatar_url=row.avatar_url,
            gender=Gender(row.gender),
            birthday=row.birthday,
            city=row.city,
            occupation=row.occupation,
            home_store_code=row.home_store_code,
            registration_store_code=row.registration_store_code,
            guide_id=row.guide_id,
            consent=None if row.consent is None else ConsentState(row.consent),
            consent_at=row.consent_at,
            consent_channel=None if row.consent_channel is None else ConsentChannel(row.consent_channel),
            closed_at=row.closed_at,
            wechat_unionid=row.wechat_unionid,
        )


@dataclass(frozen=True, slots=True)
class LoginState:
    """Whether a member may log in (identity asks before issuing a member token): only active members may."""

    member_id: uuid.UUID
    status: MemberStatus
    can_log_in: bool


@dataclass(frozen=True, slots=True)
class WechatOpenidView:
    """A member's openid in one WeChat app."""

    app_id: str
    openid: str
