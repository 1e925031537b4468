"""Service tests of opening and reading groups on the real database, including concurrent callers."""

import asyncio
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from community.groups.errors import InvalidGroup
from community.groups.models import Group, GroupType, ScopeKind
from community.groups.service import group_count, group_page, groups_by_ids
from community.uow import CommunityUnitOfWork
from tests.community.factories import count_rows, make_group
from yutang_shared.db import SessionFactory, session_factory


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


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

    assert await count_rows(engine, Group) == 0


async def test_concurrent_creations_in_one_scope_get_distinct_numbers(sessions: SessionFactory) -> None:
    groups = await asyncio.gather(*(make_group(sessions) for _ in range(6)))

    assert sorted(g.sequence for g in groups) == [1, 2, 3, 4, 5, 6]
    assert len({g.name for g in groups}) == 6


async def test_groups_are_read_by_id_in_the_order_asked(sessions: SessionFactory) -> None:
    a = await make_group(sessions)
    b = await make_group(sessions)
    unknown = uuid.uuid4()

    found = await groups_by_ids(CommunityUnitOfWork(sessions), [b.id, unknown, a.id])

    assert found == [b, None, a]


async def test_a_page_of_groups_continues_after_a_position_and_counts_by_type(sessions: SessionFactory) -> None:
    basic = [await make_group(sessions) for _ in range(3)]
    vip = await make_group(sessions, group_type=GroupType.VIP)

    page = await group_page(CommunityUnitOfWork(sessions), limit=2, after=(basic[0].created_at, basic[0].id))
    vips = await group_page(CommunityUnitOfWork(sessions), limit=10, group_type=GroupType.VIP)

    assert page == basic[1:]
    assert vips == [vip]
    assert await group_count(CommunityUnitOfWork(sessions)) == 4
    assert await group_count(CommunityUnitOfWork(sessions), group_type=GroupType.BASIC) == 3


async def test_one_buffer_group_per_warehouse(sessions: SessionFactory) -> None:
    first = await make_group(sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.WAREHOUSE, scope_name="W9")

    with pytest.raises(InvalidGroup, match="already has its buffer group"):
        await make_group(sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.WAREHOUSE, scope_name="W9")
    with pytest.raises(InvalidGroup, match="WAREHOUSE"):
        await make_group(sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.STORE, scope_name="W8")

    assert (first.warehouse, first.sequence) == ("W9", 1)
