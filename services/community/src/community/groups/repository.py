"""The only SQL of the groups feature: numbering within a scope, groups by id, in creation order, counted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, literal, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from community.groups.models import Group, GroupType, ScopeKind

# First key of the two-key advisory lock that serialises numbering within one scope (any constant unique to it).
_SEQUENCE_LOCK_CLASS = 0x636F6D6D  # "comm"

Position = tuple[datetime, uuid.UUID]


class GroupRepository:
    """Groups by id, in creation order, and the numbering within a scope."""

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

    async def page(self, *, limit: int, after: Position | None, group_type: GroupType | None) -> list[Group]:
        """Up to `limit` groups in creation order after the (created_at, id) position, optionally of one type."""
        statement = select(Group).order_by(col(Group.created_at), col(Group.id)).limit(limit)
        if after is not None:
            statement = statement.where(tuple_(col(Group.created_at), col(Group.id)) > tuple_(*map(literal, after)))
        if group_type is not None:
            statement = statement.where(col(Group.type) == group_type.value)
        return list((await self.session.execute(statement)).scalars())

    async def count(self, *, group_type: GroupType | None) -> int:
        """How many groups there are, optionally of one type."""
        statement = select(func.count()).select_from(Group)
        if group_type is not None:
            statement = statement.where(col(Group.type) == group_type.value)
        return int((await self.session.execute(statement)).scalar_one())

    async def count_in(self, group: Group) -> None:
        """Add one to the group's member count in SQL and keep the row in step (the caller holds its lock)."""
        statement = (
            update(Group)
            .where(col(Group.id) == group.id)
            .values(member_count=col(Group.member_count) + 1)
            .returning(col(Group.member_count))
        )
        set_committed_value(group, "member_count", (await self.session.execute(statement)).scalar_one())
