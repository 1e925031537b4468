"""Operator tasks on the real database: completing applies the effect exactly once, refusals change nothing."""

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from community.groups.errors import InvalidGroup
from community.groups.models import GroupStatus, GroupType, ScopeKind
from community.groups.service import groups_by_ids, plan_group
from community.memberships.errors import GroupFull
from community.memberships.models import GroupMembership, JoinChannel
from community.memberships.service import join_group
from community.tasks.errors import TaskClosed, TaskNotFound
from community.tasks.models import TaskKind, TaskStatus
from community.tasks.repository import NewTask, TaskFilter
from community.tasks.service import complete_task, expire_tasks, skip_task, task_page
from community.uow import CommunityUnitOfWork
from tests.community.factories import SETTINGS, count_rows, known_member, make_group
from yutang_shared.db import SessionFactory, session_factory

DAY = date(2026, 12, 1)


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


async def invitation(sessions: SessionFactory, target: uuid.UUID, source: uuid.UUID, member: uuid.UUID) -> uuid.UUID:
    uow = CommunityUnitOfWork(sessions)
    async with uow:
        task, _ = await uow.tasks.add(
            NewTask(
                key=f"invite:{member}",
                kind=TaskKind.INVITE_MEMBER,
                group_id=source,
                member_id=member,
                target_group_id=target,
                as_of=DAY,
                due_on=DAY,
                message="邀请",
                assignee="staff-1",
            )
        )
        await uow.commit()
    return task.id


async def test_completing_an_invitation_joins_once(engine: AsyncEngine, sessions: SessionFactory) -> None:
    basic = await make_group(sessions)
    vip = await make_group(sessions, group_type=GroupType.VIP)
    member = await known_member(sessions)
    task_id = await invitation(sessions, vip.id, basic.id, member)

    outcomes = await asyncio.gather(
        *(complete_task(CommunityUnitOfWork(sessions), task_id=task_id, by="staff-1") for _ in range(5)),
        return_exceptions=True,
    )

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, TaskClosed) for o in outcomes if isinstance(o, BaseException))
    assert await count_rows(engine, GroupMembership) == 1
    (group,) = await groups_by_ids(CommunityUnitOfWork(sessions), [vip.id])
    assert group is not None
    assert group.member_count == 1


async def test_refusals_are_typed_and_change_nothing(engine: AsyncEngine, sessions: SessionFactory) -> None:
    vip = await make_group(sessions, group_type=GroupType.VIP, capacity=1)
    basic = await make_group(sessions)
    first, second = await known_member(sessions), await known_member(sessions)
    await join_group(CommunityUnitOfWork(sessions), group_id=vip.id, member_id=first, channel=JoinChannel.ADS)
    task_id = await invitation(sessions, vip.id, basic.id, second)

    with pytest.raises(TaskNotFound):
        await complete_task(CommunityUnitOfWork(sessions), task_id=uuid.uuid4(), by="staff-1")
    with pytest.raises(GroupFull):
        await complete_task(CommunityUnitOfWork(sessions), task_id=task_id, by="staff-1")
    (still_open,) = await task_page(CommunityUnitOfWork(sessions), TaskFilter(status=TaskStatus.OPEN), limit=10)
    assert still_open.id == task_id
    skipped = await skip_task(CommunityUnitOfWork(sessions), task_id=task_id, by="staff-1", outcome="满员")
    assert (skipped.status, skipped.outcome) == (TaskStatus.SKIPPED, "满员")
    with pytest.raises(TaskClosed):
        await complete_task(CommunityUnitOfWork(sessions), task_id=task_id, by="staff-1")
    assert await count_rows(engine, GroupMembership) == 1


async def test_a_create_group_task_opens_the_planned_group_with_its_chat_id(sessions: SessionFactory) -> None:
    group = await plan_group(
        CommunityUnitOfWork(sessions),
        SETTINGS,
        group_type=GroupType.VIP,
        scope_kind=ScopeKind.STORE,
        scope_name="一号店",
        as_of=DAY,
        steward="staff-9",
    )
    (task,) = await task_page(CommunityUnitOfWork(sessions), TaskFilter(assignee="staff-9"), limit=10)
    assert task.kind is TaskKind.CREATE_GROUP
    assert "001·一号店·BrandX" in task.message
    assert task.due_on > DAY

    with pytest.raises(InvalidGroup):
        await complete_task(CommunityUnitOfWork(sessions), task_id=task.id, by="staff-9")
    done = await complete_task(CommunityUnitOfWork(sessions), task_id=task.id, by="staff-9", chat_id="wr-123")

    (opened,) = await groups_by_ids(CommunityUnitOfWork(sessions), [group.id])
    assert done.status is TaskStatus.DONE
    assert opened is not None
    assert (opened.status, opened.chat_id) == (GroupStatus.ACTIVE, "wr-123")


async def test_overdue_notices_expire(sessions: SessionFactory) -> None:
    group = await make_group(sessions)
    uow = CommunityUnitOfWork(sessions)
    async with uow:
        await uow.tasks.add(
            NewTask(key="notice:x", kind=TaskKind.POST_NOTICE, group_id=group.id, as_of=DAY, due_on=DAY, message="通知")
        )
        await uow.commit()

    assert await expire_tasks(CommunityUnitOfWork(sessions), as_of=DAY) == 0
    assert await expire_tasks(CommunityUnitOfWork(sessions), as_of=date(2026, 12, 2)) == 1
    assert await expire_tasks(CommunityUnitOfWork(sessions), as_of=date(2026, 12, 2)) == 0


async def test_tasks_made_in_one_transaction_list_in_the_order_they_were_made(sessions: SessionFactory) -> None:
    # given 30 tasks written in one transaction, so they share created_at (the transaction's start)
    group = await make_group(sessions)
    uow = CommunityUnitOfWork(sessions)
    made = []
    async with uow:
        for n in range(30):
            kind = TaskKind.CREATE_GROUP if n == 0 else TaskKind.POST_NOTICE
            task, _ = await uow.tasks.add(
                NewTask(key=f"order:{n}", kind=kind, group_id=group.id, as_of=DAY, due_on=DAY, message=f"#{n}")
            )
            made.append(task.id)
        await uow.commit()

    # when they are listed, a page at a time
    first = await task_page(CommunityUnitOfWork(sessions), TaskFilter(group_id=group.id), limit=10)
    rest = await task_page(
        CommunityUnitOfWork(sessions),
        TaskFilter(group_id=group.id),
        limit=100,
        after=(first[-1].created_at, first[-1].id),
    )

    # then in creation order, the create-group task first
    assert len({t.created_at for t in first + rest}) == 1
    assert [t.id for t in first + rest] == made
