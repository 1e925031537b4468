"""The profile feature in the members subgraph: the Member entity, its loader, the member queries (me, member,
members, memberByMobile, memberByWechat) and the profile, guide, consent and status mutations.

Who may use each field, on which members, is members.authorization's table (enforced by `Authorized`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any

import strawberry

from members.access import AuditRefusals, Authorized, covers, member_scope
from members.audit.models import AuditEntry
from members.audit.service import Actor, AuditAction
from members.context import MembersInfo
from members.insights.graphql import MemberInsightFields
from members.orders.graphql.types import MemberOrders
from members.organisation.errors import DirectoryErrorCode
from members.organisation.graphql import NotAGuideError, StaffInactiveError, StoreNotFoundError, UnknownStaffError
from members.profile import service
from members.profile.errors import (
    InvalidBirthday,
    InvalidProfile,
    MemberClosed,
    MemberFrozen,
    UnknownMember,
    WechatIdTaken,
)
from members.profile.models import ConsentChannel, ConsentState, Gender, MemberStatus, SourceChannel
from members.profile.repository import MemberFilter
from members.profile.views import MemberView, WechatOpenidView
from members.registration.errors import InvalidMobile
from members.tags.graphql import MemberTagFields
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Role
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import BadUserInput, Error, Forbidden, error_handlers

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
        "FROZEN": "The member is suspended: no profile or guide changes, no login, until unfrozen.",
        "CLOSED": "The member's account is closed and their personal data erased; nothing changes any more.",
    },
)
graphql_enum(
    Gender,
    "The member's gender as they gave it.",
    {"UNKNOWN": "Not given.", "FEMALE": "Female.", "MALE": "Male."},
)
graphql_enum(
    ConsentState,
    "Whether the member agreed to marketing messages.",
    {"GIVEN": "Consent given.", "WITHDRAWN": "Consent withdrawn: no marketing contact."},
)
graphql_enum(
    ConsentChannel,
    "Where marketing consent was given or withdrawn.",
    {
        "MINI_PROGRAM": "The WeChat mini-program.",
        "H5": "An H5 page.",
        "OFFICIAL_ACCOUNT": "The official account.",
        "STORE": "In store, recorded by staff.",
        "PHONE": "By phone, recorded by staff.",
        "PARTNER": "A partner system.",
        "OTHER": "Anywhere else.",
    },
)
MEMBERS = Keyset("members")
PARTNERS = "partners need members:read and see only their allowed stores' members"


# --------------------------------------------------------------------------------------------- loaders


async def member_by_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[MemberView | None]:
    """Members for a batch of ids (None where there is none), in one SELECT."""
    found = await service.members_by_ids(MembersUnitOfWork(sessions), ids)
    return [found.get(member_id) for member_id in ids]


async def openids_by_member_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[list[WechatOpenidView]]:
    """Each member's openids for a batch of members, in one SELECT."""
    found = await service.openids_by_member(MembersUnitOfWork(sessions), ids)
    return [found[member_id] for member_id in ids]


@dataclass(frozen=True, slots=True)
class Reveal:
    """One full-mobile reveal to audit: the member and who saw it in which request."""

    member_id: uuid.UUID
    actor: Actor


async def audited_reveal(sessions: SessionFactory, reveals: Sequence[Reveal]) -> list[bool]:
    """Record a batch of full-mobile reveals in the audit log, in one INSERT, before the numbers are shown."""
    uow = MembersUnitOfWork(sessions)
    async with uow:
        await uow.audit.append(
            [
                {
                    "id": uuid.uuid4(),
                    "actor": r.actor.subject[:128],
                    "role": r.actor.role,
                    "client_id": r.actor.client_id,
                    "request_id": r.actor.request_id,
                    "action": AuditAction.REVEAL_MOBILE.value,
                    "target_type": "member",
                    "target_id": str(r.member_id),
                    "outcome": "ok",
                }
                for r in reveals
            ]
        )
        await uow.commit()
    return [True for _ in reveals]


_ = AuditEntry  # the audit table is imported with its model module


# ----------------------------------------------------------------------------------------------- types


@strawberry.type(description="A member's openid in one WeChat app.")
class WechatOpenid:
    app_id: str = strawberry.field(description="The WeChat app id (mini-program or official account).")
    openid: str = strawberry.field(description="The member's openid in that app.")


