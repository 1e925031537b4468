"""The memberships feature in the community subgraph: Group.members, Member.groups, joinGroup and its errors.

Group (groups feature) inherits GroupMembers from here, and Member is assembled in schema.py from every feature's
mixins, so this module names both lazily: importing them here would close an import cycle.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from community.context import CommunityInfo
from community.directory.errors import UnknownMember
from community.groups.errors import CommunityErrorCode, GroupNotActive
from community.groups.models import GroupStatus
from community.groups.repository import Position
from community.groups.views import GroupView
from community.inputs import text
from community.memberships.errors import GroupFull, GroupNotFound, NotAMember, QrCodeFull, QrJoinsClosed
from community.memberships.models import GroupRole, JoinChannel
from community.memberships.service import (
    SYNC_MAX,
    attach_join_qr,
    groups_by_member_ids,
    join_group,
    leave_group,
    membership_pages,
    set_group_role,
    sync_group_members,
)
from community.memberships.views import MembershipView
from community.scopes import Scope, requires, self_or
from community.uow import CommunityUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import BadUserInput, Error, error_handlers

if TYPE_CHECKING:
    from community.groups.graphql import Group
    from community.schema import Member

# Registered here, not beside InvalidGroupError: groups/graphql.py imports this module first, and an enum must be
# registered before the first type that uses it.
graphql_enum(
    CommunityErrorCode,
    "Codes of the community service's expected errors.",
    {
        "COMMUNITY_INVALID_GROUP": "The group breaks a rule (capacity, scope name or name).",
        "COMMUNITY_GROUP_FULL": "The group already has as many members as its capacity.",
        "COMMUNITY_GROUP_NOT_FOUND": "No group has this id.",
        "COMMUNITY_UNKNOWN_MEMBER": "No active member has this id: never registered, not yet known to community, "
        "or closed.",
        "COMMUNITY_GROUP_NOT_ACTIVE": "The group is planned (not yet opened in WeCom) or closed.",
        "COMMUNITY_CHAT_ID_TAKEN": "The WeCom chat id belongs to another group, or the group has another one.",
        "COMMUNITY_WRONG_PHASE": "The group is not in the lifecycle phase the operation needs.",
        "COMMUNITY_QR_JOINS_CLOSED": "The group has 200 members: WeCom stops QR-code joins (use the invite link).",
        "COMMUNITY_QR_CODE_FULL": "The join QR code already serves 5 groups, WeCom's limit.",
        "COMMUNITY_NOT_A_MEMBER": "The member is not in the group.",
        "COMMUNITY_TASK_NOT_FOUND": "No task has this id.",
        "COMMUNITY_TASK_CLOSED": "The task is already done, skipped or expired.",
        "COMMUNITY_NOT_QUALIFIED": "The member does not meet the VIP entry rule and has no exception.",
    },
)
graphql_enum(
    GroupStatus,
    "Where a group is in its life (WeCom has no API to create or dissolve groups: staff confirm both).",
    {
        "PLANNED": "The system needs it; a create-group task asks a steward to open it in WeCom.",
        "ACTIVE": "Open in WeCom: a steward confirmed its chat id.",
        "CLOSED": "Dissolved.",
    },
)
graphql_enum(
    GroupRole,
    "A person's role inside one group.",
    {
        "OWNER": "群主: the staff member who owns the group.",
        "OPINION_LEADER": "意见领袖: a member who leads opinion in the group.",
        "ADMIN": "管理员: helps the owner run the group.",
        "STEWARD": "小管家: the staff member measured on the group's orders.",
        "CONTENT_EDITOR": "Runs the group's activities and posts.",
        "MEMBER": "An ordinary member.",
    },
)
graphql_enum(
    JoinChannel,
    "How a member came into a group; channels differ in speed and member quality.",
    {
        "STREET_PROMOTION": "地推: street promotion.",
        "STORE_QR": "门店扫码: scanned the store's QR code.",
        "DM_FLYER_QR": "DM 单页扫码: scanned the QR code on a flyer.",
        "FRIEND_INVITE": "Invited by a friend.",
        "ACTIVITY_PAGE": "Came from an activity page.",
        "ADS": "Came from an advertisement.",
        "OFFICIAL_ACCOUNT_MENU": "公众号菜单: the official account's menu.",
        "INVITE_LINK": "邀请链接: the group's invite link (after QR joins stop at 200).",
        "STAFF_INVITE": "Pulled in by a staff member (an invitation task).",
        "GROUP_TRANSFER": "Moved from another group (e.g. a dissolving basic group to its buffer group).",
    },
)

MEMBERS = Keyset("group-members")


def _group(view: GroupView) -> Group:
    from community.groups.graphql import Group  # imported here: see the module docstring

    return Group.of(view)


def _member(member_id: uuid.UUID) -> Member:
    from community.schema import Member  # imported here: see the module docstring

    return Member(id=member_id)


# -------------------------------------------------------------------------------------------------- errors


@strawberry.type(description="The group already has as many members as its capacity; open the next group instead.")
class GroupFullError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_GROUP_FULL.")
    capacity: int = strawberry.field(description="The group's capacity, which it has reached.")


@strawberry.type(description="No group has this id (or this WeCom chat id).")
class GroupNotFoundError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_GROUP_NOT_FOUND.")
    group_id: uuid.UUID | None = strawberry.field(
        description="The id that matched no group; null when the group was named by its chat id."
    )


@strawberry.type(description="The group is planned (not yet opened in WeCom) or closed; nothing was changed.")
class GroupNotActiveError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_GROUP_NOT_ACTIVE.")
    group_id: uuid.UUID = strawberry.field(description="The group.")
    status: GroupStatus = strawberry.field(description="Its status.")


@strawberry.type(
    description="The group has 200 members or more: WeCom no longer honours QR-code joins. Use the "
    "invite link or a staff invitation."
)
class QrJoinsClosedError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_QR_JOINS_CLOSED.")
    member_count: int = strawberry.field(description="The group's members now.")


@strawberry.type(description="The join QR code already serves 5 groups, WeCom's limit.")
class QrCodeFullError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_QR_CODE_FULL.")
    qr_code: str = strawberry.field(description="The QR code.")


@strawberry.type(description="The member is not in the group.")
class NotAMemberError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_NOT_A_MEMBER.")
    group_id: uuid.UUID = strawberry.field(description="The group.")
    member_id: uuid.UUID = strawberry.field(description="The member.")


@strawberry.type(
    name="CommunityUnknownMemberError",
    description="No active member has this id: the members service never registered them (or community has not "
    "heard of the registration yet, usually for well under a second), or they were closed. Nothing was changed.",
)
class UnknownMemberError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_UNKNOWN_MEMBER.")
    member_id: uuid.UUID = strawberry.field(description="The id that matched no active member.")


HANDLERS = error_handlers(
    {
        GroupFull: GroupFullError,
        GroupNotFound: GroupNotFoundError,
        UnknownMember: UnknownMemberError,
        GroupNotActive: GroupNotActiveError,
        QrJoinsClosed: QrJoinsClosedError,
        QrCodeFull: QrCodeFullError,
        NotAMember: NotAMemberError,
    }
)


# --------------------------------------------------------------------------------------------- loaders


@dataclass(frozen=True, slots=True)
class MembershipPageKey:
    """Which page of which group's members: groups asked with the same size and position share one query."""

    group_id: uuid.UUID
    limit: int
    after: Position | None


