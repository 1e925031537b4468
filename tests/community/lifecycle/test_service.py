"""Basic-group sunset: the month-7 notice offers the warehouse's buffer group to every member; in month 8 only
members who did not take the offer get a move task; running twice for the same day changes nothing."""

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from community.groups.errors import GroupNotActive
from community.groups.models import GroupStatus, GroupType, ScopeKind
from community.groups.rules import add_months
from community.groups.service import groups_by_ids
from community.lifecycle.service import sunset_group
from community.memberships.errors import QrCodeFull
from community.memberships.models import JoinChannel
from community.memberships.service import attach_join_qr, join_group, sync_group_members
from community.tasks.models import OperatorTask, TaskKind
from community.tasks.service import complete_task
from community.uow import CommunityUnitOfWork
from tests.community.factories import SETTINGS, join_member, make_group
from yutang_shared.db import SessionFactory, session_factory

OPENED = date(2026, 1, 5)


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


async def tasks(engine: AsyncEngine) -> list[tuple[str, uuid.UUID | None, uuid.UUID | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(col(OperatorTask.kind), col(OperatorTask.member_id), col(OperatorTask.target_group_id))
        )
        return sorted(rows.tuples(), key=str)


async def sunset(sessions: SessionFactory, group_id: uuid.UUID, as_of: date) -> tuple[int, int, int | None]:
    outcome = await sunset_group(CommunityUnitOfWork(sessions), SETTINGS, group_id=group_id, as_of=as_of)
    return outcome.created, outcome.unchanged, outcome.week


async def test_members_who_took_the_buffer_offer_get_no_move_task(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    # given a basic group of four members opened on OPENED, and its warehouse's buffer group
    buffer = await make_group(
        sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.WAREHOUSE, scope_name="一号仓", chat_id="buf-1"
    )
    basic = await make_group(sessions, warehouse="一号仓", chat_id="basic-1", opened_on=OPENED)
    members = [(await join_member(sessions, basic.id)).membership.member_id for _ in range(4)]

    # when month 7's notice runs, one member joins the buffer group on their own, and month 8's last week runs twice
    notice = await sunset(sessions, basic.id, add_months(OPENED, 7) + timedelta(days=7))
    after_notice = await tasks(engine)
    took_offer = members[0]
    await join_group(
        CommunityUnitOfWork(sessions), group_id=buffer.id, member_id=took_offer, channel=JoinChannel.INVITE_LINK
    )
    last_week = add_months(OPENED, 8) + timedelta(days=21)
    dissolving = await sunset(sessions, basic.id, last_week)
    again = await sunset(sessions, basic.id, last_week)

    # then month 7 made only the notice, offering the buffer group; month 8 moves only the three others, once
    assert notice == (1, 0, None)
    assert after_notice == [(TaskKind.POST_NOTICE.value, None, buffer.id)]
    assert dissolving == (3 + 1, 1, 3)  # three moves and the dissolve task made; the notice was there
    assert again == (0, 5, 3)
    made = await tasks(engine)
    moved = sorted(m for kind, m, _ in made if kind == TaskKind.MOVE_TO_BUFFER.value and m is not None)
    assert moved == sorted(members[1:])
    assert {target for _, _, target in made} == {buffer.id}


async def test_dissolving_leaves_every_member_in_the_buffer_group_once(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    # given a dissolving basic group whose first member already joined the buffer group
    buffer = await make_group(
        sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.WAREHOUSE, scope_name="二号仓", chat_id="buf-2"
    )
    basic = await make_group(sessions, warehouse="二号仓", chat_id="basic-2", opened_on=OPENED)
    members = [(await join_member(sessions, basic.id)).membership.member_id for _ in range(3)]
    await join_group(
        CommunityUnitOfWork(sessions), group_id=buffer.id, member_id=members[0], channel=JoinChannel.INVITE_LINK
    )
    await sunset(sessions, basic.id, add_months(OPENED, 8) + timedelta(days=21))
    async with engine.connect() as connection:
        dissolve_id = (
            await connection.execute(
                select(col(OperatorTask.id)).where(col(OperatorTask.kind) == TaskKind.DISSOLVE_GROUP.value)
            )
        ).scalar_one()

    # when the steward confirms the dissolution
    await complete_task(CommunityUnitOfWork(sessions), task_id=dissolve_id, by="staff-test")

    # then the basic group is empty and closed, and the buffer group holds each member once
    async with CommunityUnitOfWork(sessions) as uow:
        in_buffer = await uow.memberships.member_ids(buffer.id)
    closed, buffer_now = await groups_by_ids(CommunityUnitOfWork(sessions), [basic.id, buffer.id])
    assert in_buffer == set(members)
    assert closed is not None
    assert buffer_now is not None
    assert (closed.status, closed.member_count) == (GroupStatus.CLOSED, 0)
    assert buffer_now.member_count == 3


async def test_a_dissolved_group_frees_its_place_on_a_join_qr(engine: AsyncEngine, sessions: SessionFactory) -> None:
    # given a join QR code serving five groups, one of them a basic group in the last week of month 8
    await make_group(
        sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.WAREHOUSE, scope_name="三号仓", chat_id="buf-3"
    )
    basic = await make_group(sessions, warehouse="三号仓", chat_id="basic-3", opened_on=OPENED)
    others = [await make_group(sessions, scope_name=f"小区{i}") for i in range(5)]
    for group_id in [basic.id, *(g.id for g in others[:4])]:
        await attach_join_qr(CommunityUnitOfWork(sessions), code="qr-sunset", group_id=group_id)
    with pytest.raises(QrCodeFull):
        await attach_join_qr(CommunityUnitOfWork(sessions), code="qr-sunset", group_id=others[4].id)
    await sunset(sessions, basic.id, add_months(OPENED, 8) + timedelta(days=21))
    async with engine.connect() as connection:
        dissolve_id = (
            await connection.execute(
                select(col(OperatorTask.id)).where(col(OperatorTask.kind) == TaskKind.DISSOLVE_GROUP.value)
            )
        ).scalar_one()

    # when the basic group is dissolved
    await complete_task(CommunityUnitOfWork(sessions), task_id=dissolve_id, by="staff-test")

    # then the code has a place for the fifth group, and the dissolved group cannot be attached again
    served = await attach_join_qr(CommunityUnitOfWork(sessions), code="qr-sunset", group_id=others[4].id)
    assert served == sorted(g.id for g in others)
    with pytest.raises(GroupNotActive):
        await attach_join_qr(CommunityUnitOfWork(sessions), code="qr-sunset", group_id=basic.id)


async def test_a_member_who_joins_the_buffer_group_after_their_move_task_needs_no_move(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    # given month 8's move tasks for two members of a basic group
    buffer = await make_group(
        sessions, group_type=GroupType.BUFFER, scope_kind=ScopeKind.WAREHOUSE, scope_name="二号仓", chat_id="buf-2"
    )
    basic = await make_group(sessions, warehouse="二号仓", chat_id="basic-2", opened_on=OPENED)
    late, synced, other = [(await join_member(sessions, basic.id)).membership.member_id for _ in range(3)]
    await sunset(sessions, basic.id, add_months(OPENED, 8) + timedelta(days=21))

    # when one joins the buffer group on their own (the notice's offer, taken late), and WeCom's member list of the
    # buffer group shows another joined through its QR code
    await join_group(CommunityUnitOfWork(sessions), group_id=buffer.id, member_id=late, channel=JoinChannel.INVITE_LINK)
    await sync_group_members(
        CommunityUnitOfWork(sessions), chat_id="buf-2", member_ids=[late, synced], channel=JoinChannel.STORE_QR
    )

    # then their move tasks are done, with why; the third member's is still open
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(col(OperatorTask.member_id), col(OperatorTask.status), col(OperatorTask.outcome)).where(
                col(OperatorTask.kind) == TaskKind.MOVE_TO_BUFFER.value
            )
        )
        moves = {member: (status, outcome) for member, status, outcome in rows.tuples()}
    assert moves[late] == moves[synced] == ("done", "the member joined the buffer group themselves")
    assert moves[other] == ("open", None)
