"""The only place in the community service that writes SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, literal, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from community.domain.kinds import GroupType, JoinChannel, ScopeKind
from community.domain.models import Group, GroupMember

# First key of the two-key advisory lock that serialises numbering within one scope (any constant unique to it).
_SEQUENCE_LOCK_CLASS = 0x636F6D6D  # "comm"

Position = tuple[datetime, uuid.UUID]


class GroupRepository:
    """Groups by id, by member, in creation order, and the numbering within a scope."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_scope(self, group_type: GroupType, scope_kind: ScopeKind, scope_name: str) -> None:
        """Serialise numbering of one (type, scope) until the transaction ends; other scopes are not blocked."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:scope))"),
            {"lock_class": _SEQUENCE_LOCK_CLASS, "scope": f"{group_type.value}|{scope_kind.value}|{scope_name}"},
        )

    async def next_sequence(self, group_type: GroupType, scope_kind: ScopeKind, scope_name: str) -> int:
        """One more than the highest number used in this (type, scope), 1 for the first group."""
        statement = select(func.coalesce(func.max(Group.sequence), 0) + 1).where(
            col(Group.type) == group_type.value,
            col(Group.scope_kind) == scope_kind.value,
            col(Group.scope_name) == scope_name,
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def add(
        self,
        *,
        name: str,
        group_type: GroupType,
        scope_kind: ScopeKind,
        scope_name: str,
        sequence: int,
        capacity: int,
    ) -> Group:
        """Insert a group with no members; the database fills in created_at."""
        statement = (
            insert(Group)
            .values(
                id=uuid.uuid4(),
                name=name,
                type=group_type.value,
                scope_kind=scope_kind.value,
                scope_name=scope_name,
                sequence=sequence,
                capacity=capacity,
                member_count=0,
            )
            .returning(Group)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def get(self, group_id: uuid.UUID, *, for_update: bool = False) -> Group | None:
        """The group, optionally locked (SELECT … FOR UPDATE) until the transaction ends."""
        statement = select(Group).where(col(Group.id) == group_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Group]:
        """The groups among `ids` that exist, in no particular order (one SELECT)."""
        statement = select(Group).where(col(Group.id).in_(ids))
        return list((await self.session.execute(statement)).scalars())

    async def by_member_ids(self, member_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, Group]]:
        """(member id, group) for every group of these members, in joining order (one SELECT)."""
        statement = (
            select(col(GroupMember.member_id), Group)
            .join(Group, col(Group.id) == col(GroupMember.group_id))
            .where(col(GroupMember.member_id).in_(member_ids))
            .order_by(col(GroupMember.joined_at), col(Group.id))
        )
        return [(member_id, group) for member_id, group in (await self.session.execute(statement)).tuples()]

    async def page(self, *, limit: int, after: Position | None, group_type: GroupType | None) -> list[Group]:
        """Up to `limit` groups in creation order after the (created_at, id) position, optionally of one type."""
        statement = select(Group).order_by(col(Group.created_at), col(Group.id)).limit(limit)
        if after is not None:
            statement = statement.where(tuple_(col(Group.created_at), col(Group.id)) > tuple_(*map(literal, after)))
        if group_type is not None:
            statement = statement.where(col(Group.type) == group_type.value)
        return list((await self.session.execute(statement)).scalars())

    async def count_in(self, group: Group) -> None:
        """Add one to the group's member count in SQL and keep the row in step (the caller holds its lock)."""
        statement = (
            update(Group)
            .where(col(Group.id) == group.id)
            .values(member_count=col(Group.member_count) + 1)
            .returning(col(Group.member_count))
        )
        set_committed_value(group, "member_count", (await self.session.execute(statement)).scalar_one())


class GroupMemberRepository:
    """Who is in which group."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, group_id: uuid.UUID, member_id: uuid.UUID) -> GroupMember | None:
        """The member's place in the group, if they are in it."""
        return await self.session.get(GroupMember, (group_id, member_id))

    async def add(self, *, group_id: uuid.UUID, member_id: uuid.UUID, channel: JoinChannel) -> GroupMember:
        """Insert an ordinary membership; the database fills in the role and joined_at."""
        statement = (
            insert(GroupMember)
            .values(group_id=group_id, member_id=member_id, channel=channel.value)
            .returning(GroupMember)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def pages(self, group_ids: Sequence[uuid.UUID], *, limit: int, after: Position | None) -> list[GroupMember]:
        """Up to `limit` memberships per group in (joined_at, member_id) order after `after`, for many groups
        in one SELECT (a window function numbers each group's rows)."""
        joined_at, member_id = col(GroupMember.joined_at), col(GroupMember.member_id)
        position = func.row_number().over(partition_by=col(GroupMember.group_id), order_by=(joined_at, member_id))
        inner = select(GroupMember, position.label("position")).where(col(GroupMember.group_id).in_(group_ids))
        if after is not None:
            inner = inner.where(tuple_(joined_at, member_id) > tuple_(*map(literal, after)))
        ranked = inner.subquery()
        row = aliased(GroupMember, ranked)
        statement = (
            select(row)
            .where(ranked.c.position <= limit)
            .order_by(ranked.c.group_id, ranked.c.joined_at, ranked.c.member_id)
        )
        return list((await self.session.execute(statement)).scalars())
