"""The registration feature in the members subgraph: registerMember, its input, payload and errors."""

from __future__ import annotations

from typing import Annotated

import strawberry

from members.access import AuditRefusals, Authorized
from members.audit.service import Actor, AuditAs
from members.context import MembersInfo
from members.organisation.errors import UnknownStore
from members.organisation.graphql import StoreNotFoundError
from members.profile.graphql import Member
from members.profile.models import SourceChannel
from members.registration.errors import InvalidMobile, InvalidNickname, MembersErrorCode
from members.registration.rules import NICKNAME_MAX
from members.registration.service import register_member
from members.uow import MembersUnitOfWork
from yutang_shared.context import principal_of
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

graphql_enum(
    MembersErrorCode,
    "Codes of the members service's expected errors.",
    {
        "MEMBERS_INVALID_MOBILE": "The mobile is not an 11-digit mainland China mobile number.",
        "MEMBERS_INVALID_NICKNAME": f"The nickname is longer than {NICKNAME_MAX} characters or has characters "
        "that are not stored.",
    },
)


# -------------------------------------------------------------------------------------------------- errors


@strawberry.type(description="The mobile is not an 11-digit mainland China mobile number.")
class InvalidMobileError(Error):
    code: MembersErrorCode = strawberry.field(description="MEMBERS_INVALID_MOBILE.")


@strawberry.type(
    description=f"The nickname is longer than {NICKNAME_MAX} characters, or contains control, invisible or "
    "unassigned characters."
)
class InvalidNicknameError(Error):
    code: MembersErrorCode = strawberry.field(description="MEMBERS_INVALID_NICKNAME.")


HANDLERS = error_handlers(
    {InvalidMobile: InvalidMobileError, InvalidNickname: InvalidNicknameError, UnknownStore: StoreNotFoundError}
)


# ------------------------------------------------------------------------------------------- mutations


@strawberry.input(description="Who is registering and where they came from.")
class RegisterMemberInput:
    mobile: str = strawberry.field(description="Mainland China mobile; spaces, dashes and +86 are accepted.")
    source_channel: SourceChannel = strawberry.field(description="The recruiting channel.")
    nickname: str | None = strawberry.field(
        default=None,
        description=f"Display name, at most {NICKNAME_MAX} characters as a person counts them (an emoji such as "
        "👨‍👩‍👧‍👦 is one).",
    )
    store_code: str | None = strawberry.field(
        default=None,
        description="The store the member registers at: their registration store and home store, so its staff "
        "reach them. It must be an active store (else MEMBERS_UNKNOWN_STORE); staff and partners limited to some "
        "stores must name one they reach (else FORBIDDEN).",
    )


@strawberry.type(description="The member with that mobile: newly registered, or the one already registered.")
class RegisterMemberSuccess:
    member: Member = strawberry.field(description="The registered member.")
    created: bool = strawberry.field(
        description="True when this call registered the member; false when the "
        "mobile was already registered (nothing was changed)."
    )


RegisterMemberPayload = Annotated[
    RegisterMemberSuccess | InvalidMobileError | InvalidNicknameError | StoreNotFoundError,
    strawberry.union("RegisterMemberPayload", description="The outcome of registerMember."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register a member (捞鱼). Idempotent on the mobile: registering the same mobile again returns "
        "the existing member with created=false (its stores unchanged). Staff of a store, supervisors of a region "
        "and partners with allowed stores register at a store they reach; operations and services anywhere or "
        "without a store. Partners and services need members:write. Refusals are audited.",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def register_member(
        self,
        info: MembersInfo,
        input: Annotated[
            RegisterMemberInput, strawberry.argument(description="The new member's mobile and where they registered.")
        ],
    ) -> RegisterMemberPayload:
        registration = await register_member(
            MembersUnitOfWork(info.context.sessions),
            info.context.vault,
            mobile=input.mobile,
            nickname=input.nickname,
            source_channel=input.source_channel,
            store_code=input.store_code,
            audit=AuditAs(Actor.of(principal_of(info)), "registerMember"),
        )
        return RegisterMemberSuccess(member=Member.of(registration.member), created=registration.created)
