"""What members use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from members.domain.channels import MemberStatus, SourceChannel
from members.domain.models import Member


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


@dataclass(frozen=True, slots=True)
class Registration:
    """The outcome of registering: the member, and whether this call created them."""

    member: MemberView
    created: bool


@dataclass(frozen=True, slots=True)
class MemberPage:
    """One page of members in registration order."""

    members: list[MemberView]
    has_next_page: bool