SCOPED = "Staff see members of their stores (supervisors: of their regions), " + PARTNERS + "; members themselves."


def _read(description: str) -> Any:
    return strawberry.field(description=f"{description}", permission_classes=[Authorized])


@strawberry.federation.type(keys=["id"], description=f"A registered member of the brand (会员). {SCOPED}")
class Member(MemberOrders, MemberInsightFields, MemberTagFields):
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")
    view: strawberry.Private[MemberView]

    @_read("Display name chosen by the member; null once closed.")
    def nickname(self) -> str | None:
        return self.view.nickname

    @strawberry.field(
        description="Mobile number: in full for the member themself, operations and services (each full reveal "
        "to someone other than the member is audited); masked (138****8000) for everyone else; null once the "
        "member is closed (erased).",
        permission_classes=[Authorized],
    )
    async def mobile(self, info: MembersInfo) -> str | None:
        if self.view.mobile_ciphertext is None:
            return None
        scope = member_scope(info, "Member.mobile.full")
        if scope is None or not await covers(info, scope, self.view):
            return self.view.mobile_masked
        principal = principal_of(info)
        if not principal.is_member(self.id):
            actor = Actor.of(principal)
            await info.context.loaders(audited_reveal).load(Reveal(self.id, actor))
        return info.context.vault.reveal(self.view.mobile_ciphertext)

    @_read("The channel the member was recruited through.")
    def source_channel(self) -> SourceChannel:
        return self.view.source_channel

    @_read("Whether the member can be served.")
    def status(self) -> MemberStatus:
        return self.view.status

    @_read("When the member registered.")
    def registered_at(self) -> datetime:
        return self.view.registered_at

    @_read("Avatar image URL; null once closed.")
    def avatar_url(self) -> str | None:
        return self.view.avatar_url

    @_read("Gender as the member gave it.")
    def gender(self) -> Gender:
        return self.view.gender

    @_read("Birthday; null when not given or once closed.")
    def birthday(self) -> date | None:
        return self.view.birthday

    @_read("City the member lives in.")
    def city(self) -> str | None:
        return self.view.city

    @_read("Occupation.")
    def occupation(self) -> str | None:
        return self.view.occupation

    @_read("The code of the member's home store (the store that serves them); decides which staff see them.")
    def home_store_code(self) -> str | None:
        return self.view.home_store_code

    @_read("The code of the store they registered at, if any.")
    def registration_store_code(self) -> str | None:
        return self.view.registration_store_code

    @_read("The staff id of their exclusive guide (专属导购), if any.")
    def guide_id(self) -> uuid.UUID | None:
        return self.view.guide_id

    @_read("Marketing consent: given, withdrawn, or null when never asked.")
    def marketing_consent(self) -> ConsentState | None:
        return self.view.consent

    @_read("When marketing consent was last given or withdrawn.")
    def marketing_consent_at(self) -> datetime | None:
        return self.view.consent_at

    @_read("Where marketing consent was last given or withdrawn.")
    def marketing_consent_channel(self) -> ConsentChannel | None:
        return self.view.consent_channel

    @_read(
        "The WeChat unionid (the brand-wide WeChat identity), once the member logged in through WeChat; null once "
        "closed (erased)."
    )
    def wechat_unionid(self) -> str | None:
        return self.view.wechat_unionid

    @_read(
        "The member's openid in each WeChat app (mini-program, official account) they logged in through; empty "
        "once closed (erased)."
    )
    async def wechat_openids(self, info: MembersInfo) -> list[WechatOpenid]:
        found = await info.context.loaders(openids_by_member_id).load(self.id)
        return [WechatOpenid(app_id=v.app_id, openid=v.openid) for v in found]

    @_read("When the account was closed, if it was.")
    def closed_at(self) -> datetime | None:
        return self.view.closed_at

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


# ---------------------------------------------------------------------------------------------- errors


@strawberry.type(description="No member has that id. Nothing was changed.")
class MemberNotFoundError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_MEMBER.")


@strawberry.type(description="The member is frozen: their profile and guide cannot change. Nothing was changed.")
class MemberFrozenError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_MEMBER_FROZEN.")


