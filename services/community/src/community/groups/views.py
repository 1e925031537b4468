"""What community use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from community.domain.kinds import GroupRole, GroupType, JoinChannel, ScopeKind
from community.domain.models import Group, GroupMember


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as callers see it."""

    id: uuid.UUID
    name: str
    type: GroupType
    scope_kind: ScopeKind
    scope_name: str
    sequence: int
    capacity: int
    member_count: int
    created_at: datetime

    @classmethod
    def of(cls, row: Group) -> GroupView:
        return cls(
            id=row.id,
            name=row.name,
            type=GroupType(row.type),
            scope_kind=ScopeKind(row.scope_kind),
            scope_name=row.scope_name,
            sequence=row.sequence,
            capacity=row.capacity,
            member_count=row.member_count,
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class MembershipView:
    """One member's place in one group."""

    group_id: uuid.UUID
    member_id: uuid.UUID
    role: GroupRole
    channel: JoinChannel
    joined_at: datetime

    @classmethod
    def of(cls, row: GroupMember) -> MembershipView:
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
class GroupPage:
    """One page of groups in creation order."""

    groups: list[GroupView]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class MembershipPage:
    """One page of a group's memberships in (joined_at, member_id) order."""

    memberships: list[MembershipView]
    has_next_page: bool
