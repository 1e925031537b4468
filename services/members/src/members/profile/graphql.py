"""Members GraphQL object types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from members.config import get_vault
from members.domain.channels import MemberStatus, SourceChannel
from members.services.views import MemberView
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, principal_of, self_or
from yutang_shared.pagination import CursorValue, PageInfo

if TYPE_CHECKING:
    from members.graphql.loaders import Loaders

SourceChannelEnum = strawberry.enum(SourceChannel, description="Where a member was recruited (客户来源).")
MemberStatusEnum = strawberry.enum(MemberStatus, description="Whether a member can be served.")
ReadMember = self_or(Scope.MEMBERS_READ)


@strawberry.federation.type(keys=["id"], description="A registered member of the brand (会员).")
class Member:
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")
    view: strawberry.Private[MemberView]

    @strawberry.field(description="Display name chosen by the member.", permission_classes=[ReadMember])
    def nickname(self) -> str | None:
        return self.view.nickname

    @strawberry.field(
        description="Mobile number: in full for the member themself, ops and services; masked (138****8000) "
        "for everyone else.",
        permission_classes=[ReadMember],
    )
    def mobile(self, info: Info[RequestContext, Any]) -> str:
        principal = principal_of(info)
        if principal.can_read_pii() or principal.is_member(self.id):
            return get_vault().reveal(self.view.mobile_ciphertext)
        return self.view.mobile_masked

    @strawberry.field(description="The channel the member was recruited through.", permission_classes=[ReadMember])
    def source_channel(self) -> SourceChannelEnum:  # type: ignore[valid-type]
        return self.view.source_channel

    @strawberry.field(description="Whether the member can be served.", permission_classes=[ReadMember])
    def status(self) -> MemberStatusEnum:  # type: ignore[valid-type]
        return self.view.status

    @strawberry.field(description="When the member registered.", permission_classes=[ReadMember])
    def registered_at(self) -> datetime:
        return self.view.registered_at

    @classmethod
    async def resolve_reference(cls, info: Info[RequestContext, Any], id: str) -> Member | None:
        try:
            member_id = uuid.UUID(str(id))
        except ValueError:
            return None
        loaders: Loaders = info.context.loaders
        view = await loaders.member_by_id.load(member_id)
        return None if view is None else cls.of(view)

    @classmethod
    def of(cls, view: MemberView) -> Member:
        return cls(id=view.id, view=view)


@strawberry.type(description="A member and their position in the list.")
class MemberEdge:
    node: Member = strawberry.field(description="The member.")
    cursor: CursorValue = strawberry.field(description="Pass as `after` to continue after this member.")


@strawberry.type(description="A page of members in registration order.")
class MemberConnection:
    edges: list[MemberEdge] = strawberry.field(description="The members on this page.")
    page_info: PageInfo = strawberry.field(description="Whether more members follow, and from where.")
