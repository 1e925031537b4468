"""The only SQL of the memberships feature: places in groups, pages of several groups' members at once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, delete, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from community.groups.models import Group, GroupStatus, GroupType
from community.groups.repository import Position
from community.memberships.models import GroupMembership, GroupRole, JoinChannel, JoinQrGroup


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

    async def remove(self, group_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        """Delete the member's place in the group; False when they were not in it."""
        statement = delete(GroupMembership).where(
            col(GroupMembership.group_id) == group_id, col(GroupMembership.member_id) == member_id
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def set_role(self, group_id: uuid.UUID, member_id: uuid.UUID, role: GroupRole) -> GroupMembership | None:
        """Change the member's role in the group; None when they are not in it."""
        statement = (
            update(GroupMembership)
            .where(col(GroupMembership.group_id) == group_id, col(GroupMembership.member_id) == member_id)
            .values(role=role.value)
            .returning(GroupMembership)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def member_ids(self, group_id: uuid.UUID) -> set[uuid.UUID]:
        """Everyone in the group now."""
        statement = select(col(GroupMembership.member_id)).where(col(GroupMembership.group_id) == group_id)
        return set((await self.session.execute(statement)).scalars())

    async def member_ids_not_in(self, group_id: uuid.UUID, other_group_id: uuid.UUID) -> set[uuid.UUID]:
        """Everyone in the group now who is not also in the other group (one SELECT)."""
        other = aliased(GroupMembership)
        statement = select(col(GroupMembership.member_id)).where(
            col(GroupMembership.group_id) == group_id,
            ~select(col(other.member_id))
            .where(col(other.group_id) == other_group_id, col(other.member_id) == col(GroupMembership.member_id))
            .exists(),
        )
        return set((await self.session.execute(statement)).scalars())

    async def member_page(self, group_id: uuid.UUID, *, limit: int, after: uuid.UUID | None) -> list[uuid.UUID]:
        """Up to `limit` of the group's member ids in id order after `after` (for flows working in batches)."""
        statement = (
            select(col(GroupMembership.member_id))
            .where(col(GroupMembership.group_id) == group_id)
            .order_by(col(GroupMembership.member_id))
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(col(GroupMembership.member_id) > after)
        return list((await self.session.execute(statement)).scalars())

    async def in_open_group_of_type(self, member_ids: Sequence[uuid.UUID], group_type: GroupType) -> set[uuid.UUID]:
        """Those of `member_ids` who are in an active group of this type."""
        statement = (
            select(col(GroupMembership.member_id))
            .join(Group, col(Group.id) == col(GroupMembership.group_id))
            .where(
                col(GroupMembership.member_id).in_(member_ids),
                col(Group.type) == group_type.value,
                col(Group.status) == GroupStatus.ACTIVE.value,
            )
        )
        return set((await self.session.execute(statement)).scalars())

    async def count_in_type(self, group_ids: Sequence[uuid.UUID], group_type: GroupType) -> dict[uuid.UUID, int]:
        """For each of these groups, how many of its members are also in an active group of `group_type` (one
        SELECT; groups with none are absent)."""
        other = aliased(GroupMembership)
        statement = (
            select(col(GroupMembership.group_id), func.count(func.distinct(col(GroupMembership.member_id))))
            .join(other, col(other.member_id) == col(GroupMembership.member_id))
            .join(Group, col(Group.id) == col(other.group_id))
            .where(
                col(GroupMembership.group_id).in_(group_ids),
                col(Group.type) == group_type.value,
                col(Group.status) == GroupStatus.ACTIVE.value,
            )
            .group_by(col(GroupMembership.group_id))
        )
        return {group_id: int(n) for group_id, n in (await self.session.execute(statement)).tuples()}

    async def qr_groups(self, code: str) -> list[uuid.UUID]:
        """The groups a join QR code serves, in id order; a closed (dissolved) group no longer holds a place."""
        statement = (
            select(col(JoinQrGroup.group_id))
            .join(Group, col(Group.id) == col(JoinQrGroup.group_id))
            .where(col(JoinQrGroup.code) == code, col(Group.status) != GroupStatus.CLOSED.value)
            .order_by(col(JoinQrGroup.group_id))
        )
        return list((await self.session.execute(statement)).scalars())

    async def add_qr_group(self, code: str, group_id: uuid.UUID) -> None:
        await self.session.execute(insert(JoinQrGroup).values(code=code, group_id=group_id))