async def membership_page_by_key(
    sessions: SessionFactory, keys: Sequence[MembershipPageKey]
) -> list[list[MembershipView]]:
    """Pages of several groups' members: one SELECT per distinct (size, position), whatever the groups."""
    by_window: dict[tuple[int, Position | None], list[uuid.UUID]] = defaultdict(list)
    for key in keys:
        by_window[(key.limit, key.after)].append(key.group_id)
    pages: dict[MembershipPageKey, list[MembershipView]] = {}
    for (limit, after), group_ids in by_window.items():
        found = await membership_pages(CommunityUnitOfWork(sessions), group_ids, limit=limit, after=after)
        pages.update({MembershipPageKey(group_id, limit, after): rows for group_id, rows in found.items()})
    return [pages[key] for key in keys]


async def groups_by_member_id(sessions: SessionFactory, member_ids: Sequence[uuid.UUID]) -> list[list[GroupView]]:
    """Each member's first groups in joining order, for a batch of members, in one SELECT."""
    return await groups_by_member_ids(CommunityUnitOfWork(sessions), member_ids, limit=MAX_PAGE)


# ----------------------------------------------------------------------------------------------- types


@strawberry.type(description="A member's place in a group.")
class GroupMembership:
    member: Annotated[Member, strawberry.lazy("community.schema")] = strawberry.field(
        description="The member; the gateway fetches their details from the members service."
    )
    role: GroupRole = strawberry.field(description="The member's role in the group.")
    channel: JoinChannel = strawberry.field(description="How the member came into the group.")
    joined_at: datetime = strawberry.field(description="When the member joined the group.")

    @classmethod
    def of(cls, view: MembershipView) -> GroupMembership:
        return cls(member=_member(view.member_id), role=view.role, channel=view.channel, joined_at=view.joined_at)


