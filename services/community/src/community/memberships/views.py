"""What memberships use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from community.groups.views import GroupView
from community.memberships.models import GroupMembership, GroupRole, JoinChannel


@dataclass(frozen=True, slots=True)
class MembershipView:
    """One member's place in one group."""

    group_id: uuid.UUID
    member_id: uuid.UUID
    role: GroupRole
    channel: JoinChannel
    joined_at: datetime

    @classmethod
    def of(cls, row: GroupMembership) -> MembershipView:
        return cls(
            group_id=row.group_id,
            member_id=row.member_id,
            role=GroupRole(row.role),
            channel=JoinChannel(row.channel),
            joined_at=row.joined_at,
        )


@dataclass(frozen=True, slots=True)
class Joining:
    """The outcome of joining: the group as it is now, the membership, and whether it existed before."""

    group: GroupView
    membership: MembershipView
    already_member: bool


@dataclass(frozen=True, slots=True)
class Synced:
    """The outcome of a sync: the group as it is now, how many joined and how many left."""

    group: GroupView
    joined: int
    left: int
