"""Operator task use cases: completing a task applies its effect exactly once (the task row is locked and must be
open), skipping closes it without effect, listings for staff (their own) and managers (filtered)."""

from __future__ import annotations

import logging
import uuid
from datetime import date

from community.directory.service import require_active
from community.groups.errors import InvalidGroup
from community.groups.models import Group, GroupStatus
from community.groups.rules import clean_chat_id
from community.groups.service import activate_in
from community.memberships.errors import GroupNotFound
from community.memberships.models import JoinChannel
from community.memberships.service import add_members, locked_active_group, remove_members
from community.tasks.errors import TaskClosed, TaskNotFound
from community.tasks.models import OperatorTask, TaskKind, TaskStatus
from community.tasks.repository import Position, TaskFilter
from community.tasks.views import TaskView
from community.uow import CommunityUnitOfWork

log = logging.getLogger(__name__)


async def complete_task(
    uow: CommunityUnitOfWork,
    *,
    task_id: uuid.UUID,
    by: str,
    outcome: str | None = None,
    chat_id: str | None = None,
    on: date | None = None,
) -> TaskView:
    """A staff member did the task in WeCom: apply its effect (open the group, join the invited member, move or
    remove a member, dissolve the group) and close it as done, once: the task row is locked, and a task that is
    not open answers TaskClosed. Creating a group needs its `chat_id`. Raises TaskNotFound, TaskClosed and the
    effect's own errors (GroupFull, GroupNotActive, UnknownMember, ChatIdTaken, InvalidGroup), writing nothing."""
    async with uow:
        task = await _open_task(uow, task_id)
        await _apply(uow, task, chat_id=chat_id, on=on or date.today())
        await uow.tasks.close(task, status=TaskStatus.DONE, outcome=outcome, by=by)
        view = TaskView.of(task)
        await uow.commit()
    log.info("task done", extra={"task_id": str(task_id), "kind": view.kind.value})
    return view


async def skip_task(uow: CommunityUnitOfWork, *, task_id: uuid.UUID, by: str, outcome: str) -> TaskView:
    """Close an open task without its effect (e.g. the member declined), saying why. Raises TaskNotFound or
    TaskClosed."""
    async with uow:
        task = await _open_task(uow, task_id)
        await uow.tasks.close(task, status=TaskStatus.SKIPPED, outcome=outcome, by=by)
        view = TaskView.of(task)
        await uow.commit()
    return view


async def expire_tasks(uow: CommunityUnitOfWork, *, as_of: date) -> int:
    """Expire open notices and warnings due before `as_of` (their moment has passed); how many."""
    async with uow:
        expired = await uow.tasks.expire(as_of)
        await uow.commit()
    return expired


async def task_page(
    uow: CommunityUnitOfWork, where: TaskFilter, *, limit: int, after: Position | None = None
) -> list[TaskView]:
    """Up to `limit` tasks matching `where`, in creation order."""
    async with uow:
        return [TaskView.of(row) for row in await uow.tasks.page(where, limit=limit, after=after)]


async def task_count(uow: CommunityUnitOfWork, where: TaskFilter) -> int:
    """How many tasks match `where`."""
    async with uow:
        return await uow.tasks.count(where)


async def tasks_by_ids(uow: CommunityUnitOfWork, ids: list[uuid.UUID]) -> list[TaskView | None]:
    async with uow:
        found = {}
        for task_id in ids:
            row = await uow.tasks.get(task_id)
            if row is not None:
                found[task_id] = TaskView.of(row)
    return [found.get(i) for i in ids]


async def _open_task(uow: CommunityUnitOfWork, task_id: uuid.UUID) -> OperatorTask:
    task = await uow.tasks.get(task_id, for_update=True)
    if task is None:
        raise TaskNotFound("no task has this id", task_id=task_id)
    if task.status != TaskStatus.OPEN.value:
        raise TaskClosed(f"the task is already {task.status}", status=TaskStatus(task.status))
    return task


async def _apply(uow: CommunityUnitOfWork, task: OperatorTask, *, chat_id: str | None, on: date) -> None:
    kind = TaskKind(task.kind)
    if kind is TaskKind.CREATE_GROUP:
        if chat_id is None:
            raise InvalidGroup("completing a create-group task needs the group's WeCom chat id")
        group = await _locked(uow, task.group_id)
        await activate_in(uow, group, chat_id=clean_chat_id(chat_id), opened_on=on)
    elif kind is TaskKind.INVITE_MEMBER:
        await _join(uow, task.target_group_id, task.member_id, JoinChannel.STAFF_INVITE)
    elif kind in (TaskKind.REMOVE_MEMBER, TaskKind.MOVE_TO_BUFFER):
        await _move(uow, task)
        if kind is TaskKind.REMOVE_MEMBER and task.member_id is not None:
            await uow.vip.clear_warning(task.group_id, task.member_id)
    elif kind is TaskKind.DISSOLVE_GROUP:
        await _dissolve(uow, task, on)


async def _locked(uow: CommunityUnitOfWork, group_id: uuid.UUID | None) -> Group:
    group = None if group_id is None else await uow.groups.get(group_id, for_update=True)
    if group is None:
        raise GroupNotFound("no group has this id", group_id=group_id)
    return group


async def _join(
    uow: CommunityUnitOfWork, group_id: uuid.UUID | None, member_id: uuid.UUID | None, channel: JoinChannel
) -> None:
    if group_id is None or member_id is None:
        return
    group = await locked_active_group(uow, group_id)
    await require_active(uow, member_id)
    if await uow.memberships.get(group_id, member_id) is None:
        await add_members(uow, group, [member_id], channel)


async def _move(uow: CommunityUnitOfWork, task: OperatorTask) -> None:
    """Out of the task's group (if still in it), then into its target group, if it has one."""
    if task.member_id is None:
        return
    await remove_members(uow, await _locked(uow, task.group_id), [task.member_id])
    await _join(uow, task.target_group_id, task.member_id, JoinChannel.GROUP_TRANSFER)


async def _dissolve(uow: CommunityUnitOfWork, task: OperatorTask, on: date) -> None:
    """Moves still open for the group are applied (done with the dissolution), everyone left goes, and the group
    is closed."""
    for move in await uow.tasks.open_moves(task.group_id):
        await _move(uow, move)
        await uow.tasks.close(move, status=TaskStatus.DONE, outcome="applied with the dissolution", by=None)
    group = await _locked(uow, task.group_id)
    await remove_members(uow, group, sorted(await uow.memberships.member_ids(group.id)))
    group.status, group.closed_on = GroupStatus.CLOSED.value, on
    await uow.groups.save(group)
