"""Expected errors of the community subgraph, as GraphQL union members."""

from __future__ import annotations

import uuid

import strawberry

from community.domain.errors import CommunityErrorCode, GroupFull, GroupNotFound, InvalidGroup
from yutang_shared.errors import Error, error_handlers

CommunityErrorCodeEnum = strawberry.enum(CommunityErrorCode, description="Codes of the community service's errors.")


@strawberry.type(
    description="The group breaks a rule: capacity outside 1..500 (WeCom's cap), or a scope name or name that is "
    "empty, longer than 64 characters or has control characters."
)
class InvalidGroupError(Error):
    code: CommunityErrorCodeEnum = strawberry.field(description="COMMUNITY_INVALID_GROUP.")  # type: ignore[valid-type]


@strawberry.type(description="The group already has as many members as its capacity; open the next group instead.")
class GroupFullError(Error):
    code: CommunityErrorCodeEnum = strawberry.field(description="COMMUNITY_GROUP_FULL.")  # type: ignore[valid-type]
    capacity: int = strawberry.field(description="The group's capacity, which it has reached.")


@strawberry.type(description="No group has this id.")
class GroupNotFoundError(Error):
    code: CommunityErrorCodeEnum = strawberry.field(description="COMMUNITY_GROUP_NOT_FOUND.")  # type: ignore[valid-type]
    group_id: uuid.UUID = strawberry.field(description="The id that matched no group.")


HANDLERS = error_handlers(
    {InvalidGroup: InvalidGroupError, GroupFull: GroupFullError, GroupNotFound: GroupNotFoundError}
)
