"""The tasks feature in the community subgraph: OperatorTask, task(id), myTasks, tasks(…), completeTask, skipTask,
expireTasks and their errors."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from functools import partial
from typing import Annotated

import strawberry

from community.context import CommunityInfo
from community.groups.errors import CommunityErrorCode
from community.groups.graphql import ChatIdTakenError, InvalidGroupError
from community.inputs import day, text
from community.memberships.graphql import (
    GroupFullError,
    GroupNotActiveError,
    GroupNotFoundError,
    QrJoinsClosedError,
    UnknownMemberError,
)
from community.scopes import Scope, requires
from community.tasks.errors import TaskClosed, TaskNotFound
from community.tasks.models import TaskKind, TaskStatus
from community.tasks.repository import TaskFilter
from community.tasks.service import complete_task, expire_tasks, skip_task, task_count, task_page, tasks_by_ids
from community.tasks.views import TaskView
from community.uow import CommunityUnitOfWork
from yutang_shared.connections import (
    DEFAULT_PAGE,
    After,
    Connection,
    CursorValue,
    Keyset,
    PageSize,
    page_of,
    page_size,
)
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, Unauthenticated, error_handlers

graphql_enum(
    TaskKind,
    "What a staff member is asked to do by hand in WeCom (which has no API for it).",
    {
        "CREATE_GROUP": "Create the planned group in WeCom and confirm its chat id.",
        "POST_NOTICE": "Post the dissolution notice in a basic group (month 7), offering the buffer group.",
        "INVITE_MEMBER": "Invite a qualified member into a VIP group.",
        "WARN_MEMBER": "Warn a VIP member who no longer qualifies (月度核查).",
        "REMOVE_MEMBER": "Remove a VIP member after the grace period (淘汰), into the buffer group when set.",
        "MOVE_TO_BUFFER": "Move a member of a dissolving basic group into the warehouse's buffer group.",
        "DISSOLVE_GROUP": "Dissolve the basic group in WeCom.",
    },
)
graphql_enum(
    TaskStatus,
    "Where a task is; only an open task can be completed or skipped.",
    {
        "OPEN": "To do.",
        "DONE": "Done; its effect was applied once.",
        "SKIPPED": "Closed without its effect, with a reason.",
        "EXPIRED": "Its moment passed before anyone did it.",
    },
)

TASKS = Keyset("tasks")


@strawberry.type(description="No task has this id.")
class TaskNotFoundError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_TASK_NOT_FOUND.")
    task_id: uuid.UUID = strawberry.field(description="The id that matched no task.")


@strawberry.type(description="The task is already done, skipped or expired: nothing was changed.")
class TaskClosedError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_TASK_CLOSED.")
    status: TaskStatus = strawberry.field(description="The task's status.")


HANDLERS = error_handlers({TaskNotFound: TaskNotFoundError, TaskClosed: TaskClosedError})


@strawberry.type(description="Something a staff member does by hand in WeCom, with its message and deadline.")
class OperatorTask:
    id: uuid.UUID = strawberry.field(description="The task's id.")
    kind: TaskKind = strawberry.field(description="What is to be done.")
    group_id: uuid.UUID = strawberry.field(description="The group it is about.")
    member_id: uuid.UUID | None = strawberry.field(description="The member it is about, if any.")
    target_group_id: uuid.UUID | None = strawberry.field(description="Where the member goes (invite, move).")
    assignee: str | None = strawberry.field(description="Who should do it (the group's steward by default).")
    as_of: date = strawberry.field(description="The day it was made for.")
    due_on: date = strawberry.field(description="When it is due.")
    message: str = strawberry.field(description="What to do or say, from the kind's template (话术模板).")
    status: TaskStatus = strawberry.field(description="Open, done, skipped or expired.")
    outcome: str | None = strawberry.field(description="What happened, as the closer wrote it.")
    closed_by: str | None = strawberry.field(description="Who closed it.")
    created_at: datetime = strawberry.field(description="When it was made.")

    @classmethod
    def of(cls, v: TaskView) -> OperatorTask:
        return cls(
            id=v.id,
            kind=v.kind,
            group_id=v.group_id,
            member_id=v.member_id,
            target_group_id=v.target_group_id,
            assignee=v.assignee,
            as_of=v.as_of,
            due_on=v.due_on,
            message=v.message,
            status=v.status,
            outcome=v.outcome,
            closed_by=v.closed_by,
            created_at=v.created_at,
        )


@strawberry.input(description="Which tasks to list; every field narrows, none means all.")
class TaskFilterInput:
    status: TaskStatus | None = strawberry.field(default=None, description="Only tasks with this status.")
    kind: TaskKind | None = strawberry.field(default=None, description="Only tasks of this kind.")
    group_id: uuid.UUID | None = strawberry.field(default=None, description="Only tasks about this group.")
    member_id: uuid.UUID | None = strawberry.field(default=None, description="Only tasks about this member.")
    assignee: str | None = strawberry.field(default=None, description="Only tasks for this staff member.")


async def _page(
    info: CommunityInfo, where: TaskFilter, first: int, after: CursorValue | None
) -> Connection[OperatorTask]:
    limit = page_size(first)
    rows = await task_page(
        CommunityUnitOfWork(info.context.sessions), where, limit=limit + 1, after=TASKS.position(after)
    )
    return page_of(
        rows,
        limit,
        node=OperatorTask.of,
        cursor=lambda t: TASKS.cursor(t.created_at, t.id),
        counter=partial(task_count, CommunityUnitOfWork(info.context.sessions), where),
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="One task by id, or null (needs groups:read).", permission_classes=[requires(Scope.GROUPS_READ)]
    )
    async def task(
        self, info: CommunityInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The task's id.")]
    ) -> OperatorTask | None:
        (view,) = await tasks_by_ids(CommunityUnitOfWork(info.context.sessions), [id])
        return None if view is None else OperatorTask.of(view)

    @strawberry.field(
        description="The caller's own tasks in creation order, optionally of one status (staff; needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def my_tasks(
        self,
        info: CommunityInfo,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
        status: Annotated[TaskStatus | None, strawberry.argument(description="Only this status.")] = None,
    ) -> Connection[OperatorTask]:
        if info.context.principal is None:
            raise Unauthenticated("sign in to see your tasks")
        return await _page(info, TaskFilter(status=status, assignee=info.context.principal.subject), first, after)

    @strawberry.field(
        description="Tasks in creation order, filtered (managers; needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def tasks(
        self,
        info: CommunityInfo,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
        filter: Annotated[
            TaskFilterInput | None, strawberry.argument(description="Which tasks; all when omitted.")
        ] = None,
    ) -> Connection[OperatorTask]:
        f = filter or TaskFilterInput()
        where = TaskFilter(f.status, f.kind, f.group_id, f.assignee, f.member_id)
        return await _page(info, where, first, after)


@strawberry.type(description="The task is closed; when done, its effect was applied.")
class TaskSuccess:
    task: OperatorTask = strawberry.field(description="The task as it is now.")


@strawberry.type(description="How many open tasks expired.")
class ExpireTasksSuccess:
    expired: int = strawberry.field(description="Tasks expired by this call.")


CompleteTaskPayload = Annotated[
    TaskSuccess
    | TaskNotFoundError
    | TaskClosedError
    | GroupFullError
    | GroupNotActiveError
    | GroupNotFoundError
    | UnknownMemberError
    | ChatIdTakenError
    | InvalidGroupError
    | QrJoinsClosedError,
    strawberry.union("CompleteTaskPayload", description="The outcome of completeTask."),
]
SkipTaskPayload = Annotated[
    TaskSuccess | TaskNotFoundError | TaskClosedError,
    strawberry.union("SkipTaskPayload", description="The outcome of skipTask."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="The task was done in WeCom: apply its effect exactly once (open the group with `chatId`, join "
        "the invited member, move or remove a member, dissolve the group) and close it. A task not open answers "
        "TaskClosedError and changes nothing. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def complete_task(
        self,
        info: CommunityInfo,
        task_id: Annotated[uuid.UUID, strawberry.argument(description="The task.")],
        outcome: Annotated[str | None, strawberry.argument(description="What happened, up to 500 characters.")] = None,
        chat_id: Annotated[
            str | None, strawberry.argument(description="For a create-group task: the new group's WeCom chat id.")
        ] = None,
        on: Annotated[date | None, strawberry.argument(description="When it was done; today when omitted.")] = None,
    ) -> CompleteTaskPayload:
        by = info.context.principal.subject if info.context.principal else "unknown"
        view = await complete_task(
            CommunityUnitOfWork(info.context.sessions),
            task_id=task_id,
            by=by,
            outcome=text(outcome, 500, "outcome"),
            chat_id=chat_id,
            on=None if on is None else day(on, "on"),
        )
        return TaskSuccess(task=OperatorTask.of(view))

    @strawberry.mutation(
        description="Close an open task without its effect, saying why. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def skip_task(
        self,
        info: CommunityInfo,
        task_id: Annotated[uuid.UUID, strawberry.argument(description="The task.")],
        outcome: Annotated[str, strawberry.argument(description="Why it is skipped, up to 500 characters.")],
    ) -> SkipTaskPayload:
        by = info.context.principal.subject if info.context.principal else "unknown"
        view = await skip_task(
            CommunityUnitOfWork(info.context.sessions),
            task_id=task_id,
            by=by,
            outcome=text(outcome, 500, "outcome") or "",
        )
        return TaskSuccess(task=OperatorTask.of(view))

    @strawberry.mutation(
        description="Expire open notices and warnings due before `asOf`. Idempotent. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def expire_tasks(
        self, info: CommunityInfo, as_of: Annotated[date, strawberry.argument(description="The day it is.")]
    ) -> ExpireTasksSuccess:
        return ExpireTasksSuccess(expired=await expire_tasks(CommunityUnitOfWork(info.context.sessions), as_of=as_of))