@strawberry.type(description="The member's account is closed. Nothing was changed.")
class MemberClosedError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_MEMBER_CLOSED.")


@strawberry.type(description="The birthday is in the future or before 1900-01-01. Nothing was changed.")
class InvalidBirthdayError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_INVALID_BIRTHDAY.")


@strawberry.type(
    description="A profile text is too long or has control characters, or the avatar is no http(s) URL. "
    "Nothing was changed."
)
class InvalidProfileError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_INVALID_PROFILE.")


@strawberry.type(description="The WeChat id belongs to another member. Nothing was changed.")
class WechatIdTakenError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_WECHAT_ID_TAKEN.")


HANDLERS = error_handlers(
    {
        UnknownMember: MemberNotFoundError,
        MemberFrozen: MemberFrozenError,
        MemberClosed: MemberClosedError,
        InvalidBirthday: InvalidBirthdayError,
        InvalidProfile: InvalidProfileError,
        WechatIdTaken: WechatIdTakenError,
    }
)

# ------------------------------------------------------------------------------------------------ inputs


@strawberry.input(description="Profile changes; omitted fields stay, null clears a field.")
class UpdateMemberProfileInput:
    member_id: uuid.UUID = strawberry.field(description="The member.")
    nickname: str | None = strawberry.field(default=strawberry.UNSET, description="Display name, ≤ 32 characters.")
    avatar_url: str | None = strawberry.field(default=strawberry.UNSET, description="An http(s) URL, ≤ 512.")
    gender: Gender | None = strawberry.field(default=strawberry.UNSET, description="Gender; null: unknown.")
    birthday: date | None = strawberry.field(
        default=strawberry.UNSET, description="From 1900-01-01 up to today (Asia/Shanghai)."
    )
    city: str | None = strawberry.field(default=strawberry.UNSET, description="City, ≤ 64 characters.")
    occupation: str | None = strawberry.field(default=strawberry.UNSET, description="Occupation, ≤ 64 characters.")
    home_store_code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Move the member to this home store (staff only, and only into a store they reach).",
    )

    def changes(self) -> dict[str, Any]:
        return {
            name: value for name, value in vars(self).items() if name != "member_id" and value is not strawberry.UNSET
        }


MutationPayloadErrors = MemberNotFoundError | MemberFrozenError | MemberClosedError


@strawberry.type(description="The member as changed.")
class MemberSuccess:
    member: Member = strawberry.field(description="The member after the change.")


UpdateMemberProfilePayload = Annotated[
    MemberSuccess | MutationPayloadErrors | InvalidBirthdayError | InvalidProfileError | StoreNotFoundError,
    strawberry.union("UpdateMemberProfilePayload", description="The outcome of updateMemberProfile."),
]
AssignGuidePayload = Annotated[
    MemberSuccess | MutationPayloadErrors | UnknownStaffError | StaffInactiveError | NotAGuideError,
    strawberry.union("AssignGuidePayload", description="The outcome of assignGuide."),
]
MemberStatusPayload = Annotated[
    MemberSuccess | MutationPayloadErrors,
    strawberry.union(
        "MemberStatusPayload",
        description="The outcome of setMarketingConsent, freezeMember, unfreezeMember or closeMember.",
    ),
]


def _uow(info: MembersInfo) -> MembersUnitOfWork:
    return MembersUnitOfWork(info.context.sessions)


def _actor(info: MembersInfo) -> Actor:
    return Actor.of(principal_of(info))


member_mutation = partial(strawberry.mutation, permission_classes=[Authorized], extensions=[AuditRefusals()])
MemberId = Annotated[uuid.UUID, strawberry.argument(description="The member.")]


