"""The only SQL of the memberships feature: places in groups, pages of several groups' members at once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from community.groups.models import Group
from community.groups.repository import Position
from community.memberships.models import GroupMembership, JoinChannel


def _groups_of_members() -> Select[tuple[uuid.UUID, Group]]:
    """(member id, group) for the first `:limit` groups of each member in `:ids`, in joining order; a window
    function numbers each member's rows. Built once: every Member.groups batch runs it."""
    joined_at = col(GroupMembership.joined_at)
    position = func.row_number().over(
        partition_by=col(GroupMembership.member_id), order_by=(joined_at, col(GroupMembership.group_id))
    )
    ranked = (
        select(col(GroupMembership.member_id), col(GroupMembership.group_id), joined_at, position.label("position"))
        .where(col(GroupMembership.member_id).in_(bindparam("ids", expanding=True)))
        .subquery()
    )
    return (
        select(ranked.c.member_id, Group)
        .join(Group, col(Group.id) == ranked.c.group_id)
        .where(ranked.c.position <= bindparam("limit"))
        .order_by(ranked.c.joined_at, col(Group.id))
    )


_GROUPS_OF_MEMBERS = _groups_of_members()


class MembershipRepository:
    """Who is in which group."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, group_id: uuid.UUID, member_id: uuid.UUID) -> GroupMembership | None:
        """The member's place in the group, if they are in it."""
        return await self.session.get(GroupMembership, (group_id, member_id))

    async def add(self, *, group_id: uuid.UUID, member_id: uuid.UUID, channel: JoinChannel) -> GroupMembership:
        """Insert an ordinary membership; the database fills in the role and joined_at."""
        statement = (
            insert(GroupMembership)
            .values(group_id=group_id, member_id=member_id, channel=channel.value)
            .returning(GroupMembership)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def pages(
        self, group_ids: Sequence[uuid.UUID], *, limit: int, after: Position | None
    ) -> list[GroupMembership]:
        """Up to `limit` memberships per group in (joined_at, member_id) order after `after`, for many groups
        in one SELECT (a window function numbers each group's rows)."""
        joined_at, member_id = col(GroupMembership.joined_at), col(GroupMembership.member_id)
        position = func.row_number().over(partition_by=col(GroupMembership.group_id), order_by=(joined_at, member_id))
        inner = select(GroupMembership, position.label("position")).where(col(GroupMembership.group_id).in_(group_ids))
        if after is not None:
            inner = inner.where(tuple_(joined_at, member_id) > tuple_(*map(literal, after)))
        ranked = inner.subquery()
        row = aliased(GroupMembership, ranked)
        statement = (
            select(row)
            .where(ranked.c.position <= limit)
            .order_by(ranked.c.group_id, ranked.c.joined_at, ranked.c.member_id)
        )
        return list((await self.session.execute(statement)).scalars())

    async def groups_of(self, member_ids: Sequence[uuid.UUID], *, limit: int) -> list[tuple[uuid.UUID, Group]]:
        """(member id, group) for the first `limit` groups of each of these members, in joining order (one SELECT;
        a window function numbers each member's rows)."""
        rows = await self.session.execute(_GROUPS_OF_MEMBERS, {"ids": list(member_ids), "limit": limit})
        return [(member_id, group) for member_id, group in rows.tuples()]
