"""The VIP and lifecycle features in the community subgraph: applyForVip, grantEntryException, and the batch
mutations the lifecycle flows call (graduateVipMembers, reviewVipMembers, sunsetBasicGroup)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Protocol

import strawberry

from community.config import CommunitySettings
from community.context import CommunityInfo
from community.groups.errors import CommunityErrorCode
from community.groups.graphql import InvalidGroupError, WrongPhaseError
from community.groups.models import GroupType
from community.inputs import day, text
from community.lifecycle.service import sunset_group
from community.memberships.graphql import GroupFullError, GroupNotFoundError, UnknownMemberError
from community.scopes import Scope, requires
from community.uow import CommunityUnitOfWork
from community.vip.errors import NotQualified
from community.vip.models import ExceptionReason
from community.vip.service import BATCH_MAX, apply_for_vip, graduate_batch, grant_entry_exception, review_batch
from community.vip.views import BatchOutcome
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import BadUserInput, Error, error_handlers

graphql_enum(
    ExceptionReason,
    "Why a member may enter a group type without meeting its entry rule.",
    {
        "LONG_STANDING_BUYER": "A long-standing buyer.",
        "HIGH_ORDER_VALUE": "High order value.",
        "INFLUENCER": "An influencer.",
    },
)


GroupIdArg = Annotated[uuid.UUID, strawberry.argument(description="The group to work on.")]


@strawberry.type(
    description="The member does not meet the VIP entry rule and has no exception; the message says "
    "why (spend in the window, tier). The application is recorded as refused."
)
class NotQualifiedError(Error):
    code: CommunityErrorCode = strawberry.field(description="COMMUNITY_NOT_QUALIFIED.")
    spent_fen: int = strawberry.field(description="What the member spent, net of refunds, in the window.")
    needed_fen: int = strawberry.field(description="What the rule asks for.")


HANDLERS = error_handlers({NotQualified: NotQualifiedError})

BatchSize = Annotated[int, strawberry.argument(description=f"Members per batch, 1 to {BATCH_MAX}.")]
AfterMember = Annotated[
    uuid.UUID | None, strawberry.argument(description="Continue after this member id (the last batch's `nextAfter`).")
]
AsOf = Annotated[date, strawberry.argument(description="The day to act for (to simulate, any day).")]


@strawberry.type(description="What one batch did.")
class LifecycleBatchSuccess:
    scanned: int = strawberry.field(description="Members looked at.")
    created: int = strawberry.field(description="Tasks created now.")
    unchanged: int = strawberry.field(description="Tasks that already existed (a re-run), or warnings still in grace.")
    skipped: int = strawberry.field(description="Members who needed nothing.")
    next_after: uuid.UUID | None = strawberry.field(description="Pass as `after` for the next batch; null: done.")

    @classmethod
    def of(cls, o: BatchOutcome) -> LifecycleBatchSuccess:
        return cls(
            scanned=o.scanned, created=o.created, unchanged=o.unchanged, skipped=o.skipped, next_after=o.next_after
        )


@strawberry.type(description="The sunset tasks of one basic group for the day.")
class SunsetBasicGroupSuccess:
    created: int = strawberry.field(description="Tasks created now (notice, moves, dissolve).")
    unchanged: int = strawberry.field(description="Tasks that already existed.")
    week: int | None = strawberry.field(description="The week of the dissolution (0–3), null in month 7.")


@strawberry.type(description="The member was invited: an invitation task into a VIP group.")
class ApplyForVipSuccess:
    application_id: uuid.UUID = strawberry.field(description="The recorded application.")
    task_id: uuid.UUID = strawberry.field(description="The invitation task.")
    target_group_id: uuid.UUID = strawberry.field(description="The VIP group (possibly planned) they are invited to.")


@strawberry.type(description="The exception is logged.")
class GrantEntryExceptionSuccess:
    member_id: uuid.UUID = strawberry.field(description="The member.")
    approver: str = strawberry.field(description="Who approved it (the caller).")


LifecycleBatchPayload = Annotated[
    LifecycleBatchSuccess | GroupNotFoundError | InvalidGroupError | WrongPhaseError,
    strawberry.union("LifecycleBatchPayload", description="The outcome of one lifecycle batch."),
]
SunsetBasicGroupPayload = Annotated[
    SunsetBasicGroupSuccess | GroupNotFoundError | InvalidGroupError | WrongPhaseError,
    strawberry.union("SunsetBasicGroupPayload", description="The outcome of sunsetBasicGroup."),
]
ApplyForVipPayload = Annotated[
    ApplyForVipSuccess | NotQualifiedError | UnknownMemberError | InvalidGroupError | GroupFullError,
    strawberry.union("ApplyForVipPayload", description="The outcome of applyForVip."),
]
GrantEntryExceptionPayload = Annotated[
    GrantEntryExceptionSuccess | UnknownMemberError,
    strawberry.union("GrantEntryExceptionPayload", description="The outcome of grantEntryException."),
]


class _BatchUseCase(Protocol):
    async def __call__(
        self,
        uow: CommunityUnitOfWork,
        settings: CommunitySettings,
        *,
        group_id: uuid.UUID,
        as_of: date,
        limit: int,
        after: uuid.UUID | None = None,
    ) -> BatchOutcome: ...


async def _run_batch(
    use_case: _BatchUseCase, info: CommunityInfo, group_id: uuid.UUID, as_of: date, first: int, after: uuid.UUID | None
) -> LifecycleBatchSuccess:
    """One batch of a group's members through `use_case` (graduation or review), after checking the batch size."""
    if not 1 <= first <= BATCH_MAX:
        raise BadUserInput(f"a batch is 1 to {BATCH_MAX} members")
    outcome = await use_case(
        CommunityUnitOfWork(info.context.sessions),
        info.context.settings,
        group_id=group_id,
        as_of=day(as_of),
        limit=first,
        after=after,
    )
    return LifecycleBatchSuccess.of(outcome)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="VIP graduation, one batch of a basic group in months 4–6: invite members who qualify on `asOf` "
        "and are in no VIP group into a VIP group of the same scope (planning the next VIP group when all are "
        "full). Idempotent for the same day. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def graduate_vip_members(
        self, info: CommunityInfo, group_id: GroupIdArg, as_of: AsOf, first: BatchSize = 100, after: AfterMember = None
    ) -> LifecycleBatchPayload:
        return await _run_batch(graduate_batch, info, group_id, as_of, first, after)

    @strawberry.mutation(
        description="VIP monthly review (月度核查), one batch of a VIP group: warn members who no longer qualify on "
        "`asOf`; after the grace period a removal task (into the buffer group when set). Idempotent for the same "
        "day. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def review_vip_members(
        self, info: CommunityInfo, group_id: GroupIdArg, as_of: AsOf, first: BatchSize = 100, after: AfterMember = None
    ) -> LifecycleBatchPayload:
        return await _run_batch(review_batch, info, group_id, as_of, first, after)

    @strawberry.mutation(
        description="Basic-group sunset for `asOf`: month 7 a notice task offering the warehouse's buffer group; month "
        "8 move tasks in weekly batches (none for members already in the buffer group) and, in the last week, the "
        "dissolve task. Idempotent for the same day. "
        "Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def sunset_basic_group(
        self, info: CommunityInfo, group_id: GroupIdArg, as_of: AsOf
    ) -> SunsetBasicGroupPayload:
        outcome = await sunset_group(
            CommunityUnitOfWork(info.context.sessions), info.context.settings, group_id=group_id, as_of=day(as_of)
        )
        return SunsetBasicGroupSuccess(created=outcome.created, unchanged=outcome.unchanged, week=outcome.week)

    @strawberry.mutation(
        description="A member applies for a VIP group with their contact; checked against the entry rule on `asOf` "
        "(today when omitted). Qualified: an invitation task (GroupFullError while every VIP group of the scope, "
        "the planned one included, is full). Refused: NotQualifiedError saying why. Needs "
        "groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def apply_for_vip(
        self,
        info: CommunityInfo,
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The applying member.")],
        wechat_id: Annotated[str | None, strawberry.argument(description="Their WeChat id, up to 64.")] = None,
        mobile: Annotated[str | None, strawberry.argument(description="Their mobile (only the last 4 kept).")] = None,
        as_of: Annotated[date | None, strawberry.argument(description="The day; today when omitted.")] = None,
    ) -> ApplyForVipPayload:
        if mobile is not None and not (mobile.isdigit() and 4 <= len(mobile) <= 20):
            raise BadUserInput("a mobile is 4 to 20 digits")
        app = await apply_for_vip(
            CommunityUnitOfWork(info.context.sessions),
            info.context.settings,
            member_id=member_id,
            as_of=day(as_of or date.today()),
            wechat_id=text(wechat_id, 64, "wechatId"),
            mobile=mobile,
        )
        return ApplyForVipSuccess(
            application_id=app.application_id, task_id=app.task_id, target_group_id=app.target_group_id
        )

    @strawberry.mutation(
        description="Log an exception to the VIP entry rule for a member, with the reason; the caller is the "
        "approver. Needs groups:write.",
        permission_classes=[requires(Scope.GROUPS_WRITE)],
    )
    async def grant_entry_exception(
        self,
        info: CommunityInfo,
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The member let in despite the rule.")],
        reason: Annotated[ExceptionReason, strawberry.argument(description="Why the rule is waived.")],
        note: Annotated[str | None, strawberry.argument(description="Details, up to 500 characters.")] = None,
    ) -> GrantEntryExceptionPayload:
        approver = info.context.principal.subject if info.context.principal else "unknown"
        row = await grant_entry_exception(
            CommunityUnitOfWork(info.context.sessions),
            member_id=member_id,
            group_type=GroupType.VIP,
            reason=reason,
            note=text(note, 500, "note"),
            approver=approver,
        )
        return GrantEntryExceptionSuccess(member_id=row.member_id, approver=row.approver)