@strawberry.type
class Mutation:
    @member_mutation(
        description="Change a member's profile: members change their own nickname, avatar, gender, birthday, city "
        "and occupation; staff of the member's store (and operations, services, partners with members:write for "
        "their stores) also the home store. Frozen and closed members cannot be changed. Audited."
    )
    async def update_member_profile(
        self,
        info: MembersInfo,
        input: Annotated[
            UpdateMemberProfileInput,
            strawberry.argument(
                description="The member and the profile fields to change (omitted fields stay as they are)."
            ),
        ],
    ) -> UpdateMemberProfilePayload:
        changes = input.changes()
        store = changes.get("home_store_code")
        if "home_store_code" in changes:
            principal = principal_of(info)
            scope = member_scope(info, "Mutation.updateMemberProfile")
            reaches_store = scope is not None and (scope.everyone or store in scope.stores or store is None)
            if principal.role is Role.MEMBER or not (reaches_store or await _in_regions(info, scope, store)):
                raise Forbidden("the home store can be set only by staff, to a store they reach")
        view = await service.update_profile(_uow(info), _actor(info), member_id=input.member_id, changes=changes)
        return MemberSuccess(member=Member.of(view))

    @member_mutation(
        description="Make an active guide the member's exclusive guide (专属导购), or none with null. Store "
        "managers of the member's store, supervisors of its region, operations and services. Audited."
    )
    async def assign_guide(
        self,
        info: MembersInfo,
        member_id: MemberId,
        guide_id: Annotated[uuid.UUID | None, strawberry.argument(description="The guide's staff id; null: none.")],
    ) -> AssignGuidePayload:
        view = await service.assign_guide(_uow(info), _actor(info), member_id=member_id, guide_id=guide_id)
        return MemberSuccess(member=Member.of(view))

    @member_mutation(
        description="Record marketing consent given (true) or withdrawn (false), now, through a channel. The member "
        "themself, staff of their store, operations, services and partners with members:write. Audited."
    )
    async def set_marketing_consent(
        self,
        info: MembersInfo,
        member_id: MemberId,
        given: Annotated[bool, strawberry.argument(description="True: consent given; false: withdrawn.")],
        channel: Annotated[ConsentChannel, strawberry.argument(description="Where it was given or withdrawn.")],
    ) -> MemberStatusPayload:
        view = await service.set_marketing_consent(
            _uow(info), _actor(info), member_id=member_id, given=given, channel=channel
        )
        return MemberSuccess(member=Member.of(view))

    @member_mutation(
        description="Freeze a member: no profile or guide change and no login until unfrozen. Store managers of "
        "their store, supervisors of its region, operations and services. Audited."
    )
    async def freeze_member(self, info: MembersInfo, member_id: MemberId) -> MemberStatusPayload:
        view = await service.set_status(
            _uow(info), _actor(info), member_id=member_id, status=MemberStatus.FROZEN, action="freezeMember"
        )
        return MemberSuccess(member=Member.of(view))

    @member_mutation(description="Unfreeze a frozen member. Same callers as freezeMember. Audited.")
    async def unfreeze_member(self, info: MembersInfo, member_id: MemberId) -> MemberStatusPayload:
        view = await service.set_status(
            _uow(info), _actor(info), member_id=member_id, status=MemberStatus.ACTIVE, action="unfreezeMember"
        )
        return MemberSuccess(member=Member.of(view))

    @member_mutation(
        description="Close a member's account (注销) and erase their personal data: mobile, nickname, avatar, "
        "gender, birthday, city, occupation and WeChat ids; the member id and anonymous facts (channel, stores, "
        "registration time, orders and points history) stay. The mobile may register again as a new member. "
        "A closed member cannot log in, be changed, earn or spend. The member themself, operations and "
        "services. Audited."
    )
    async def close_member(self, info: MembersInfo, member_id: MemberId) -> MemberStatusPayload:
        view = await service.close_member(_uow(info), _actor(info), member_id=member_id)
        return MemberSuccess(member=Member.of(view))


async def _in_regions(info: MembersInfo, scope: Any, store: str | None) -> bool:
    if scope is None or store is None or not scope.regions:
        return False
    from members.access import region_by_store_code

    return await info.context.loaders(region_by_store_code).load(store) in scope.regions


# --------------------------------------------------------------------------------------------- queries


