"""The only SQL of the tasks feature: tasks added once per key, locked, closed, listed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from community.tasks.models import OperatorTask, TaskKind, TaskStatus
from yutang_shared.ids import uuid7

Position = tuple[datetime, uuid.UUID]
T = TypeVar("T", bound=tuple[Any, ...])


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to add; `key` makes adding it idempotent."""

    key: str
    kind: TaskKind
    group_id: uuid.UUID
    as_of: date
    due_on: date
    message: str
    assignee: str | None = None
    member_id: uuid.UUID | None = None
    target_group_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Which tasks a listing wants; None means any."""

    status: TaskStatus | None = None
    kind: TaskKind | None = None
    group_id: uuid.UUID | None = None
    assignee: str | None = None
    member_id: uuid.UUID | None = None


class TaskRepository:
    """Operator tasks."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, task: NewTask) -> tuple[OperatorTask, bool]:
        """The task with this key: added now (True), or the one already there (False). A second open invitation
        for the same member conflicts too, and then the open one comes back."""
        values = {
            **{f: getattr(task, f) for f in NewTask.__slots__},
            "kind": task.kind.value,
            "id": uuid7(),  # time-ordered: tasks of one transaction list in the order they were made
            "status": TaskStatus.OPEN.value,
        }
        statement = insert(OperatorTask).values(values).on_conflict_do_nothing().returning(OperatorTask)
        added = (await self.session.execute(statement)).scalar_one_or_none()
        if added is not None:
            return added, True
        existing = await self.by_key(task.key)
        if existing is None and task.kind is TaskKind.INVITE_MEMBER and task.member_id is not None:
            existing = await self.open_invite(task.member_id)
        if existing is None:  # pragma: no cover - a conflicting row vanished between the two statements
            raise RuntimeError(f"task {task.key} conflicted but is not there")
        return existing, False

    async def by_key(self, key: str) -> OperatorTask | None:
        return (
            await self.session.execute(select(OperatorTask).where(col(OperatorTask.key) == key))
        ).scalar_one_or_none()

    async def open_invite(self, member_id: uuid.UUID) -> OperatorTask | None:
        """The member's open invitation, if any."""
        statement = select(OperatorTask).where(
            col(OperatorTask.member_id) == member_id,
            col(OperatorTask.kind) == TaskKind.INVITE_MEMBER.value,
            col(OperatorTask.status) == TaskStatus.OPEN.value,
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, task_id: uuid.UUID, *, for_update: bool = False) -> OperatorTask | None:
        statement = select(OperatorTask).where(col(OperatorTask.id) == task_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def close(self, task: OperatorTask, *, status: TaskStatus, outcome: str | None, by: str | None) -> None:
        """Mark the (locked) task done, skipped or expired."""
        task.status, task.outcome, task.closed_by = status.value, outcome, by
        task.closed_at = datetime.now().astimezone()
        self.session.add(task)
        await self.session.flush()

    async def close_open(
        self,
        *,
        kind: TaskKind,
        status: TaskStatus,
        outcome: str,
        group_id: uuid.UUID | None = None,
        target_group_id: uuid.UUID | None = None,
        member_ids: Sequence[uuid.UUID] | None = None,
    ) -> int:
        """Close every open task of this kind for the group or target group given (and these members); how many."""
        statement = update(OperatorTask).where(
            col(OperatorTask.kind) == kind.value, col(OperatorTask.status) == TaskStatus.OPEN.value
        )
        for column, value in ((OperatorTask.group_id, group_id), (OperatorTask.target_group_id, target_group_id)):
            if value is not None:
                statement = statement.where(col(column) == value)
        if member_ids is not None:
            statement = statement.where(col(OperatorTask.member_id).in_(member_ids))
        statement = statement.values(status=status.value, outcome=outcome, closed_at=func.now())
        return (await self.session.execute(statement)).rowcount  # type: ignore[attr-defined, no-any-return]

    async def expire(self, as_of: date) -> int:
        """Expire open tasks due before `as_of`; how many. Creating a group is never expired (it blocks a plan)."""
        statement = (
            update(OperatorTask)
            .where(
                col(OperatorTask.status) == TaskStatus.OPEN.value,
                col(OperatorTask.due_on) < as_of,
                col(OperatorTask.kind).in_([TaskKind.POST_NOTICE.value, TaskKind.WARN_MEMBER.value]),
            )
            .values(status=TaskStatus.EXPIRED.value, outcome="not done by its due date", closed_at=func.now())
        )
        return (await self.session.execute(statement)).rowcount  # type: ignore[attr-defined, no-any-return]

    async def open_moves(self, group_id: uuid.UUID) -> list[OperatorTask]:
        """The group's open move-to-buffer tasks, locked, in id order."""
        statement = (
            select(OperatorTask)
            .where(
                col(OperatorTask.group_id) == group_id,
                col(OperatorTask.kind) == TaskKind.MOVE_TO_BUFFER.value,
                col(OperatorTask.status) == TaskStatus.OPEN.value,
            )
            .order_by(col(OperatorTask.id))
            .with_for_update()
        )
        return list((await self.session.execute(statement)).scalars())

    async def open_invites_to(self, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Open invitations per target group (seats they hold)."""
        statement = (
            select(col(OperatorTask.target_group_id), func.count())
            .where(
                col(OperatorTask.target_group_id).in_(group_ids),
                col(OperatorTask.kind) == TaskKind.INVITE_MEMBER.value,
                col(OperatorTask.status) == TaskStatus.OPEN.value,
            )
            .group_by(col(OperatorTask.target_group_id))
        )
        return {group_id: int(n) for group_id, n in (await self.session.execute(statement)).tuples() if group_id}

    async def page(self, where: TaskFilter, *, limit: int, after: Position | None) -> list[OperatorTask]:
        """Up to `limit` tasks matching `where`, in creation order after `after`."""
        statement = select(OperatorTask).order_by(col(OperatorTask.created_at), col(OperatorTask.id)).limit(limit)
        if after is not None:
            position = tuple_(col(OperatorTask.created_at), col(OperatorTask.id))
            statement = statement.where(position > tuple_(*map(literal, after)))
        return list((await self.session.execute(_matching(statement, where))).scalars())

    async def count(self, where: TaskFilter) -> int:
        """How many tasks match `where`."""
        statement = _matching(select(func.count()).select_from(OperatorTask), where)
        return int((await self.session.execute(statement)).scalar_one())


def _matching(statement: Select[T], where: TaskFilter) -> Select[T]:
    for column, value in (
        (OperatorTask.status, where.status and where.status.value),
        (OperatorTask.kind, where.kind and where.kind.value),
        (OperatorTask.group_id, where.group_id),
        (OperatorTask.assignee, where.assignee),
        (OperatorTask.member_id, where.member_id),
    ):
        if value is not None:
            statement = statement.where(col(column) == value)
    return statement
