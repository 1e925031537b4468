"""Members mutations."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from members.config import get_vault
from members.graphql.errors import InvalidMobileError, InvalidNicknameError
from members.graphql.types import Member, SourceChannelEnum
from members.services.registration import register_member
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, requires


@strawberry.input(description="Who is registering and where they came from.")
class RegisterMemberInput:
    mobile: str = strawberry.field(description="Mainland China mobile; spaces, dashes and +86 are accepted.")
    source_channel: SourceChannelEnum = strawberry.field(description="The recruiting channel.")  # type: ignore[valid-type]
    nickname: str | None = strawberry.field(default=None, description="Display name, at most 32 characters.")


@strawberry.type(description="The member with that mobile: newly registered, or the one already registered.")
class RegisterMemberSuccess:
    member: Member = strawberry.field(description="The registered member.")
    created: bool = strawberry.field(
        description="True when this call registered the member; false when the "
        "mobile was already registered (nothing was changed)."
    )


RegisterMemberPayload = Annotated[
    RegisterMemberSuccess | InvalidMobileError | InvalidNicknameError,
    strawberry.union("RegisterMemberPayload", description="The outcome of registerMember."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register a member (捞鱼). Idempotent on the mobile: registering the same mobile again returns "
        "the existing member with created=false. Needs members:write.",
        permission_classes=[requires(Scope.MEMBERS_WRITE)],
    )
    async def register_member(
        self, info: Info[RequestContext, Any], input: RegisterMemberInput
    ) -> RegisterMemberPayload:
        registration = await register_member(
            MembersUnitOfWork(info.context.sessions),
            get_vault(),
            mobile=input.mobile,
            nickname=input.nickname,
            source_channel=input.source_channel,
        )
        return RegisterMemberSuccess(member=Member.of(registration.member), created=registration.created)
