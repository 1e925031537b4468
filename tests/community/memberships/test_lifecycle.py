"""Memberships over a group's life: planning the next group once, WeCom's limits under concurrency, sync of joins
and quits, leaving, roles, and the membership.changed events."""

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from community.directory.errors import UnknownMember
from community.groups.errors import GroupNotActive
from community.groups.models import Group, GroupStatus, GroupType, ScopeKind
from community.groups.service import plan_group
from community.memberships.errors import GroupFull, NotAMember, QrCodeFull, QrJoinsClosed
from community.memberships.models import GroupMembership, GroupRole, JoinChannel
from community.memberships.service import (
    attach_join_qr,
    join_group,
    leave_group,
    set_group_role,
    sync_group_members,
)
from community.uow import CommunityUnitOfWork
from tests.community.factories import SETTINGS, count_rows, known_member, make_group
from yutang_shared.db import SessionFactory, session_factory

SETTINGS_DAY = date(2026, 12, 1)


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


async def join(sessions: SessionFactory, group_id: uuid.UUID, channel: JoinChannel = JoinChannel.ADS) -> object:
    member = await known_member(sessions)
    return await join_group(
        CommunityUnitOfWork(sessions), group_id=group_id, member_id=member, channel=channel, settings=SETTINGS
    )


async def planned(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(col(Group.name), col(Group.sequence)).where(col(Group.status) == GroupStatus.PLANNED.value)
        )
        return [(name, seq) for name, seq in rows.tuples()]


async def outbox(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT data FROM community.outbox WHERE type = 'membership.changed'"))
        return [row[0] for row in rows]


async def test_a_basic_group_that_fills_plans_the_next_one_once_under_concurrency(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    group = await make_group(sessions, capacity=3, chat_id="chat-1")

    outcomes = await asyncio.gather(*(join(sessions, group.id) for _ in range(10)), return_exceptions=True)

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 3
    assert all(isinstance(o, GroupFull) for o in outcomes if isinstance(o, BaseException))
    assert await planned(engine) == [("002·翠湖小区·BrandX", 2)]
    # planning again (by hand, or the next fill) returns the planned group: never two at once
    again = await plan_group(
        CommunityUnitOfWork(sessions),
        SETTINGS,
        group_type=GroupType.BASIC,
        scope_kind=ScopeKind.COMMUNITY,
        scope_name="翠湖小区",
        as_of=group.created_at.date(),
    )
    assert again.sequence == 2
    assert len(await planned(engine)) == 1


async def test_a_planned_group_takes_nobody(sessions: SessionFactory) -> None:
    group = await plan_group(
        CommunityUnitOfWork(sessions),
        SETTINGS,
        group_type=GroupType.VIP,
        scope_kind=ScopeKind.STORE,
        scope_name="一号店",
        as_of=SETTINGS_DAY,
    )

    with pytest.raises(GroupNotActive) as refused:
        await join(sessions, group.id)

    assert refused.value.details["status"] is GroupStatus.PLANNED


async def test_qr_joins_stop_at_200_but_the_invite_link_still_works(sessions: SessionFactory) -> None:
    group = await make_group(sessions, capacity=400, chat_id="chat-qr")
    members = [await known_member(sessions) for _ in range(200)]
    await sync_group_members(
        CommunityUnitOfWork(sessions), chat_id="chat-qr", member_ids=members, channel=JoinChannel.INVITE_LINK
    )

    with pytest.raises(QrJoinsClosed):
        await join(sessions, group.id, JoinChannel.STORE_QR)
    joined = await join(sessions, group.id, JoinChannel.INVITE_LINK)

    assert joined.group.member_count == 201  # type: ignore[attr-defined]


async def test_one_join_qr_serves_at_most_five_groups_under_concurrency(sessions: SessionFactory) -> None:
    groups = [await make_group(sessions, scope_name=f"小区{i}") for i in range(8)]

    outcomes = await asyncio.gather(
        *(attach_join_qr(CommunityUnitOfWork(sessions), code="qr-1", group_id=g.id) for g in groups),
        return_exceptions=True,
    )

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 5
    assert all(isinstance(o, QrCodeFull) for o in outcomes if isinstance(o, BaseException))
    served = next(g for g, o in zip(groups, outcomes, strict=True) if not isinstance(o, BaseException))
    again = await attach_join_qr(CommunityUnitOfWork(sessions), code="qr-1", group_id=served.id)
    assert len(again) == 5  # attaching a group it serves is idempotent


async def test_sync_applies_joins_and_quits_once(engine: AsyncEngine, sessions: SessionFactory) -> None:
    group = await make_group(sessions, chat_id="chat-sync")
    stay, go, new = [await known_member(sessions) for _ in range(3)]
    uow = CommunityUnitOfWork(sessions)
    await sync_group_members(uow, chat_id="chat-sync", member_ids=[stay, go], channel=JoinChannel.INVITE_LINK)

    synced = await sync_group_members(uow, chat_id="chat-sync", member_ids=[stay, new], channel=JoinChannel.ADS)
    again = await sync_group_members(uow, chat_id="chat-sync", member_ids=[new, stay], channel=JoinChannel.ADS)

    assert (synced.joined, synced.left, synced.group.member_count) == (1, 1, 2)
    assert (again.joined, again.left) == (0, 0)
    assert (again.group.joined_total, again.group.quit_total) == (3, 1)
    events = await outbox(engine)
    assert sorted((e["member_id"], e["status"]) for e in events) == sorted(
        [(str(stay), "joined"), (str(go), "joined"), (str(go), "left"), (str(new), "joined")]
    )
    assert {e["group_type"] for e in events} == {"basic"}
    assert {e["group_id"] for e in events} == {str(group.id)}


async def test_sync_with_an_unknown_member_changes_nothing(engine: AsyncEngine, sessions: SessionFactory) -> None:
    await make_group(sessions, chat_id="chat-unknown")
    known = await known_member(sessions)

    with pytest.raises(UnknownMember):
        await sync_group_members(
            CommunityUnitOfWork(sessions),
            chat_id="chat-unknown",
            member_ids=[known, uuid.uuid4()],
            channel=JoinChannel.ADS,
        )

    assert await count_rows(engine, GroupMembership) == 0
    assert await outbox(engine) == []


async def test_sync_past_capacity_is_refused(sessions: SessionFactory) -> None:
    await make_group(sessions, capacity=2, chat_id="chat-small")
    members = [await known_member(sessions) for _ in range(3)]

    with pytest.raises(GroupFull):
        await sync_group_members(
            CommunityUnitOfWork(sessions), chat_id="chat-small", member_ids=members, channel=JoinChannel.ADS
        )


async def test_leaving_and_roles(sessions: SessionFactory) -> None:
    group = await make_group(sessions)
    member = await known_member(sessions)
    await join_group(CommunityUnitOfWork(sessions), group_id=group.id, member_id=member, channel=JoinChannel.ADS)

    role = await set_group_role(
        CommunityUnitOfWork(sessions), group_id=group.id, member_id=member, role=GroupRole.CONTENT_EDITOR
    )
    left = await leave_group(CommunityUnitOfWork(sessions), group_id=group.id, member_id=member)

    assert role.role is GroupRole.CONTENT_EDITOR
    assert (left.member_count, left.quit_total) == (0, 1)
    with pytest.raises(NotAMember):
        await leave_group(CommunityUnitOfWork(sessions), group_id=group.id, member_id=member)
    with pytest.raises(NotAMember):
        await set_group_role(CommunityUnitOfWork(sessions), group_id=group.id, member_id=member, role=GroupRole.ADMIN)
