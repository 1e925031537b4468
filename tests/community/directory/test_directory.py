"""Community's member directory: kept from members' events; joinGroup refuses members it does not hold as
active (never registered, not yet heard of, or closed) and writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from community.directory.errors import UnknownMember
from community.directory.service import on_member_closed, on_member_registered
from community.memberships.models import GroupMembership, JoinChannel
from community.memberships.service import join_group
from community.uow import CommunityUnitOfWork
from tests.community.factories import count_rows, create, join, known, make_group
from tests.support import SubgraphClient, Tokens
from yutang_shared.db import session_factory
from yutang_shared.outbox import Event

GROUP = "query($id: UUID!) { group(id: $id) { memberCount } }"


async def test_unknown_and_closed_members_cannot_join(
    community_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    stranger, closed = str(uuid.uuid4()), await known(community_api, closed=True)

    # when
    refused = [await join(community_api, tokens.staff(), group_id, member) for member in (stranger, closed)]

    # then
    assert [(r["__typename"], r["code"], r["memberId"]) for r in refused] == [
        ("CommunityUnknownMemberError", "COMMUNITY_UNKNOWN_MEMBER", stranger),
        ("CommunityUnknownMemberError", "COMMUNITY_UNKNOWN_MEMBER", closed),
    ]
    assert await count_rows(engine, GroupMembership) == 0
    group = await community_api(GROUP, {"id": group_id}, token=tokens.staff())
    assert group["data"]["group"]["memberCount"] == 0


async def test_a_registered_member_joins_and_a_closed_one_no_longer_can(engine: AsyncEngine) -> None:
    # given: the directory learns of a member from members' events
    sessions = session_factory(engine)
    member_id = uuid.uuid4()
    at = datetime.now(UTC).isoformat()
    registered = Event(
        type="member.registered",
        aggregate_id=str(member_id),
        data={"member_id": str(member_id), "registered_at": at, "source_channel": "store_qr"},
    )
    closed = Event(
        type="member.closed", aggregate_id=str(member_id), data={"member_id": str(member_id), "closed_at": at}
    )
    a, b = await make_group(sessions), await make_group(sessions)

    # when / then
    await _apply(sessions, on_member_registered, registered)
    joined = await join_group(
        CommunityUnitOfWork(sessions), group_id=a.id, member_id=member_id, channel=JoinChannel.ADS
    )
    assert not joined.already_member
    await _apply(sessions, on_member_closed, closed)
    with pytest.raises(UnknownMember):
        await join_group(CommunityUnitOfWork(sessions), group_id=b.id, member_id=member_id, channel=JoinChannel.ADS)
    assert await count_rows(engine, GroupMembership) == 1


async def _apply(sessions, handler, event: Event) -> None:  # type: ignore[no-untyped-def]
    uow = CommunityUnitOfWork(sessions)
    async with uow:
        await handler(uow, event)
        await uow.commit()
