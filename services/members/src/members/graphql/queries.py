"""Members queries."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from members.graphql.loaders import Loaders
from members.graphql.types import Member, MemberConnection, MemberEdge
from members.services.queries import list_members
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, requires, self_or
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
        description="One member by id, or null when there is none. Members may read only themselves; "
        "others need members:read.",
        permission_classes=[self_or(Scope.MEMBERS_READ, argument="id")],
    )
    async def member(
        self,
        info: Info[RequestContext, Any],
        id: Annotated[uuid.UUID, strawberry.argument(description="The member's id.")],
    ) -> Member | None:
        loaders: Loaders = info.context.loaders
        view = await loaders.member_by_id.load(id)
        return None if view is None else Member.of(view)

    @strawberry.field(
        description="Members in registration order, a page at a time (needs members:read).",
        permission_classes=[requires(Scope.MEMBERS_READ)],
    )
    async def members(
        self,
        info: Info[RequestContext, Any],
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> MemberConnection:
        page = await list_members(
            MembersUnitOfWork(info.context.sessions), limit=page_size(first), after=position_of(after)
        )
        edges = [MemberEdge(node=Member.of(v), cursor=cursor_of(v.registered_at, v.id)) for v in page.members]
        return MemberConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
        )
