"""Community queries."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from community.graphql.loaders import Loaders
from community.graphql.types import Group, GroupConnection, GroupEdge, GroupTypeEnum
from community.services.queries import list_groups
from community.uow import CommunityUnitOfWork
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, requires
from yutang_shared.pagination import (
    DEFAULT_PAGE,
    After,
    PageInfo,
    PageSize,
    cursor_of,
    page_size,
    position_of,
)


@strawberry.type
class Query:
    @strawberry.field(
        description="One group by id, or null when there is none (needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def group(
        self,
        info: Info[RequestContext, Any],
        id: Annotated[uuid.UUID, strawberry.argument(description="The group's id.")],
    ) -> Group | None:
        loaders: Loaders = info.context.loaders
        view = await loaders.group_by_id.load(id)
        return None if view is None else Group.of(view)

    @strawberry.field(
        description="Groups in creation order, a page at a time, optionally of one type (needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def groups(
        self,
        info: Info[RequestContext, Any],
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
        type: Annotated[
            GroupTypeEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only groups of this type; all types when omitted."),
        ] = None,
    ) -> GroupConnection:
        page = await list_groups(
            CommunityUnitOfWork(info.context.sessions),
            limit=page_size(first),
            after=position_of(after),
            group_type=type,
        )
        edges = [GroupEdge(node=Group.of(v), cursor=cursor_of(v.created_at, v.id)) for v in page.groups]
        return GroupConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
        )
