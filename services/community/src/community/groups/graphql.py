"""The groups feature in the community subgraph: the Group type, group(id), groups(…), createGroup and its error."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry

from community.context import CommunityInfo
from community.groups.errors import CommunityErrorCode, InvalidGroup
from community.groups.models import GroupType, ScopeKind
from community.groups.service import create_group, group_count, group_page, groups_by_ids
from community.groups.views import GroupView
from community.memberships.graphql import GroupMembers
from community.scopes import Scope, requires
from community.uow import CommunityUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

graphql_enum(
    GroupType,
    "What a group is for.",
    {
        "BASIC": "基础群: one per region, store or residential community.",
        "VIP": "VIP群: invitation only.",
        "BUFFER": "缓冲群: one per warehouse; takes the members of dissolving groups.",
        "DISTRIBUTOR": "分销员群: members who share and sell.",
    },
)
graphql_enum(
    ScopeKind,
    "What kind of place a group serves.",
    {
        "REGION": "A region.",
        "STORE": "A store.",
        "COMMUNITY": "小区: a residential community.",
        "WAREHOUSE": "A warehouse.",
    },
)

GROUPS = Keyset("groups")


# -------------------------------------------------------------------------------------------------- errors


@strawberry.type(
    description="The group breaks a rule: capacity outside 1..500 (WeCom's cap), or a scope name or name that is "
    "empty, longer than 64 characters or has control characters."
)
class InvalidGroupError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_INVALID_GROUP.")


HANDLERS = error_handlers({InvalidGroup: InvalidGroupError})


# --------------------------------------------------------------------------------------------- loaders


async def group_by_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[GroupView | None]:
    """Groups for a batch of ids (None where there is none), in one SELECT."""
    return await groups_by_ids(CommunityUnitOfWork(sessions), ids)


# ----------------------------------------------------------------------------------------------- types


@strawberry.type(description="A WeChat customer group (社群) run by one of the brand's WeCom accounts.")
class Group(GroupMembers):
    id: uuid.UUID = strawberry.field(description="The group's id.")
    name: str = strawberry.field(
        description='The group\'s name, by default "number·scope·brand", e.g. "012·翠湖小区·BrandX".'
    )
    type: GroupType = strawberry.field(description="What the group is for.")
    scope_kind: ScopeKind = strawberry.field(description="What kind of place the group serves.")
    scope_name: str = strawberry.field(
        description="The name of the region, store, community or warehouse the group serves."
    )
    sequence: int = strawberry.field(
        description="The group's number among the groups of the same type and scope, from 1."
    )
    capacity: int = strawberry.field(description="How many members the group may hold (at most 500, WeCom's cap).")
    member_count: int = strawberry.field(description="How many members the group holds now.")
    created_at: datetime = strawberry.field(description="When the group was created.")

    @classmethod
    def of(cls, view: GroupView) -> Group:
        return cls(
            id=view.id,
            name=view.name,
            type=view.type,
            scope_kind=view.scope_kind,
            scope_name=view.scope_name,
            sequence=view.sequence,
            capacity=view.capacity,
            member_count=view.member_count,
            created_at=view.created_at,
        )


# --------------------------------------------------------------------------------------------- queries


@strawberry.type
class Query:
    @strawberry.field(
        description="One group by id, or null when there is none (needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def group(
        self, info: CommunityInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The group's id.")]
    ) -> Group | None:
        view = await info.context.loaders(group_by_id).load(id)
        return None if view is None else Group.of(view)

    @strawberry.field(
        description=f"Groups in creation order, optionally of one type; at most {MAX_PAGE} a page (needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def groups(
        self,
        info: CommunityInfo,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
        type: Annotated[
            GroupType | None, strawberry.argument(description="Only groups of this type; all types when omitted.")
        ] = None,
    ) -> Connection[Group]:
        limit = page_size(first)
        uow = CommunityUnitOfWork(info.context.sessions)
        rows = await group_page(uow, limit=limit + 1, after=GROUPS.position(after), group_type=type)
        return page_of(
            rows,
            limit,
            node=Group.of,
            cursor=lambda g: GROUPS.cursor(g.created_at, g.id),
            counter=partial(group_count, CommunityUnitOfWork(info.context.sessions), group_type=type),
        )


# ------------------------------------------------------------------------------------------- mutations


@strawberry.input(description="The group to open: its type and the place it serves; capacity and name are optional.")
class CreateGroupInput:
    type: GroupType = strawberry.field(description="What the group is for.")
    scope_kind: ScopeKind = strawberry.field(description="What kind of place it serves.")
    scope_name: str = strawberry.field(description="The place's name, 1 to 64 characters, e.g. 翠湖小区.")
    capacity: int | None = strawberry.field(
        default=None,
        description="Members it may hold, 1 to 500; defaults by type "
        "(basic 400, VIP 200, buffer 500, distributor 400).",
    )
    name: str | None = strawberry.field(
        default=None,
        description="The group's name, 1 to 64 characters; by default "
        '"number·scope·brand", e.g. "012·翠湖小区·BrandX".',
    )


@strawberry.type(description="The group that was opened.")
class CreateGroupSuccess:
    group: Group = strawberry.field(description="The new group, numbered after the others of its type and scope.")


CreateGroupPayload = Annotated[
    CreateGroupSuccess | InvalidGroupError,
    strawberry.union("CreateGroupPayload", description="The outcome of createGroup."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record a group a staff member opens in WeCom (which has no API for it). Without a name it is "
        "named by the template, numbered after the others of its type and scope. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def create_group(self, info: CommunityInfo, input: CreateGroupInput) -> CreateGroupPayload:
        view = await create_group(
            CommunityUnitOfWork(info.context.sessions),
            info.context.settings,
            group_type=input.type,
            scope_kind=input.scope_kind,
            scope_name=input.scope_name,
            capacity=input.capacity,
            name=input.name,
        )
        return CreateGroupSuccess(group=Group.of(view))
