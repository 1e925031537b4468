"""Service tests of creating and joining groups on the real database, including concurrent callers."""

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from community.config import CommunitySettings
from community.domain.errors import GroupFull, GroupNotFound, InvalidGroup
from community.domain.kinds import GroupRole, GroupType, JoinChannel, ScopeKind
from community.domain.models import Group, GroupMember
from community.services.groups import create_group
from community.services.membership import join_group
from community.services.queries import membership_pages
from community.services.views import GroupView
from community.uow import CommunityUnitOfWork
from yutang_shared.db import SessionFactory, session_factory

SETTINGS = CommunitySettings(database_url="postgresql+asyncpg://unused", brand_name="BrandX")


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


async def make_group(sessions: SessionFactory, **overrides: object) -> GroupView:
    values: dict[str, object] = {
        "group_type": GroupType.BASIC,
        "scope_kind": ScopeKind.COMMUNITY,
        "scope_name": "翠湖小区",
        **overrides,
    }
    return await create_group(CommunityUnitOfWork(sessions), SETTINGS, **values)  # type: ignore[arg-type]


async def join(sessions: SessionFactory, group_id: uuid.UUID, member_id: uuid.UUID | None = None) -> object:
    return await join_group(
        CommunityUnitOfWork(sessions),
        group_id=group_id,
        member_id=member_id or uuid.uuid4(),
        channel=JoinChannel.STORE_QR,
    )


async def _count(engine: AsyncEngine, table: type[Group] | type[GroupMember]) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_groups_are_numbered_and_named_per_scope(sessions: SessionFactory) -> None:
    first = await make_group(sessions)
    second = await make_group(sessions, scope_name=" 翠湖小区 ")
    other_scope = await make_group(sessions, scope_name="望京")
    vip = await make_group(sessions, group_type=GroupType.VIP)

    assert (first.sequence, first.name, first.capacity) == (1, "001·翠湖小区·BrandX", 400)
    assert (second.sequence, second.name) == (2, "002·翠湖小区·BrandX")
    assert (other_scope.sequence, other_scope.name) == (1, "001·望京·BrandX")
    assert (vip.sequence, vip.capacity) == (1, 200)
    assert first.member_count == 0
    assert first.created_at is not None


async def test_an_explicit_name_and_capacity_are_kept(sessions: SessionFactory) -> None:
    group = await make_group(
        sessions,
        group_type=GroupType.BUFFER,
        scope_kind=ScopeKind.WAREHOUSE,
        scope_name="北仓",
        name="北仓缓冲群",
        capacity=300,
    )

    assert (group.name, group.capacity, group.sequence) == ("北仓缓冲群", 300, 1)


@pytest.mark.parametrize(
    "overrides", [{"capacity": 0}, {"capacity": 501}, {"scope_name": " "}, {"name": ""}, {"name": "x" * 65}]
)
async def test_an_invalid_group_writes_nothing(
    engine: AsyncEngine, sessions: SessionFactory, overrides: dict[str, object]
) -> None:
    with pytest.raises(InvalidGroup):
        await make_group(sessions, **overrides)

    assert await _count(engine, Group) == 0


async def test_concurrent_creations_in_one_scope_get_distinct_numbers(sessions: SessionFactory) -> None:
    groups = await asyncio.gather(*(make_group(sessions) for _ in range(6)))

    assert sorted(g.sequence for g in groups) == [1, 2, 3, 4, 5, 6]
    assert len({g.name for g in groups}) == 6


async def test_joining_counts_the_member_in(sessions: SessionFactory) -> None:
    group = await make_group(sessions)
    member_id = uuid.uuid4()

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
    member_id = uuid.uuid4()
    first = await join_group(
        CommunityUnitOfWork(sessions), group_id=group.id, member_id=member_id, channel=JoinChannel.ADS
    )

    again = await join_group(
        CommunityUnitOfWork(sessions), group_id=group.id, member_id=member_id, channel=JoinChannel.STORE_QR
    )

    assert again.already_member
    assert again.membership == first.membership
    assert again.group.member_count == 1
    assert await _count(engine, GroupMember) == 1


async def test_a_full_group_refuses_and_an_unknown_group_is_reported(sessions: SessionFactory) -> None:
    group = await make_group(sessions, capacity=1)
    await join(sessions, group.id)

    with pytest.raises(GroupFull) as full:
        await join(sessions, group.id)
    with pytest.raises(GroupNotFound):
        await join(sessions, uuid.uuid4())

    assert full.value.details == {"capacity": 1}


async def test_concurrent_joins_never_overfill_a_group(engine: AsyncEngine, sessions: SessionFactory) -> None:
    group = await make_group(sessions, capacity=5)

    outcomes = await asyncio.gather(*(join(sessions, group.id) for _ in range(12)), return_exceptions=True)

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 5
    assert all(isinstance(o, GroupFull) for o in outcomes if isinstance(o, BaseException))
    assert await _count(engine, GroupMember) == 5
    async with engine.connect() as connection:
        count = (
            await connection.execute(select(col(Group.member_count)).where(col(Group.id) == group.id))
        ).scalar_one()
    assert count == 5


async def test_member_pages_of_several_groups_come_from_one_query(sessions: SessionFactory) -> None:
    a = await make_group(sessions)
    b = await make_group(sessions)
    for _ in range(3):
        await join(sessions, a.id)
    await join(sessions, b.id)

    pages = await membership_pages(CommunityUnitOfWork(sessions), [a.id, b.id, uuid.uuid4()], limit=2)

    assert [len(p.memberships) for p in pages.values()] == [2, 1, 0]
    assert [p.has_next_page for p in pages.values()] == [True, False, False]
