"""What profile use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from members.profile.models import Member, MemberStatus, SourceChannel


@dataclass(frozen=True, slots=True)
class MemberView:
    """A member as callers see it; the mobile stays sealed until a permitted caller reveals it."""

    id: uuid.UUID
    nickname: str | None
    mobile_masked: str
    mobile_ciphertext: str
    source_channel: SourceChannel
    status: MemberStatus
    registered_at: datetime

    @classmethod
    def of(cls, row: Member) -> MemberView:
        return cls(
            id=row.id,
            nickname=row.nickname,
            mobile_masked=row.mobile_masked,
            mobile_ciphertext=row.mobile_ciphertext,
            source_channel=SourceChannel(row.source_channel),
            status=MemberStatus(row.status),
            registered_at=row.registered_at,
        )