@strawberry.input(description="Conditions of the members list; every given one must hold.")
class MembersFilter:
    home_store_code: str | None = strawberry.field(default=None, description="Only members of this home store.")
    guide_id: uuid.UUID | None = strawberry.field(default=None, description="Only members of this guide.")
    source_channel: SourceChannel | None = strawberry.field(default=None, description="Only this channel.")
    status: MemberStatus | None = strawberry.field(default=None, description="Only this status.")
    registered_from: datetime | None = strawberry.field(default=None, description="Registered at or after.")
    registered_to: datetime | None = strawberry.field(default=None, description="Registered before.")
    marketing_consent: ConsentState | None = strawberry.field(default=None, description="Only this consent.")

    def query(self) -> MemberFilter:
        return MemberFilter(
            home_store_code=self.home_store_code,
            guide_id=self.guide_id,
            source_channel=self.source_channel,
            status=self.status,
            registered_from=self.registered_from,
            registered_to=self.registered_to,
            consent=self.marketing_consent,
        )


async def _visible(info: MembersInfo, rule: str, view: MemberView | None) -> Member | None:
    """The member when the caller reaches them under `rule`; null for an unknown member. Forbidden otherwise."""
    if view is None:
        return None
    scope = member_scope(info, rule)
    if scope is None or not await covers(info, scope, view):
        raise Forbidden("the member is outside the caller's stores")
    return Member.of(view)


@strawberry.type
class Query:
    @strawberry.field(
        description="The member the token speaks for; null for a token that is not a member's (staff, partners, "
        "services and operations have no member of their own)."
    )
    async def me(self, info: MembersInfo) -> Member | None:
        principal = principal_of(info)
        if principal.role is not Role.MEMBER:
            return None
        try:
            member_id = uuid.UUID(principal.subject)
        except ValueError:
            return None
        view = await info.context.loaders(member_by_id).load(member_id)
        return None if view is None else Member.of(view)

    @strawberry.field(
        description=f"One member by id, or null when there is none. {SCOPED}", permission_classes=[Authorized]
    )
    async def member(
        self, info: MembersInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The member's id.")]
    ) -> Member | None:
        view = await info.context.loaders(member_by_id).load(id)
        return None if view is None else Member.of(view)

    @strawberry.field(
        description=f"Members in registration order, at most {MAX_PAGE} a page, limited to the members the caller "
        f"reaches (staff: their stores; supervisors: their regions; {PARTNERS}).",
        permission_classes=[Authorized],
    )
    async def members(
        self,
        info: MembersInfo,
        filter: Annotated[MembersFilter | None, strawberry.argument(description="Conditions.")] = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Member]:
        # Both are checked before any SQL: a bad size or a foreign cursor never reaches the database.
        limit, position = page_size(first), MEMBERS.position(after)
        scope = member_scope(info, "Query.members")
        where = filter.query() if filter else None
        rows = await service.list_members(_uow(info), limit=limit + 1, after=position, where=where, scope=scope)
        return page_of(
            rows,
            limit,
            node=Member.of,
            cursor=lambda view: MEMBERS.cursor(view.registered_at, view.id),
            counter=partial(service.count, _uow(info), where, scope),
        )

    @strawberry.field(
        description="The member registered with this mobile (exact match through its keyed fingerprint), or null. "
        f"Staff, operations, services and partners; {SCOPED}",
        permission_classes=[Authorized],
    )
    async def member_by_mobile(
        self,
        info: MembersInfo,
        mobile: Annotated[str, strawberry.argument(description="Mainland China mobile; +86, spaces, dashes ok.")],
    ) -> Member | None:
        try:
            view = await service.member_by_mobile(_uow(info), info.context.vault, mobile)
        except InvalidMobile as error:
            raise BadUserInput(error.message) from error
        return await _visible(info, "Query.memberByMobile", view)

    @strawberry.field(
        description="The member with this WeChat unionid, or with this openid in this app (give `unionid`, or "
        f"`appId` and `openid`), or null. Staff, operations, services and partners; {SCOPED}",
        permission_classes=[Authorized],
    )
    async def member_by_wechat(
        self,
        info: MembersInfo,
        unionid: Annotated[str | None, strawberry.argument(description="The WeChat unionid.")] = None,
        app_id: Annotated[str | None, strawberry.argument(description="The app of `openid`.")] = None,
        openid: Annotated[str | None, strawberry.argument(description="The openid in `appId`.")] = None,
    ) -> Member | None:
        if not unionid and not (app_id and openid):
            raise BadUserInput("give a unionid, or an appId and an openid")
        view = await service.member_by_wechat(_uow(info), unionid=unionid, app_id=app_id, openid=openid)
        return await _visible(info, "Query.memberByWechat", view)
