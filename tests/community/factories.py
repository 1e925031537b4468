"""Small factories the community tests share: groups and joins through the services and over GraphQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from community.config import CommunitySettings
from community.groups.models import Group, GroupType, ScopeKind
from community.groups.service import create_group
from community.groups.views import GroupView
from community.memberships.models import GroupMembership, JoinChannel
from community.memberships.service import join_group
from community.memberships.views import Joining
from community.uow import CommunityUnitOfWork
from tests.support import SubgraphClient
from yutang_shared.db import SessionFactory

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


async def join_member(sessions: SessionFactory, group_id: uuid.UUID, member_id: uuid.UUID | None = None) -> Joining:
    """A member (a new one unless given) joins the group through the service."""
    return await join_group(
        CommunityUnitOfWork(sessions),
        group_id=group_id,
        member_id=member_id or uuid.uuid4(),
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
    """The joinGroup payload of a member (a new one unless given)."""
    variables = {"groupId": group_id, "memberId": member_id or str(uuid.uuid4()), "channel": channel}
    result = await api(JOIN, variables, token=token)
    payload: dict[str, Any] = result["data"]["joinGroup"]
    return payload
