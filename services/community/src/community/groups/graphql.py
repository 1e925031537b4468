"""The groups feature in the community subgraph: the Group type, group(id), groups(…), createGroup and its error."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from functools import partial
from typing import Annotated

import strawberry

from community.context import CommunityInfo
from community.groups.errors import ChatIdTaken, CommunityErrorCode, InvalidGroup, WrongPhase
from community.groups.models import GroupStatus, GroupType, ScopeKind
from community.groups.rules import Phase
from community.groups.service import (
    activate_group,
    create_group,
    group_count,
    group_page,
    groups_by_ids,
    plan_group,
    vip_counts,
)
from community.groups.views import GroupView
from community.inputs import day, text
from community.memberships.graphql import GroupMembers, GroupNotActiveError, GroupNotFoundError
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

graphql_enum(
    Phase,
    "Where a basic group is in its life, by whole months since it opened.",
    {
        "BUILD": "建群, months 0–3: intake and repurchase promotions.",
        "LAYER": "分层, months 4–6: qualified members graduate to VIP groups.",
        "NOTICE": "通知, month 7: the dissolution is announced; members are offered the buffer group.",
        "DISSOLVE": "解散, month 8 on: members move to the buffer group in weekly batches; the group is dissolved.",
    },
)

GROUPS = Keyset("groups")
AsOf = Annotated[date, strawberry.argument(description="The day to answer for (to simulate, any day).")]


# -------------------------------------------------------------------------------------------------- errors


@strawberry.type(
    description="The group breaks a rule: capacity outside 1..500 (WeCom's cap), or a scope name or name that is "
    "empty, longer than 64 characters or has control characters."
)
class InvalidGroupError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_INVALID_GROUP.")


@strawberry.type(description="The WeCom chat id belongs to another group, or the group already has another one.")
class ChatIdTakenError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_CHAT_ID_TAKEN.")
    chat_id: str = strawberry.field(description="The chat id asked for.")


@strawberry.type(description="The group is not in the lifecycle phase the operation needs; nothing was changed.")
class WrongPhaseError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_WRONG_PHASE.")
    phase: Phase | None = strawberry.field(description="The group's phase on the date asked (null: not yet open).")
    months: int | None = strawberry.field(description="Whole months since it opened on the date asked.")


HANDLERS = error_handlers({InvalidGroup: InvalidGroupError, ChatIdTaken: ChatIdTakenError, WrongPhase: WrongPhaseError})


# --------------------------------------------------------------------------------------------- loaders


async def group_by_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[GroupView | None]:
    """Groups for a batch of ids (None where there is none), in one SELECT."""
    return await groups_by_ids(CommunityUnitOfWork(sessions), ids)


async def vip_count_by_group_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[int]:
    """For a batch of groups, how many of each one's members are in an active VIP group, in one SELECT."""
    return await vip_counts(CommunityUnitOfWork(sessions), ids)


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
    status: GroupStatus = strawberry.field(description="Planned, active (open in WeCom) or closed.")
    chat_id: str | None = strawberry.field(description="Its WeCom chat id, once a steward confirmed it.")
    warehouse: str | None = strawberry.field(description="The warehouse whose buffer group takes its members.")
    steward: str | None = strawberry.field(description="The staff member (小管家) its tasks go to by default.")
    opened_on: date | None = strawberry.field(description="When it opened in WeCom: month 0 of its lifecycle.")
    closed_on: date | None = strawberry.field(description="When it was dissolved.")
    view: strawberry.Private[GroupView]

    @strawberry.field(description="Its lifecycle phase on `asOf` (basic groups only; null otherwise or while planned).")
    def phase(self, as_of: AsOf) -> Phase | None:
        return self.view.phase(day(as_of))

    @strawberry.field(description="Whole months since it opened, on `asOf` (null while planned).")
    def months_open(self, as_of: AsOf) -> int | None:
        return self.view.months_open(day(as_of))

    @strawberry.field(
        description="Members now, joins and quits since it opened, and how many members are in a VIP "
        "group. Needs groups:read.",
        permission_classes=[requires(Scope.GROUPS_READ)],
    )
    async def stats(self, info: CommunityInfo) -> GroupStatsType:
        vips = await info.context.loaders(vip_count_by_group_id).load(self.view.id)
        view = self.view
        return GroupStatsType(members=view.member_count, joined=view.joined_total, quit=view.quit_total, vip_count=vips)

    @classmethod
    def of(cls, view: GroupView) -> Group:
        return cls(
            view=view,
            status=view.status,
            chat_id=view.chat_id,
            warehouse=view.warehouse,
            steward=view.steward,
            opened_on=view.opened_on,
            closed_on=view.closed_on,
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


@strawberry.type(name="GroupStats", description="A group's counts.")
class GroupStatsType:
    members: int = strawberry.field(description="Members now.")
    joined: int = strawberry.field(description="Joins since it opened.")
    quit: int = strawberry.field(description="Quits since it opened (including moves out).")
    vip_count: int = strawberry.field(description="Its members who are in an active VIP group.")


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
        status: Annotated[
            GroupStatus | None, strawberry.argument(description="Only groups with this status; all when omitted.")
        ] = None,
    ) -> Connection[Group]:
        limit = page_size(first)
        uow = CommunityUnitOfWork(info.context.sessions)
        rows = await group_page(uow, limit=limit + 1, after=GROUPS.position(after), group_type=type, status=status)
        return page_of(
            rows,
            limit,
            node=Group.of,
            cursor=lambda g: GROUPS.cursor(g.created_at, g.id),
            counter=partial(group_count, CommunityUnitOfWork(info.context.sessions), group_type=type, status=status),
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
    opened_on: date | None = strawberry.field(
        default=None, description="When it opened in WeCom (month 0 of its lifecycle); today when omitted."
    )
    warehouse: str | None = strawberry.field(
        default=None, description="The warehouse whose buffer group takes its members at the end (basic groups)."
    )
    steward: str | None = strawberry.field(default=None, description="The staff member its tasks go to.")
    chat_id: str | None = strawberry.field(default=None, description="Its WeCom chat id, when already known.")


@strawberry.type(description="The group that was opened.")
class CreateGroupSuccess:
    group: Group = strawberry.field(description="The new group, numbered after the others of its type and scope.")


CreateGroupPayload = Annotated[
    CreateGroupSuccess | InvalidGroupError | ChatIdTakenError,
    strawberry.union("CreateGroupPayload", description="The outcome of createGroup."),
]


@strawberry.input(description="The group to plan: its type and the place it serves.")
class PlanGroupInput:
    type: GroupType = strawberry.field(description="What the group is for.")
    scope_kind: ScopeKind = strawberry.field(description="What kind of place it serves.")
    scope_name: str = strawberry.field(description="The place's name, 1 to 64 characters.")
    warehouse: str | None = strawberry.field(default=None, description="The warehouse of its buffer group.")
    steward: str | None = strawberry.field(default=None, description="Who gets its create-group task.")
    as_of: date | None = strawberry.field(default=None, description="The day the task is for; today when omitted.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record a group a staff member opens in WeCom (which has no API for it). Without a name it is "
        "named by the template, numbered after the others of its type and scope. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def create_group(
        self,
        info: CommunityInfo,
        input: Annotated[
            CreateGroupInput, strawberry.argument(description="The group to create: type, scope, names and capacity.")
        ],
    ) -> CreateGroupPayload:
        view = await create_group(
            CommunityUnitOfWork(info.context.sessions),
            info.context.settings,
            group_type=input.type,
            scope_kind=input.scope_kind,
            scope_name=input.scope_name,
            capacity=input.capacity,
            name=input.name,
            opened_on=None if input.opened_on is None else day(input.opened_on, "openedOn"),
            warehouse=input.warehouse,
            steward=text(input.steward, 128, "steward"),
            chat_id=input.chat_id,
        )
        return CreateGroupSuccess(group=Group.of(view))

    @strawberry.mutation(
        description="Plan the next numbered group of a type and scope: a planned group and a create-group task for "
        "its steward (WeCom has no API to create groups). Returns the group already planned when there is one: "
        "never two at once. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def plan_group(
        self,
        info: CommunityInfo,
        input: Annotated[
            PlanGroupInput,
            strawberry.argument(
                description="The group to plan: its type and scope; its number and name follow the scope sequence."
            ),
        ],
    ) -> PlanGroupPayload:
        view = await plan_group(
            CommunityUnitOfWork(info.context.sessions),
            info.context.settings,
            group_type=input.type,
            scope_kind=input.scope_kind,
            scope_name=input.scope_name,
            as_of=day(input.as_of or date.today()),
            warehouse=input.warehouse,
            steward=text(input.steward, 128, "steward"),
        )
        return CreateGroupSuccess(group=Group.of(view))

    @strawberry.mutation(
        description="A steward confirms a planned group is open in WeCom with this chat id (its create-group task is "
        "done with it). Idempotent for the same chat id. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def activate_group(
        self,
        info: CommunityInfo,
        group_id: Annotated[uuid.UUID, strawberry.argument(description="The planned group.")],
        chat_id: Annotated[str, strawberry.argument(description="Its WeCom chat id, 1 to 128 printable ASCII.")],
        opened_on: Annotated[
            date | None, strawberry.argument(description="When it opened; today when omitted.")
        ] = None,
    ) -> ActivateGroupPayload:
        steward = info.context.principal.subject if info.context.principal else None
        view = await activate_group(
            CommunityUnitOfWork(info.context.sessions),
            group_id=group_id,
            chat_id=chat_id,
            opened_on=day(opened_on or date.today(), "openedOn"),
            steward=steward,
        )
        return CreateGroupSuccess(group=Group.of(view))


PlanGroupPayload = Annotated[
    CreateGroupSuccess | InvalidGroupError,
    strawberry.union("PlanGroupPayload", description="The outcome of planGroup."),
]
ActivateGroupPayload = Annotated[
    CreateGroupSuccess | InvalidGroupError | ChatIdTakenError | GroupNotFoundError | GroupNotActiveError,
    strawberry.union("ActivateGroupPayload", description="The outcome of activateGroup."),
]
