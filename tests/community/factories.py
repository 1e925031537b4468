"""Small factories the community tests share: groups and joins through the services and over GraphQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from community.config import CommunitySettings
from community.directory.repository import DirectoryRepository
from community.groups.models import Group, GroupType, ScopeKind
from community.groups.service import create_group
from community.groups.views import GroupView
from community.memberships.models import GroupMembership, JoinChannel
from community.memberships.service import join_group
from community.memberships.views import Joining
from community.uow import CommunityUnitOfWork
from tests.support import SubgraphClient
from yutang_shared.db import SessionFactory, session_factory

SETTINGS = CommunitySettings(database_url="postgresql+asyncpg://unused", brand_name="BrandX")

CREATE = """
mutation Create($input: CreateGroupInput!) {
  createGroup(input: $input) {
    __typename
    ... on CreateGroupSuccess { group { id name type scopeKind scopeName sequence capacity memberCount createdAt } }
    ... on Error { message }
    ... on InvalidGroupError { code }
  }
}
"""
JOIN = """
mutation Join($groupId: UUID!, $memberId: UUID!, $channel: JoinChannel!) {
  joinGroup(groupId: $groupId, memberId: $memberId, channel: $channel) {
    __typename
    ... on JoinGroupSuccess {
      alreadyMember
      group { id memberCount }
      membership { role channel joinedAt member { id } }
    }
    ... on Error { message }
    ... on GroupFullError { code capacity }
    ... on GroupNotFoundError { code groupId }
    ... on CommunityUnknownMemberError { code memberId }
  }
}
"""


async def make_group(sessions: SessionFactory, **overrides: object) -> GroupView:
    """A group opened through the service with SETTINGS (brand BrandX), a basic community group by default."""
    values: dict[str, object] = {
        "group_type": GroupType.BASIC,
        "scope_kind": ScopeKind.COMMUNITY,
        "scope_name": "翠湖小区",
        **overrides,
    }
    return await create_group(CommunityUnitOfWork(sessions), SETTINGS, **values)  # type: ignore[arg-type]


async def known_member(sessions: SessionFactory, *, closed: bool = False) -> uuid.UUID:
    """A new member in community's directory (what the `member.registered` consumer does), active unless `closed`."""
    member_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        directory = DirectoryRepository(session)
        await directory.register(member_id, datetime.now(UTC))
        if closed:
            await directory.close(member_id)
    return member_id


async def known(api: SubgraphClient, *, closed: bool = False) -> str:
    """A new member in the directory of the community app behind `api`, as a GraphQL id."""
    engine = api.client._transport.app.state.engine  # type: ignore[attr-defined]
    return str(await known_member(session_factory(engine), closed=closed))


async def join_member(sessions: SessionFactory, group_id: uuid.UUID, member_id: uuid.UUID | None = None) -> Joining:
    """A member (a new one in the directory unless given) joins the group through the service."""
    return await join_group(
        CommunityUnitOfWork(sessions),
        group_id=group_id,
        member_id=member_id or await known_member(sessions),
        channel=JoinChannel.STORE_QR,
    )


async def count_rows(engine: AsyncEngine, table: type[Group] | type[GroupMembership]) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def create(api: SubgraphClient, token: str, **overrides: Any) -> dict[str, Any]:
    """The createGroup payload for a basic community group unless overridden."""
    group_input = {"type": "BASIC", "scopeKind": "COMMUNITY", "scopeName": "翠湖小区", **overrides}
    result = await api(CREATE, {"input": group_input}, token=token)
    payload: dict[str, Any] = result["data"]["createGroup"]
    return payload


async def join(
    api: SubgraphClient, token: str, group_id: str, member_id: str | None = None, channel: str = "STORE_QR"
) -> dict[str, Any]:
    """The joinGroup payload of a member (a new one in the directory unless given)."""
    variables = {"groupId": group_id, "memberId": member_id or await known(api), "channel": channel}
    result = await api(JOIN, variables, token=token)
    payload: dict[str, Any] = result["data"]["joinGroup"]
    return payload
