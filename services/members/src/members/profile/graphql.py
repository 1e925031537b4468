"""The profile feature in the members subgraph: the Member entity, its loader, and the member queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry

from members.context import MembersInfo
from members.orders.graphql.types import MemberOrders
from members.profile.models import MemberStatus, SourceChannel
from members.profile.service import count, list_members, members_by_ids
from members.profile.views import MemberView
from members.scopes import Scope, requires, self_or
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Principal, Role
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum

graphql_enum(
    SourceChannel,
    "Where a member was recruited (客户来源).",
    {
        "STREET_PROMOTION": "Street promotion (地推).",
        "STORE_QR": "A QR code on store materials (门店物料扫码).",
        "DELIVERY_PLATFORM": "A delivery platform such as Meituan or JD Daojia (美团 / 京东到家).",
        "LOCAL_LIFE": "Local-life platforms (同城).",
        "SHORT_VIDEO_LIVE": "Short video and live streaming (短视频直播).",
        "REFERRAL_CAMPAIGN": "A referral campaign (裂变).",
        "PAY_TO_FOLLOW": "Following the official account when paying (支付即关注).",
        "ADS": "Paid advertising (广告投放).",
        "OFFICIAL_ACCOUNT_MENU": "The official account's menu (公众号菜单).",
        "FRIEND_INVITE": "An invitation from a friend.",
        "OTHER": "Any other channel.",
    },
)
graphql_enum(
    MemberStatus,
    "Whether a member can be served.",
    {
        "ACTIVE": "The member can be served.",
        "FROZEN": "The member is suspended and cannot be served for now.",
        "CLOSED": "The member's account is closed.",
    },
)

MEMBERS = Keyset("members")
ReadMember = self_or(Scope.MEMBERS_READ)


def sees_full_mobile(principal: Principal, member_id: uuid.UUID) -> bool:
    """Personal data: ops and services see the full mobile, and so does the member themself; others see it masked."""
    return principal.role in (Role.OPS, Role.SERVICE) or principal.is_member(member_id)


# --------------------------------------------------------------------------------------------- loaders


async def member_by_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[MemberView | None]:
    """Members for a batch of ids (None where there is none), in one SELECT."""
    found = await members_by_ids(MembersUnitOfWork(sessions), ids)
    return [found.get(member_id) for member_id in ids]


# ----------------------------------------------------------------------------------------------- types


@strawberry.federation.type(keys=["id"], description="A registered member of the brand (会员).")
class Member(MemberOrders):
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
    def mobile(self, info: MembersInfo) -> str:
        if sees_full_mobile(principal_of(info), self.id):
            return info.context.vault.reveal(self.view.mobile_ciphertext)
        return self.view.mobile_masked

    @strawberry.field(description="The channel the member was recruited through.", permission_classes=[ReadMember])
    def source_channel(self) -> SourceChannel:
        return self.view.source_channel

    @strawberry.field(description="Whether the member can be served.", permission_classes=[ReadMember])
    def status(self) -> MemberStatus:
        return self.view.status

    @strawberry.field(description="When the member registered.", permission_classes=[ReadMember])
    def registered_at(self) -> datetime:
        return self.view.registered_at

    @classmethod
    async def resolve_reference(cls, info: MembersInfo, id: str) -> Member | None:
        try:
            member_id = uuid.UUID(str(id))
        except ValueError:
            return None
        view = await info.context.loaders(member_by_id).load(member_id)
        return None if view is None else cls.of(view)

    @classmethod
    def of(cls, view: MemberView) -> Member:
        return cls(id=view.id, view=view)


# --------------------------------------------------------------------------------------------- queries


@strawberry.type
class Query:
    @strawberry.field(
        description="One member by id, or null when there is none. Members may read only themselves; "
        "others need members:read.",
        permission_classes=[self_or(Scope.MEMBERS_READ, argument="id")],
    )
    async def member(
        self, info: MembersInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The member's id.")]
    ) -> Member | None:
        view = await info.context.loaders(member_by_id).load(id)
        return None if view is None else Member.of(view)

    @strawberry.field(
        description=f"Members in registration order, at most {MAX_PAGE} a page (needs members:read).",
        permission_classes=[requires(Scope.MEMBERS_READ)],
    )
    async def members(
        self, info: MembersInfo, first: PageSize = DEFAULT_PAGE, after: After = None
    ) -> Connection[Member]:
        # Both are checked before any SQL: a bad size or a foreign cursor never reaches the database.
        limit, position = page_size(first), MEMBERS.position(after)
        rows = await list_members(MembersUnitOfWork(info.context.sessions), limit=limit + 1, after=position)
        return page_of(
            rows,
            limit,
            node=Member.of,
            cursor=lambda view: MEMBERS.cursor(view.registered_at, view.id),
            counter=partial(count, MembersUnitOfWork(info.context.sessions)),
        )
