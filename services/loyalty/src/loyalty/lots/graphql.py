"""The lots feature in the loyalty subgraph: expiring lapsed lots, points expiring soon, lots' reconciliation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from loyalty.context import LoyaltyInfo
from loyalty.dates import local_day
from loyalty.lots.errors import InvalidShard, LotsErrorCode, NoLotToExpire
from loyalty.lots.service import MAX_BATCH, MAX_SHARDS, expire_lot, expire_points, expiring_members, lot_mismatches
from loyalty.lots.views import Expired, Expiring, LotMismatch
from loyalty.scopes import Scope, requires
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import BadUserInput, Error, error_handlers

graphql_enum(
    LotsErrorCode,
    "Codes of the points lots' expected errors.",
    {
        "LOYALTY_INVALID_SHARD": f"shards is not 1 to {MAX_SHARDS}, or shard is not 0 to shards − 1.",
        "LOYALTY_NO_LOT_TO_EXPIRE": "The lot does not exist, has not lapsed by asOf, or has nothing left.",
    },
)

EXPIRING = Keyset("expiring-points")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MAX_WITHIN_DAYS = 366
AsOf = Annotated[
    date | None,
    strawberry.argument(description="The local (Asia/Shanghai) date to compute for; default today."),
]


def _day(as_of: date | None) -> date:
    return local_day(as_of)


def _within(days: int) -> int:
    if not 1 <= days <= MAX_WITHIN_DAYS:
        raise BadUserInput(f"withinDays is 1 to {MAX_WITHIN_DAYS}")
    return days


@strawberry.type(description="shards or shard out of range; nothing was changed.")
class InvalidShardError(Error):
    code: LotsErrorCode = strawberry.field(description="LOYALTY_INVALID_SHARD.")


@strawberry.type(description="The lot does not exist, has not lapsed by asOf, or has nothing left; nothing changed.")
class NoLotToExpireError(Error):
    code: LotsErrorCode = strawberry.field(description="LOYALTY_NO_LOT_TO_EXPIRE.")


HANDLERS = error_handlers({InvalidShard: InvalidShardError, NoLotToExpire: NoLotToExpireError})


@strawberry.type(description="Lapsed lots of one shard expired as ledger entries.")
class ExpirePointsSuccess:
    as_of: date = strawberry.field(description="Lots expiring on or before this local date were expired.")
    shard: int = strawberry.field(description="The shard processed.")
    shards: int = strawberry.field(description="How many shards members are split into.")
    lots: int = strawberry.field(description="Lots expired by this call (0 when nothing was due).")
    points: int = strawberry.field(description="Points expired by this call.")
    members: int = strawberry.field(description="Members whose points expired in this call.")
    more: bool = strawberry.field(description="True when the shard may have more members due: call again.")

    @classmethod
    def of(cls, view: Expired) -> ExpirePointsSuccess:
        return cls(
            as_of=view.as_of,
            shard=view.shard,
            shards=view.shards,
            lots=view.lots,
            points=view.points,
            members=view.members,
            more=view.more,
        )


ExpirePointsPayload = Annotated[
    ExpirePointsSuccess | InvalidShardError,
    strawberry.union("ExpirePointsPayload", description="The outcome of one expiry batch."),
]
ExpireLotPayload = Annotated[
    ExpirePointsSuccess | NoLotToExpireError,
    strawberry.union("ExpireLotPayload", description="The outcome of expiring one lot."),
]


@strawberry.type(description="A member's points expiring soon, for the expiry notice (积分到期提醒).")
class ExpiringPoints:
    member_id: uuid.UUID = strawberry.field(description="The member.")
    points: int = strawberry.field(description="Points expiring within the window, all dates together.")
    expires_on: date = strawberry.field(description="The soonest local date on which some of them expire.")

    @classmethod
    def of(cls, view: Expiring) -> ExpiringPoints:
        return cls(member_id=view.member_id, points=view.points, expires_on=view.expires_on)


@strawberry.type(name="LotMismatch", description="One disagreement between accounts, lots and ledger entries.")
class LotMismatchType:
    kind: str = strawberry.field(
        description="`balance`: an account's balance is not the sum of its lots' remaining points (subject: the "
        "member); `lot`: a lot's remaining is not its points less its consumptions (subject: the lot); `entry`: "
        "an available entry's lots do not add up to its points (subject: the entry)."
    )
    subject_id: uuid.UUID = strawberry.field(description="The member, lot or entry.")
    expected: int = strawberry.field(description="What the other side says it should be.")
    found: int = strawberry.field(description="What it is.")

    @classmethod
    def of(cls, view: LotMismatch) -> LotMismatchType:
        return cls(kind=view.kind, subject_id=view.subject_id, expected=view.expected, found=view.found)


@strawberry.type
class Query:
    @strawberry.field(
        description=f"Members with points expiring within withinDays days after asOf (1 to {MAX_WITHIN_DAYS}), by "
        f"member id; at most {MAX_PAGE} a page. Feeds the expiry notices; needs points:read.",
        permission_classes=[requires(Scope.POINTS_READ)],
    )
    async def expiring_points(
        self,
        info: LoyaltyInfo,
        within_days: Annotated[int, strawberry.argument(description="The window in days.")] = 30,
        as_of: AsOf = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[ExpiringPoints]:
        limit = page_size(first)
        position = EXPIRING.position(after)
        rows = await expiring_members(
            LoyaltyUnitOfWork(info.context.sessions),
            as_of=_day(as_of),
            within_days=_within(within_days),
            after=position[1] if position else None,
            limit=limit + 1,
        )
        return page_of(rows, limit, node=ExpiringPoints.of, cursor=lambda r: EXPIRING.cursor(_EPOCH, r.member_id))

    @strawberry.field(
        description=f"Disagreements between accounts, lots and ledger entries (at most {MAX_PAGE}); empty when "
        "the ledger is sound. Read by `python -m yutang_dev reconcile points`; needs points:read.",
        permission_classes=[requires(Scope.POINTS_READ)],
    )
    async def lot_mismatches(self, info: LoyaltyInfo) -> list[LotMismatchType]:
        found = await lot_mismatches(LoyaltyUnitOfWork(info.context.sessions), limit=MAX_PAGE)
        return [LotMismatchType.of(m) for m in found]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Expire the lapsed lots (expiry date on or before asOf) of up to `members` members of one "
        "shard, as `expiry` ledger entries; call again while `more`. Idempotent per lot: re-runs and concurrent "
        "runs expire nothing twice. Needs points:release (operations and the points-expiry flow).",
        permission_classes=[requires(Scope.POINTS_RELEASE)],
    )
    async def expire_points(
        self,
        info: LoyaltyInfo,
        as_of: AsOf = None,
        shard: Annotated[int, strawberry.argument(description="This shard, 0 to shards − 1.")] = 0,
        shards: Annotated[int, strawberry.argument(description=f"Shards, 1 to {MAX_SHARDS}.")] = 1,
        members: Annotated[
            int, strawberry.argument(description=f"Members per call, 1 to {MAX_BATCH} (one transaction).")
        ] = 200,
    ) -> ExpirePointsPayload:
        expired = await expire_points(
            LoyaltyUnitOfWork(info.context.sessions), as_of=_day(as_of), shard=shard, shards=shards, members=members
        )
        return ExpirePointsSuccess.of(expired)

    @strawberry.mutation(
        description="Expire one lapsed lot now (an operator's correction); NoLotToExpireError when it does not "
        "exist, has not lapsed by asOf or has nothing left. Needs points:release.",
        permission_classes=[requires(Scope.POINTS_RELEASE)],
    )
    async def expire_lot(
        self,
        info: LoyaltyInfo,
        lot_id: Annotated[uuid.UUID, strawberry.argument(description="The lot.")],
        as_of: AsOf = None,
    ) -> ExpireLotPayload:
        expired = await expire_lot(LoyaltyUnitOfWork(info.context.sessions), lot_id=lot_id, as_of=_day(as_of))
        return ExpirePointsSuccess.of(expired)
