"""Service tests of joining groups on the real database, including concurrent callers, and of reading pages."""

import asyncio
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from community.groups.models import Group
from community.memberships.errors import GroupFull, GroupNotFound
from community.memberships.models import GroupMembership, GroupRole, JoinChannel
from community.memberships.service import groups_by_member_ids, join_group, membership_pages
from community.uow import CommunityUnitOfWork
from tests.community.factories import count_rows, join_member, known_member, make_group
from yutang_shared.db import SessionFactory, session_factory


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


async def test_joining_counts_the_member_in(sessions: SessionFactory) -> None:
    group = await make_group(sessions)
    member_id = await known_member(sessions)

    joined = await join_group(
        CommunityUnitOfWork(sessions), group_id=group.id, member_id=member_id, channel=JoinChannel.DM_FLYER_QR
    )

    assert not joined.already_member
    assert joined.group.member_count == 1
    assert joined.membership.member_id == member_id
    assert joined.membership.role is GroupRole.MEMBER
    assert joined.membership.channel is JoinChannel.DM_FLYER_QR


async def test_joining_twice_changes_nothing(engine: AsyncEngine, sessions: SessionFactory) -> None:
    group = await make_group(sessions, capacity=1)
    member_id = await known_member(sessions)
    first = await join_group(
        CommunityUnitOfWork(sessions), group_id=group.id, member_id=member_id, channel=JoinChannel.ADS
    )

    again = await join_group(
        CommunityUnitOfWork(sessions), group_id=group.id, member_id=member_id, channel=JoinChannel.STORE_QR
    )

    assert again.already_member
    assert again.membership == first.membership
    assert again.group.member_count == 1
    assert await count_rows(engine, GroupMembership) == 1


async def test_a_full_group_refuses_and_an_unknown_group_is_reported(sessions: SessionFactory) -> None:
    group = await make_group(sessions, capacity=1)
    await join_member(sessions, group.id)

    with pytest.raises(GroupFull) as full:
        await join_member(sessions, group.id)
    with pytest.raises(GroupNotFound):
        await join_member(sessions, uuid.uuid4())

    assert full.value.details == {"capacity": 1}


async def test_concurrent_joins_never_overfill_a_group(engine: AsyncEngine, sessions: SessionFactory) -> None:
    group = await make_group(sessions, capacity=5)

    outcomes = await asyncio.gather(*(join_member(sessions, group.id) for _ in range(12)), return_exceptions=True)

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 5
    assert all(isinstance(o, GroupFull) for o in outcomes if isinstance(o, BaseException))
    assert await count_rows(engine, GroupMembership) == 5
    async with engine.connect() as connection:
        count = (
            await connection.execute(select(col(Group.member_count)).where(col(Group.id) == group.id))
        ).scalar_one()
    assert count == 5


async def test_member_pages_of_several_groups_come_from_one_query(sessions: SessionFactory) -> None:
    a = await make_group(sessions)
    b = await make_group(sessions)
    for _ in range(3):
        await join_member(sessions, a.id)
    await join_member(sessions, b.id)

    # Callers ask for one row more than a page: the extra row only says another page follows.
    pages = await membership_pages(CommunityUnitOfWork(sessions), [a.id, b.id, uuid.uuid4()], limit=2 + 1)

    assert [len(rows[:2]) for rows in pages.values()] == [2, 1, 0]
    assert [len(rows) > 2 for rows in pages.values()] == [True, False, False]


async def test_a_members_groups_come_in_joining_order_up_to_the_limit(sessions: SessionFactory) -> None:
    a = await make_group(sessions)
    b = await make_group(sessions)
    member_id, loner = await known_member(sessions), uuid.uuid4()
    await join_member(sessions, a.id, member_id)
    await join_member(sessions, b.id, member_id)

    every = await groups_by_member_ids(CommunityUnitOfWork(sessions), [member_id, loner], limit=10)
    capped = await groups_by_member_ids(CommunityUnitOfWork(sessions), [member_id], limit=1)

    assert [[g.id for g in groups] for groups in every] == [[a.id, b.id], []]
    assert [[g.id for g in groups] for groups in capped] == [[a.id]]
