"""Community GraphQL object types, and the federated Member entity this subgraph extends with groups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from community.domain.kinds import GroupRole, GroupType, JoinChannel, ScopeKind
from community.graphql.loaders import Loaders, MembershipPageKey
from community.services.views import GroupView, MembershipView
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, requires, self_or
from yutang_shared.pagination import (
    DEFAULT_PAGE,
    After,
    CursorValue,
    PageInfo,
    PageSize,
    cursor_of,
    page_size,
    position_of,
)

GroupTypeEnum = strawberry.enum(
    GroupType,
    description="What a group is for: BASIC (基础群, per region, store or community), VIP (invitation only), "
    "BUFFER (缓冲群, one per warehouse, takes members of dissolving groups), DISTRIBUTOR (分销员群).",
)
ScopeKindEnum = strawberry.enum(ScopeKind, description="What kind of place a group serves.")
GroupRoleEnum = strawberry.enum(
    GroupRole,
    description="A role in a group: OWNER (群主, staff), OPINION_LEADER (意见领袖, a member), ADMIN (管理员), "
    "STEWARD (小管家, the staff member measured on the group's orders), MEMBER.",
)
JoinChannelEnum = strawberry.enum(
    JoinChannel, description="How a member came into a group; channels differ in speed and member quality."
)


@strawberry.type(description="A WeChat customer group (社群) run by one of the brand's WeCom accounts.")
class Group:
    id: uuid.UUID = strawberry.field(description="The group's id.")
    view: strawberry.Private[GroupView]

    @strawberry.field(description='The group\'s name, by default "number·scope·brand", e.g. "012·翠湖小区·BrandX".')
    def name(self) -> str:
        return self.view.name

    @strawberry.field(description="What the group is for.")
    def type(self) -> GroupTypeEnum:  # type: ignore[valid-type]
        return self.view.type

    @strawberry.field(description="What kind of place the group serves.")
    def scope_kind(self) -> ScopeKindEnum:  # type: ignore[valid-type]
        return self.view.scope_kind

    @strawberry.field(description="The name of the region, store, community or warehouse the group serves.")
    def scope_name(self) -> str:
        return self.view.scope_name

    @strawberry.field(description="The group's number among the groups of the same type and scope, from 1.")
    def sequence(self) -> int:
        return self.view.sequence

    @strawberry.field(description="How many members the group may hold (at most 500, WeCom's cap).")
    def capacity(self) -> int:
        return self.view.capacity

    @strawberry.field(description="How many members the group holds now.")
    def member_count(self) -> int:
        return self.view.member_count

    @strawberry.field(description="When the group was created.")
    def created_at(self) -> datetime:
        return self.view.created_at

    @strawberry.field(
        description="The group's members in joining order, a page at a time (needs groups:read).",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def members(
        self,
        info: Info[RequestContext, Any],
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> GroupMemberConnection:
        loaders: Loaders = info.context.loaders
        key = MembershipPageKey(group_id=self.id, limit=page_size(first), after=position_of(after))
        page = await loaders.memberships_by_group.load(key)
        edges = [
            GroupMemberEdge(node=GroupMembership.of(m), cursor=cursor_of(m.joined_at, m.member_id))
            for m in page.memberships
        ]
        return GroupMemberConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
        )

    @classmethod
    def of(cls, view: GroupView) -> Group:
        return cls(id=view.id, view=view)


@strawberry.federation.type(
    keys=["id"],
    description="A member of the brand (会员). The members service owns the member; this service adds their groups.",
)
class Member:
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")

    @strawberry.field(
        description="The groups the member is in, in joining order. Members may read only their own groups; "
        "others need groups:read.",
        permission_classes=[self_or(Scope.GROUPS_READ)],
    )
    async def groups(self, info: Info[RequestContext, Any]) -> list[Group]:
        loaders: Loaders = info.context.loaders
        return [Group.of(view) for view in await loaders.groups_by_member_id.load(self.id)]

    @classmethod
    def resolve_reference(cls, id: str) -> Member | None:
        # No lookup: the members subgraph owns whether the member exists; an id that is no UUID is no member.
        try:
            return cls(id=uuid.UUID(str(id)))
        except ValueError:
            return None


@strawberry.type(description="A member's place in a group.")
class GroupMembership:
    view: strawberry.Private[MembershipView]

    @strawberry.field(description="The member; the gateway fetches their details from the members service.")
    def member(self) -> Member:
        return Member(id=self.view.member_id)

    @strawberry.field(description="The member's role in the group.")
    def role(self) -> GroupRoleEnum:  # type: ignore[valid-type]
        return self.view.role

    @strawberry.field(description="How the member came into the group.")
    def channel(self) -> JoinChannelEnum:  # type: ignore[valid-type]
        return self.view.channel

    @strawberry.field(description="When the member joined the group.")
    def joined_at(self) -> datetime:
        return self.view.joined_at

    @classmethod
    def of(cls, view: MembershipView) -> GroupMembership:
        return cls(view=view)


@strawberry.type(description="A member of a group and their position in the group's list.")
class GroupMemberEdge:
    node: GroupMembership = strawberry.field(description="The member's place in the group.")
    cursor: CursorValue = strawberry.field(description="Pass as `after` to continue after this member.")


@strawberry.type(description="A page of a group's members in joining order.")
class GroupMemberConnection:
    edges: list[GroupMemberEdge] = strawberry.field(description="The members on this page.")
    page_info: PageInfo = strawberry.field(description="Whether more members follow, and from where.")


@strawberry.type(description="A group and its position in the list.")
class GroupEdge:
    node: Group = strawberry.field(description="The group.")
    cursor: CursorValue = strawberry.field(description="Pass as `after` to continue after this group.")


@strawberry.type(description="A page of groups in creation order.")
class GroupConnection:
    edges: list[GroupEdge] = strawberry.field(description="The groups on this page.")
    page_info: PageInfo = strawberry.field(description="Whether more groups follow, and from where.")
