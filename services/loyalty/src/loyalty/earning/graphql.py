"""The earning feature in the loyalty subgraph: releasing pending points, and orders' points for reconciliation."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from loyalty.context import LoyaltyInfo
from loyalty.earning.models import OrderPointsStatus
from loyalty.earning.rules import local_date
from loyalty.earning.service import RELEASE_LIMIT_MAX, order_ledger_page, release_pending_points
from loyalty.earning.views import OrderLedger
from loyalty.scopes import Scope, requires
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import BadUserInput

graphql_enum(
    OrderPointsStatus,
    "Where an order's points stand.",
    {
        "PENDING": "In the lock period: the points wait in the member's pending total.",
        "RELEASED": "The lock period ended: what was still pending became available.",
        "FORFEITED": "The member was closed before the points could be earned or released.",
    },
)

# The list is sorted by order id alone; the timestamp half of its cursors is a constant.
ORDERS = Keyset("order-points")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@strawberry.type(
    name="OrderPoints",
    description="An order's points as loyalty recorded them, beside what its ledger entries add up to. Read by "
    "the reconciliation (`python -m yutang_dev reconcile points`).",
)
class OrderPointsType:
    order_id: uuid.UUID = strawberry.field(description="The order (members' order id).")
    member_id: uuid.UUID = strawberry.field(description="The member who earned on it.")
    recorded: bool = strawberry.field(
        description="False for an orphan: ledger entries name the order but loyalty never recorded earning on it "
        "(then the row's fields are null)."
    )
    paid_fen: int | None = strawberry.field(description="The amount paid, as order.paid said.")
    refunded_fen: int | None = strawberry.field(description="The refunds loyalty has applied, in fen.")
    points: int | None = strawberry.field(description="What the earning rules gave the order.")
    tier_multiplier: str | None = strawberry.field(
        description="The earn multiplier the member's tier gave the order when it earned, as a decimal string "
        '("1" without a tier, "1.5" …).'
    )
    pending: int | None = strawberry.field(description="Points still pending (0 once released).")
    reversed: int | None = strawberry.field(description="Points refunds took back (cancelled, taken or owed).")
    status: OrderPointsStatus | None = strawberry.field(description="Where the order's points stand.")
    release_on: date | None = strawberry.field(description="The local date the lock period ends.")
    ledger_earned: int = strawberry.field(description="Sum of the order's earn_pending entries.")
    ledger_released: int = strawberry.field(description="Sum of the order's earn entries (points made available).")
    ledger_reversed: int = strawberry.field(
        description="Points the order's refund entries took back: pending_cancelled, reversal and owed together."
    )
    ledger_owed: int = strawberry.field(description="Sum of the order's owed entries.")

    @classmethod
    def of(cls, view: OrderLedger) -> OrderPointsType:
        return cls(
            order_id=view.order_id,
            member_id=view.member_id,
            recorded=view.recorded,
            paid_fen=view.paid_fen,
            refunded_fen=view.refunded_fen,
            points=view.points,
            tier_multiplier=None if view.tier_multiplier is None else f"{view.tier_multiplier.normalize():f}",
            pending=view.pending,
            reversed=view.reversed,
            status=OrderPointsStatus(view.status) if view.status else None,
            release_on=view.release_on,
            ledger_earned=view.ledger_earned,
            ledger_released=view.ledger_released,
            ledger_reversed=view.ledger_reversed,
            ledger_owed=view.ledger_owed,
        )


@strawberry.type(description="Pending points whose lock period ended are available now.")
class ReleasePendingPointsSuccess:
    as_of: date = strawberry.field(description="The date released up to (inclusive).")
    orders: int = strawberry.field(description="Orders released by this call (0 when nothing was due).")
    points: int = strawberry.field(description="Points made available by this call.")
    more: bool = strawberry.field(
        description="True when the call stopped at its limit: more orders may be due, call again (the daily "
        "points-release flow does). False when nothing due is left."
    )


@strawberry.type
class Query:
    @strawberry.field(
        description=f"Every order loyalty earned on, or whose id a ledger entry names, by order id; at most "
        f"{MAX_PAGE} a page. For reconciliation; needs points:read.",
        permission_classes=[requires(Scope.POINTS_READ)],
    )
    async def order_points(
        self, info: LoyaltyInfo, first: PageSize = DEFAULT_PAGE, after: After = None
    ) -> Connection[OrderPointsType]:
        limit = page_size(first)
        position = ORDERS.position(after)
        rows = await order_ledger_page(
            LoyaltyUnitOfWork(info.context.sessions), after=position[1] if position else None, limit=limit + 1
        )
        return page_of(rows, limit, node=OrderPointsType.of, cursor=lambda r: ORDERS.cursor(_EPOCH, r.order_id))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Make available the pending points of every order whose lock period ends on or before asOf "
        "(default: today in Asia/Shanghai). Idempotent per order: calling again, or concurrently, releases nothing "
        "twice. Owed points are settled from the released points first. Needs points:release (operations and "
        "the service client running the daily job).",
        permission_classes=[requires(Scope.POINTS_RELEASE)],
    )
    async def release_pending_points(
        self,
        info: LoyaltyInfo,
        as_of: Annotated[
            date | None, strawberry.argument(description="Release up to this local date, inclusive.")
        ] = None,
        limit: Annotated[
            int | None,
            strawberry.argument(
                description=f"Release at most this many orders in this call, 1 to {RELEASE_LIMIT_MAX:,} (default: "
                "every due order, which for a large backlog can outlast a request's timeout); `more` says whether "
                "to call again. Out of range is BAD_USER_INPUT."
            ),
        ] = None,
    ) -> ReleasePendingPointsSuccess:
        if limit is not None and not 1 <= limit <= RELEASE_LIMIT_MAX:
            raise BadUserInput(f"limit must be between 1 and {RELEASE_LIMIT_MAX}")
        day = as_of or local_date(datetime.now(UTC))
        released = await release_pending_points(
            LoyaltyUnitOfWork(info.context.sessions),
            as_of=day,
            limit=limit,
            expiry=info.context.settings.expiry_policies(),
        )
        return ReleasePendingPointsSuccess(
            as_of=released.as_of, orders=released.orders, points=released.points, more=released.more
        )
