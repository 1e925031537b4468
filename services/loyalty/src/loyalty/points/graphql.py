"""The points feature in the loyalty subgraph: accounts, ledger entries, adjustments and their errors."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from functools import partial
from typing import Annotated

import strawberry

from loyalty.context import LoyaltyInfo
from loyalty.dates import local_day
from loyalty.directory.errors import UnknownMember
from loyalty.lots.service import expiring_soon
from loyalty.points.errors import IdempotencyKeyReused, InsufficientPoints, InvalidAdjustment, LoyaltyErrorCode
from loyalty.points.lots import LOCAL
from loyalty.points.models import Bucket, EntryKind
from loyalty.points.service import Adjustment, account_states, adjust_points_batch, ledger_page, ledger_size
from loyalty.points.views import AccountState, EntryView, Posted
from loyalty.scopes import Scope, requires, self_or
from loyalty.tiers.graphql import MemberTierInfo, TierChangeInfo
from loyalty.tiers.service import tier_history, tiers_of
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.connections import (
    DEFAULT_PAGE,
    MAX_PAGE,
    After,
    Connection,
    Keyset,
    PageSize,
    page_of,
    page_size,
)
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import BadUserInput, DomainError, Error, as_union_member, error_handlers

graphql_enum(
    LoyaltyErrorCode,
    "Codes of the loyalty service's expected errors.",
    {
        "LOYALTY_INSUFFICIENT_POINTS": "The debit would take the balance below zero.",
        "LOYALTY_IDEMPOTENCY_KEY_REUSED": "The idempotency key was already used by this caller for another request.",
        "LOYALTY_INVALID_ADJUSTMENT": "Zero or too many points, a missing reason, or a malformed key.",
        "LOYALTY_UNKNOWN_MEMBER": "No active member has this id: never registered, not yet known to loyalty, or "
        "closed.",
    },
)
graphql_enum(
    EntryKind,
    "What produced a ledger entry; the kind fixes the bucket (available, pending, owed) the entry moves.",
    {
        "ADJUSTMENT": "A manual adjustment (积分调整) by staff, operations or a partner system (available).",
        "EARN_PENDING": "An order's points, pending until its lock period ends (pending, positive).",
        "PENDING_RELEASED": "The lock period ended: the order's points leave pending (pending, negative).",
        "EARN": "An order's points becoming available at the end of the lock period (available, positive).",
        "PENDING_CANCELLED": "A refund cancelled an order's pending points (pending, negative).",
        "REVERSAL": "A refund took an order's available points back (available, negative).",
        "OWED": "Points a refund could not take back because they were spent (owed, positive).",
        "OWED_SETTLEMENT": "Newly available points paying owed points back (available, negative).",
        "OWED_SETTLED": "The owed points that settlement paid (owed, negative).",
        "WELCOME": "The card-opening gift (开卡礼) on registration (available, positive).",
        "EXPIRY": "A lot's remaining points lapsed on its expiry date (available, negative).",
        "TIER_GIFT": "The gift (升级礼) of an upgrade to a higher tier (available, positive).",
        "CHECKIN": "The reward of a daily check-in (签到) (available, positive).",
        "CHECKIN_MAKEUP": "The points a make-up check-in (补签) costs (available, negative).",
        "POINTS_PAYMENT": "Points held for, then spent on, paying an order (积分抵现) (available, negative).",
        "POINTS_PAYMENT_RELEASED": "A voided or expired payment hold, given back to its lots (available, positive).",
        "BIRTHDAY": "The birthday points (生日积分) of the member's tier, once a year (available, positive).",
        "OPENING": "A member's opening balance (期初积分) imported from a brand's previous system, once per member, "
        "expiring when that system said (available, positive).",
    },
)
graphql_enum(
    Bucket,
    "Which of a member's totals a ledger entry moves.",
    {
        "AVAILABLE": "The balance: points the member can spend.",
        "PENDING": "Points of orders still in their lock period.",
        "OWED": "Points refunds could not take back, settled from future earnings.",
    },
)

LEDGER = Keyset("ledger")


# -------------------------------------------------------------------------------------------------- errors


@strawberry.type(description="The debit would take the balance below zero; nothing was changed.")
class InsufficientPointsError(Error):
    code: LoyaltyErrorCode = strawberry.field(description="LOYALTY_INSUFFICIENT_POINTS.")
    balance: int = strawberry.field(description="The balance when the debit was refused.")
    requested: int = strawberry.field(description="The points the adjustment asked for (negative).")


@strawberry.type(
    description="This caller already used the idempotency key for a different request; nothing was changed."
)
class IdempotencyKeyReusedError(Error):
    code: LoyaltyErrorCode = strawberry.field(description="LOYALTY_IDEMPOTENCY_KEY_REUSED.")


@strawberry.type(description="Zero or too many points, a missing reason, or a malformed key; nothing was changed.")
class InvalidAdjustmentError(Error):
    code: LoyaltyErrorCode = strawberry.field(description="LOYALTY_INVALID_ADJUSTMENT.")


@strawberry.type(
    name="LoyaltyUnknownMemberError",
    description="No active member has this id: the members service never registered them (or loyalty has not "
    "heard of the registration yet, usually for well under a second), or they were closed. Nothing was changed.",
)
class UnknownMemberError(Error):
    code: LoyaltyErrorCode = strawberry.field(description="LOYALTY_UNKNOWN_MEMBER.")
    member_id: uuid.UUID = strawberry.field(description="The id that matched no active member.")


HANDLERS = error_handlers(
    {
        UnknownMember: UnknownMemberError,
        InsufficientPoints: InsufficientPointsError,
        IdempotencyKeyReused: IdempotencyKeyReusedError,
        InvalidAdjustment: InvalidAdjustmentError,
    }
)


# --------------------------------------------------------------------------------------------- loaders


async def account_by_member_id(sessions: SessionFactory, member_ids: Sequence[uuid.UUID]) -> list[AccountState]:
    """Available, pending and owed points for a batch of members, in one SELECT."""
    return await account_states(LoyaltyUnitOfWork(sessions), member_ids)


# ----------------------------------------------------------------------------------------------- types


@strawberry.type(
    description="One change to one of a member's totals (available balance, pending or owed). The ledger is "
    "append-only; each total is the sum of its bucket's entries."
)
class LedgerEntry:
    id: uuid.UUID = strawberry.field(description="The entry's id.")
    points: int = strawberry.field(description="Points added (positive) or taken (negative).")
    balance_after: int = strawberry.field(
        description="The total of the entry's bucket right after it (the available balance for most kinds)."
    )
    kind: EntryKind = strawberry.field(description="What produced the entry.")
    bucket: Bucket = strawberry.field(description="The total the entry moved: available, pending or owed.")
    order_id: uuid.UUID | None = strawberry.field(
        description="The order whose points the entry moved (members' order id); null for other entries."
    )
    reason: str = strawberry.field(description="Why the points moved, as recorded by the caller.")
    idempotency_key: str = strawberry.field(description="The caller's key; the same caller's key never applies twice.")
    actor: str = strawberry.field(description="Who made the change (the token's subject).")
    created_at: datetime = strawberry.field(description="When the entry was written.")

    @classmethod
    def of(cls, view: EntryView) -> LedgerEntry:
        return cls(
            id=view.id,
            points=view.points,
            balance_after=view.balance_after,
            kind=view.kind,
            bucket=view.bucket,
            order_id=view.order_id,
            reason=view.reason,
            idempotency_key=view.idempotency_key,
            actor=view.actor,
            created_at=view.created_at,
        )


@strawberry.type(description="A member's points account (积分账户).")
class LoyaltyAccount:
    member_id: strawberry.Private[uuid.UUID]
    # Set when the account comes from a write: the balance that write produced, not a later one.
    known_balance: strawberry.Private[int | None] = None

    @strawberry.field(
        description="Points available now; always the sum of the available entries of the ledger, never below zero."
    )
    async def balance(self, info: LoyaltyInfo) -> int:
        if self.known_balance is not None:
            return self.known_balance
        return (await info.context.loaders(account_by_member_id).load(self.member_id)).balance

    @strawberry.field(
        description="Points of orders still in their lock period (default 7 days), not yet spendable: a refund "
        "cancels them first. The sum of the pending entries."
    )
    async def pending(self, info: LoyaltyInfo) -> int:
        return (await info.context.loaders(account_by_member_id).load(self.member_id)).pending

    @strawberry.field(
        description="Points refunds could not take back because the member had spent them; settled from the next "
        "points that become available. The sum of the owed entries."
    )
    async def owed(self, info: LoyaltyInfo) -> int:
        return (await info.context.loaders(account_by_member_id).load(self.member_id)).owed

    @strawberry.field(
        description="The member's points expiring within withinDays days (1 to 366) after asOf (default today in "
        "Asia/Shanghai), by date; what the expiry notice tells them."
    )
    async def expiring_soon(
        self,
        info: LoyaltyInfo,
        within_days: Annotated[int, strawberry.argument(description="The window in days.")] = 30,
        as_of: Annotated[date | None, strawberry.argument(description="The local date; default today.")] = None,
    ) -> list[ExpiringSoon]:
        if not 1 <= within_days <= 366:
            raise BadUserInput("withinDays is 1 to 366")
        day = local_day(as_of)
        uow = LoyaltyUnitOfWork(info.context.sessions)
        (found,) = await expiring_soon(uow, [self.member_id], as_of=day, within_days=within_days)
        return [
            ExpiringSoon(
                points=e.points,
                expires_at=datetime.combine(e.expires_on, time(), tzinfo=LOCAL),
                expires_on=e.expires_on,
            )
            for e in found
        ]

    @strawberry.field(
        description="The member's tier as of asOf (default today): level, qualifying facts over 12 months, the "
        "next level and what it takes, the next review and any grace period."
    )
    async def tier(
        self,
        info: LoyaltyInfo,
        as_of: Annotated[date | None, strawberry.argument(description="The local date; default today.")] = None,
    ) -> MemberTierInfo:
        rules = info.context.settings.tier_rules()
        day = local_day(as_of)
        (view,) = await tiers_of(LoyaltyUnitOfWork(info.context.sessions), [self.member_id], as_of=day, rules=rules)
        return MemberTierInfo.of(view, rules)

    @strawberry.field(description="The member's tier changes, newest first (at most 100).")
    async def tier_history(self, info: LoyaltyInfo) -> list[TierChangeInfo]:
        changes = await tier_history(LoyaltyUnitOfWork(info.context.sessions), self.member_id)
        return [TierChangeInfo.of(c) for c in changes]

    @strawberry.field(description=f"The member's ledger entries, newest first; at most {MAX_PAGE} a page.")
    async def entries(
        self, info: LoyaltyInfo, first: PageSize = DEFAULT_PAGE, after: After = None
    ) -> Connection[LedgerEntry]:
        limit = page_size(first)
        uow = LoyaltyUnitOfWork(info.context.sessions)
        rows = await ledger_page(uow, self.member_id, limit=limit + 1, before=LEDGER.position(after))
        return page_of(
            rows,
            limit,
            node=LedgerEntry.of,
            cursor=lambda e: LEDGER.cursor(e.created_at, e.id),
            counter=partial(ledger_size, LoyaltyUnitOfWork(info.context.sessions), self.member_id),
        )


@strawberry.type(description="Points of a member that expire on one date.")
class ExpiringSoon:
    points: int = strawberry.field(description="Points expiring on that date.")
    expires_at: datetime = strawberry.field(
        description="When they expire: the start (00:00 Asia/Shanghai) of the first day they are no longer spendable."
    )
    expires_on: date = strawberry.field(description="That first day, as a local date.")


@strawberry.type
class MemberPoints:
    """The points fields of the federated Member."""

    id: uuid.UUID

    @strawberry.field(
        description="The member's points. Members read their own; others need points:read.",
        permission_classes=[self_or(Scope.POINTS_READ)],
    )
    def loyalty(self) -> LoyaltyAccount:
        return LoyaltyAccount(member_id=self.id)


# ------------------------------------------------------------------------------------------- mutations


@strawberry.input(description="A manual points adjustment (积分调整).")
class AdjustPointsInput:
    member_id: uuid.UUID = strawberry.field(description="Whose balance to change.")
    points: int = strawberry.field(description="Points to add (positive) or take (negative); never zero.")
    reason: str = strawberry.field(description="Why, for the audit trail: 1–200 characters.")
    idempotency_key: str = strawberry.field(
        description="Unique per intended change (1–128 of letters, digits, `:._/-`). Retrying with the same key "
        "never applies twice; keys belong to the caller (the token's subject), so two callers never collide."
    )

    def adjustment(self) -> Adjustment:
        return Adjustment(self.member_id, self.points, self.reason, self.idempotency_key)


@strawberry.type(description="The adjustment is on the ledger.")
class AdjustPointsSuccess:
    entry: LedgerEntry = strawberry.field(description="The ledger entry of this adjustment.")
    account: LoyaltyAccount = strawberry.field(
        description="The member's account; its balance is the one this adjustment produced."
    )
    replayed: bool = strawberry.field(
        description="True when the key had already been applied: this is the original entry and nothing changed."
    )


AdjustPointsPayload = Annotated[
    AdjustPointsSuccess
    | UnknownMemberError
    | InsufficientPointsError
    | IdempotencyKeyReusedError
    | InvalidAdjustmentError,
    strawberry.union("AdjustPointsPayload", description="The outcome of one points adjustment."),
]


def _payload(result: Posted | DomainError) -> AdjustPointsPayload:
    if isinstance(result, DomainError):
        return as_union_member(result, HANDLERS)  # type: ignore[no-any-return]
    account = LoyaltyAccount(member_id=result.entry.member_id, known_balance=result.balance)
    return AdjustPointsSuccess(entry=LedgerEntry.of(result.entry), account=account, replayed=result.replayed)


async def _adjust(info: LoyaltyInfo, inputs: list[AdjustPointsInput]) -> list[AdjustPointsPayload]:
    results = await adjust_points_batch(
        LoyaltyUnitOfWork(info.context.sessions),
        [item.adjustment() for item in inputs],
        actor=principal_of(info).subject,
        max_points=info.context.settings.max_adjustment_points,
        expiry=info.context.settings.expiry_policies(),
    )
    return [_payload(result) for result in results]


@strawberry.type
class Query:
    @strawberry.field(
        description="A member's points account. Members read their own; others need points:read.",
        permission_classes=[self_or(Scope.POINTS_READ, argument="member_id")],
    )
    def loyalty_account(
        self, member_id: Annotated[uuid.UUID, strawberry.argument(description="The member's id.")]
    ) -> LoyaltyAccount:
        return LoyaltyAccount(member_id=member_id)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add or take points with a reason, exactly once per idempotency key; the balance never goes "
        "below zero. A member loyalty does not know as active answers LoyaltyUnknownMemberError. Needs points:write.",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def adjust_points(
        self,
        info: LoyaltyInfo,
        input: Annotated[
            AdjustPointsInput,
            strawberry.argument(
                description="The member, the points (positive grants, negative takes), the reason and the key."
            ),
        ],
    ) -> AdjustPointsPayload:
        (payload,) = await _adjust(info, [input])
        return payload

    @strawberry.mutation(
        description=f"Apply up to {MAX_PAGE} adjustments in one transaction and answer one payload per input, in "
        "the same order: a refused item changes nothing and does not hold back the others, and a retry applies "
        "only what is missing. Needs points:write.",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def adjust_points_batch(
        self,
        info: LoyaltyInfo,
        inputs: Annotated[
            list[AdjustPointsInput], strawberry.argument(description=f"The adjustments, 1 to {MAX_PAGE}.")
        ],
    ) -> list[AdjustPointsPayload]:
        if not 1 <= len(inputs) <= MAX_PAGE:
            raise BadUserInput(f"a batch holds 1 to {MAX_PAGE} adjustments")
        return await _adjust(info, inputs)
