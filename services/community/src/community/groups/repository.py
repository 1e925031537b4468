"""The only SQL of the groups feature: numbering within a scope, groups by id, in creation order, counted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, insert, literal, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from community.groups.models import Group, GroupStatus, GroupType, ScopeKind

# First key of the two-key advisory lock that serialises numbering within one scope (any constant unique to it).
_SEQUENCE_LOCK_CLASS = 0x636F6D6D  # "comm"

Position = tuple[datetime, uuid.UUID]
T = TypeVar("T", bound=tuple[Any, ...])


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
        status: GroupStatus = GroupStatus.ACTIVE,
        opened_on: date | None = None,
        warehouse: str | None = None,
        steward: str | None = None,
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
                status=status.value,
                opened_on=opened_on,
                warehouse=warehouse,
                steward=steward,
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

    async def page(
        self, *, limit: int, after: Position | None, group_type: GroupType | None, status: GroupStatus | None = None
    ) -> list[Group]:
        """Up to `limit` groups in creation order after the (created_at, id) position, optionally of one type and
        status."""
        statement = select(Group).order_by(col(Group.created_at), col(Group.id)).limit(limit)
        if after is not None:
            statement = statement.where(tuple_(col(Group.created_at), col(Group.id)) > tuple_(*map(literal, after)))
        return list((await self.session.execute(_filtered(statement, group_type, status))).scalars())

    async def count(self, *, group_type: GroupType | None, status: GroupStatus | None = None) -> int:
        """How many groups there are, optionally of one type and status."""
        statement = _filtered(select(func.count()).select_from(Group), group_type, status)
        return int((await self.session.execute(statement)).scalar_one())

    async def planned(self, group_type: GroupType, scope_kind: ScopeKind, scope_name: str) -> Group | None:
        """The planned group of this (type, scope), if one is waiting to be opened (never more than one)."""
        statement = select(Group).where(
            col(Group.type) == group_type.value,
            col(Group.scope_kind) == scope_kind.value,
            col(Group.scope_name) == scope_name,
            col(Group.status) == GroupStatus.PLANNED.value,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def open_of_scope(
        self, group_type: GroupType, scope_kind: ScopeKind, scope_name: str, *, for_update: bool = False
    ) -> list[Group]:
        """The planned and active groups of a (type, scope) in number order, optionally locked in that order."""
        statement = (
            select(Group)
            .where(
                col(Group.type) == group_type.value,
                col(Group.scope_kind) == scope_kind.value,
                col(Group.scope_name) == scope_name,
                col(Group.status) != GroupStatus.CLOSED.value,
            )
            .order_by(col(Group.sequence))
        )
        if for_update:
            statement = statement.with_for_update()
        return list((await self.session.execute(statement)).scalars())

    async def by_chat_id(self, chat_id: str, *, for_update: bool = False) -> Group | None:
        statement = select(Group).where(col(Group.chat_id) == chat_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def buffer_of(self, warehouse: str) -> Group | None:
        """The warehouse's buffer group (planned or active), if it has one."""
        statement = select(Group).where(
            col(Group.type) == GroupType.BUFFER.value,
            col(Group.scope_name) == warehouse,
            col(Group.status) != GroupStatus.CLOSED.value,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def save(self, group: Group) -> None:
        """Write the (locked) group's changed columns."""
        self.session.add(group)
        await self.session.flush()

    async def count_out(self, group: Group, members: int = 1) -> None:
        """Take members off the group's count and add them to its quits, in SQL (the caller holds its lock)."""
        statement = (
            update(Group)
            .where(col(Group.id) == group.id)
            .values(member_count=col(Group.member_count) - members, quit_total=col(Group.quit_total) + members)
            .returning(col(Group.member_count), col(Group.quit_total))
        )
        count, quits = (await self.session.execute(statement)).one()
        set_committed_value(group, "member_count", count)
        set_committed_value(group, "quit_total", quits)

    async def count_in(self, group: Group, members: int = 1) -> None:
        """Add members to the group's count and its joins in SQL and keep the row in step (the caller holds its
        lock)."""
        statement = (
            update(Group)
            .where(col(Group.id) == group.id)
            .values(member_count=col(Group.member_count) + members, joined_total=col(Group.joined_total) + members)
            .returning(col(Group.member_count), col(Group.joined_total))
        )
        count, joins = (await self.session.execute(statement)).one()
        set_committed_value(group, "member_count", count)
        set_committed_value(group, "joined_total", joins)


def _filtered(statement: Select[T], group_type: GroupType | None, status: GroupStatus | None) -> Select[T]:
    if group_type is not None:
        statement = statement.where(col(Group.type) == group_type.value)
    if status is not None:
        statement = statement.where(col(Group.status) == status.value)
    return statement