@strawberry.type
class GroupMembers:
    """The members field of Group; the groups feature's Group inherits it."""

    id: uuid.UUID
    member_count: int

    @strawberry.field(
        description=f"The group's members in joining order; at most {MAX_PAGE} a page. Needs groups:read.",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def members(
        self, info: CommunityInfo, first: PageSize = DEFAULT_PAGE, after: After = None
    ) -> Connection[GroupMembership]:
        limit = page_size(first)
        key = MembershipPageKey(self.id, limit + 1, MEMBERS.position(after))
        rows = await info.context.loaders(membership_page_by_key).load(key)
        member_count = self.member_count

        async def total() -> int:
            # Kept in step with the rows by every join, under the group's lock: no need to count them.
            return member_count

        return page_of(
            rows,
            limit,
            node=GroupMembership.of,
            cursor=lambda m: MEMBERS.cursor(m.joined_at, m.member_id),
            counter=total,
        )


@strawberry.type
class MemberGroups:
    """The groups field of the federated Member."""

    id: uuid.UUID

    @strawberry.field(
        description=f"The groups the member is in, in joining order; the first {MAX_PAGE}. Members may read only "
        "their own groups; others need groups:read.",
        permission_classes=[self_or(Scope.GROUPS_READ)],
    )
    async def groups(self, info: CommunityInfo) -> list[Annotated[Group, strawberry.lazy("community.groups.graphql")]]:
        return [_group(view) for view in await info.context.loaders(groups_by_member_id).load(self.id)]


# ------------------------------------------------------------------------------------------- mutations


@strawberry.type(description="The member is in the group: newly joined, or already there.")
class JoinGroupSuccess:
    group: Annotated[Group, strawberry.lazy("community.groups.graphql")] = strawberry.field(
        description="The group, with its member count after the join."
    )
    membership: GroupMembership = strawberry.field(description="The member's place in the group.")
    already_member: bool = strawberry.field(
        description="True when the member was already in the group (nothing was changed)."
    )


JoinGroupPayload = Annotated[
    JoinGroupSuccess
    | GroupFullError
    | GroupNotFoundError
    | UnknownMemberError
    | GroupNotActiveError
    | QrJoinsClosedError,
    strawberry.union("JoinGroupPayload", description="The outcome of joinGroup."),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Put a member into a group as an ordinary member. Idempotent: joining a group one is already "
        "in succeeds with alreadyMember=true and changes nothing. A full group answers GroupFullError; a member "
        "community does not know as active answers CommunityUnknownMemberError; a planned or closed group "
        "GroupNotActiveError; a QR-code channel once the group has 200 members QrJoinsClosedError. When a basic "
        "group fills, the next numbered group of its scope is planned (once). "
        "Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def join_group(
        self,
        info: CommunityInfo,
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The group to join.")],
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The member who joins.")],
        channel: Annotated[JoinChannel, strawberry.argument(description="How the member came in.")],
    ) -> JoinGroupPayload:
        joining = await join_group(
            CommunityUnitOfWork(info.context.sessions),
            group_id=group_id,
            member_id=member_id,
            channel=channel,
            settings=info.context.settings,
        )
        return JoinGroupSuccess(
            group=_group(joining.group),
            membership=GroupMembership.of(joining.membership),
            already_member=joining.already_member,
        )

    @strawberry.mutation(
        description="Take a member out of a group (they quit, or staff removed them). Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def leave_group(
        self,
        info: CommunityInfo,
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The group.")],
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The member who leaves.")],
    ) -> LeaveGroupPayload:
        view = await leave_group(CommunityUnitOfWork(info.context.sessions), group_id=group_id, member_id=member_id)
        return LeaveGroupSuccess(group=_group(view))

    @strawberry.mutation(
        description="Give a member of the group a role (owner, opinion leader, admin, steward, content editor, "
        "member). Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def set_group_role(
        self,
        info: CommunityInfo,
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The group.")],
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The member.")],
        role: Annotated[GroupRole, strawberry.argument(description="The new role.")],
    ) -> SetGroupRolePayload:
        view = await set_group_role(
            CommunityUnitOfWork(info.context.sessions), group_id=group_id, member_id=member_id, role=role
        )
        return SetGroupRoleSuccess(membership=GroupMembership.of(view))

    @strawberry.mutation(
        description=f"Make the group with this WeCom chat id hold exactly these members (its list from WeCom "
        f"events or an import, at most {SYNC_MAX}): new ones join through `channel`, missing ones quit. "
        "Idempotent: the same list again changes nothing. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def sync_group_members(
        self,
        info: CommunityInfo,
        chat_id: Annotated[str, strawberry.argument(description="The group's WeCom chat id.")],
        members: Annotated[
            list[uuid.UUID], strawberry.argument(description=f"Every member in the group now; at most {SYNC_MAX}.")
        ],
        channel: Annotated[
            JoinChannel, strawberry.argument(description="How the new members came in.")
        ] = JoinChannel.INVITE_LINK,
    ) -> SyncGroupMembersPayload:
        if len(members) > SYNC_MAX:
            raise BadUserInput(f"at most {SYNC_MAX} members")
        synced = await sync_group_members(
            CommunityUnitOfWork(info.context.sessions),
            chat_id=text(chat_id, 128, "chatId") or "",
            member_ids=members,
            channel=channel,
            settings=info.context.settings,
        )
        return SyncGroupMembersSuccess(group=_group(synced.group), joined=synced.joined, left=synced.left)

    @strawberry.mutation(
        description="Let a join QR code (活码) serve this group too; one code serves at most 5 groups (WeCom), "
        "dissolved groups not counted. A closed group answers GroupNotActiveError. Idempotent. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def attach_join_qr(
        self,
        info: CommunityInfo,
        qr_code: Annotated[str, strawberry.argument(description="The QR code's id, 1 to 64 characters.")],
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The group it should serve.")],
    ) -> AttachJoinQrPayload:
        if not 0 < len(qr_code) <= 64 or not qr_code.isprintable():
            raise BadUserInput("a QR code id is 1 to 64 printable characters")
        served = await attach_join_qr(CommunityUnitOfWork(info.context.sessions), code=qr_code, group_id=group_id)
        return AttachJoinQrSuccess(qr_code=qr_code, group_ids=served)


@strawberry.type(description="The member left the group.")
class LeaveGroupSuccess:
    group: Annotated[Group, strawberry.lazy("community.groups.graphql")] = strawberry.field(
        description="The group after the member left."
    )


@strawberry.type(description="The member's role was changed.")
class SetGroupRoleSuccess:
    membership: GroupMembership = strawberry.field(description="The member's place in the group, with the new role.")


@strawberry.type(description="The group's members are the synced list.")
class SyncGroupMembersSuccess:
    group: Annotated[Group, strawberry.lazy("community.groups.graphql")] = strawberry.field(
        description="The group after the sync."
    )
    joined: int = strawberry.field(description="Members who joined with this sync.")
    left: int = strawberry.field(description="Members who quit with this sync.")


@strawberry.type(description="The QR code serves the group.")
class AttachJoinQrSuccess:
    qr_code: str = strawberry.field(description="The QR code.")
    group_ids: list[uuid.UUID] = strawberry.field(
        description="Every open or planned group the code serves (at most 5), in id order."
    )


LeaveGroupPayload = Annotated[
    LeaveGroupSuccess | GroupNotFoundError | NotAMemberError,
    strawberry.union("LeaveGroupPayload", description="The outcome of leaveGroup."),
]
SetGroupRolePayload = Annotated[
    SetGroupRoleSuccess | GroupNotFoundError | NotAMemberError,
    strawberry.union("SetGroupRolePayload", description="The outcome of setGroupRole."),
]
SyncGroupMembersPayload = Annotated[
    SyncGroupMembersSuccess
    | GroupNotFoundError
    | GroupNotActiveError
    | UnknownMemberError
    | GroupFullError
    | QrJoinsClosedError,
    strawberry.union("SyncGroupMembersPayload", description="The outcome of syncGroupMembers."),
]
AttachJoinQrPayload = Annotated[
    AttachJoinQrSuccess | GroupNotFoundError | GroupNotActiveError | QrCodeFullError,
    strawberry.union("AttachJoinQrPayload", description="The outcome of attachJoinQr."),
]
