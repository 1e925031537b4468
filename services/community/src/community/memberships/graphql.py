"""Community mutations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from community.config import get_settings
from community.graphql.errors import GroupFullError, GroupNotFoundError, InvalidGroupError
from community.graphql.types import Group, GroupMembership, GroupTypeEnum, JoinChannelEnum, ScopeKindEnum
from community.services.groups import create_group
from community.services.membership import join_group
from community.uow import CommunityUnitOfWork
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, requires


@strawberry.input(description="The group to open: its type and the place it serves; capacity and name are optional.")
class CreateGroupInput:
    type: GroupTypeEnum = strawberry.field(description="What the group is for.")  # type: ignore[valid-type]
    scope_kind: ScopeKindEnum = strawberry.field(description="What kind of place it serves.")  # type: ignore[valid-type]
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


@strawberry.type(description="The member is in the group: newly joined, or already there.")
class JoinGroupSuccess:
    group: Group = strawberry.field(description="The group, with its member count after the join.")
    membership: GroupMembership = strawberry.field(description="The member's place in the group.")
    already_member: bool = strawberry.field(
        description="True when the member was already in the group (nothing was changed)."
    )


JoinGroupPayload = Annotated[
    JoinGroupSuccess | GroupFullError | GroupNotFoundError,
    strawberry.union("JoinGroupPayload", description="The outcome of joinGroup."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record a group a staff member opens in WeCom (which has no API for it). Without a name it is "
        "named by the template, numbered after the others of its type and scope. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def create_group(self, info: Info[RequestContext, Any], input: CreateGroupInput) -> CreateGroupPayload:
        view = await create_group(
            CommunityUnitOfWork(info.context.sessions),
            get_settings(),
            group_type=input.type,
            scope_kind=input.scope_kind,
            scope_name=input.scope_name,
            capacity=input.capacity,
            name=input.name,
        )
        return CreateGroupSuccess(group=Group.of(view))

    @strawberry.mutation(
        description="Put a member into a group as an ordinary member. Idempotent: joining a group one is already "
        "in succeeds with alreadyMember=true and changes nothing. A full group answers GroupFullError. "
        "Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def join_group(
        self,
        info: Info[RequestContext, Any],
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The group to join.")],
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The member who joins.")],
        channel: Annotated[JoinChannelEnum, strawberry.argument(description="How the member came in.")],  # type: ignore[valid-type]
    ) -> JoinGroupPayload:
        joining = await join_group(
            CommunityUnitOfWork(info.context.sessions), group_id=group_id, member_id=member_id, channel=channel
        )
        return JoinGroupSuccess(
            group=Group.of(joining.group),
            membership=GroupMembership.of(joining.membership),
            already_member=joining.already_member,
        )
