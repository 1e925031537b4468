"""Points as cash in the loyalty subgraph: quotePointsPayment, capturePointsPayment, voidPointsPayment, and the
release of expired holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from loyalty.context import LoyaltyInfo
from loyalty.payment.errors import PaymentClosed, PaymentErrorCode, PaymentNotFound, QuoteRefused
from loyalty.payment.models import PaymentStatus
from loyalty.payment.service import (
    capture_points_payment,
    quote_points_payment,
    release_expired_holds,
    void_points_payment,
)
from loyalty.payment.views import PaymentView
from loyalty.points.graphql import IdempotencyKeyReusedError, UnknownMemberError
from loyalty.scopes import Scope, requires
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.context import principal_of
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

graphql_enum(
    PaymentErrorCode,
    "Codes of points payments' expected errors.",
    {
        "LOYALTY_QUOTE_REFUSED": "Order below the minimum, points over the cap or the balance, or nothing to hold.",
        "LOYALTY_PAYMENT_NOT_FOUND": "No quote has this id.",
        "LOYALTY_PAYMENT_CLOSED": "The hold was voided, expired, or captured under another key.",
    },
)
graphql_enum(
    PaymentStatus,
    "Where a points payment stands.",
    {
        "HELD": "The points are held until captured, voided or expired.",
        "CAPTURED": "The hold became the spend.",
        "VOIDED": "Released back to the lots the points came from.",
        "EXPIRED": "The hold lapsed and released itself.",
    },
)


@strawberry.type(description="The quote is refused; nothing was held.")
class QuoteRefusedError(Error):
    code: PaymentErrorCode = strawberry.field(description="LOYALTY_QUOTE_REFUSED.")


@strawberry.type(description="No quote has this id; nothing was changed.")
class PaymentNotFoundError(Error):
    code: PaymentErrorCode = strawberry.field(description="LOYALTY_PAYMENT_NOT_FOUND.")


@strawberry.type(description="The hold can no longer be captured or voided; nothing was changed.")
class PaymentClosedError(Error):
    code: PaymentErrorCode = strawberry.field(description="LOYALTY_PAYMENT_CLOSED.")


HANDLERS = error_handlers(
    {QuoteRefused: QuoteRefusedError, PaymentNotFound: PaymentNotFoundError, PaymentClosed: PaymentClosedError}
)


@strawberry.type(description="A points payment (积分抵现) and its hold.")
class PointsPayment:
    id: uuid.UUID = strawberry.field(description="The quote id: capture or void it by this id.")
    member_id: uuid.UUID = strawberry.field(description="Whose points.")
    store_code: str = strawberry.field(description="The store the order is paid at.")
    order_amount_fen: int = strawberry.field(description="The order's amount the quote was for.")
    points: int = strawberry.field(description="Points held (or spent).")
    amount_fen: int = strawberry.field(description="What they pay, in fen.")
    status: PaymentStatus = strawberry.field(description="Where it stands.")
    expires_at: datetime = strawberry.field(description="When an uncaptured hold releases itself.")
    replayed: bool = strawberry.field(description="True when this call repeated an earlier one; nothing changed.")

    @classmethod
    def of(cls, view: PaymentView) -> PointsPayment:
        return cls(
            id=view.id,
            member_id=view.member_id,
            store_code=view.store_code,
            order_amount_fen=view.order_amount_fen,
            points=view.points,
            amount_fen=view.amount_fen,
            status=view.status,
            expires_at=view.expires_at,
            replayed=view.replayed,
        )


QuotePayload = Annotated[
    PointsPayment | QuoteRefusedError | IdempotencyKeyReusedError | UnknownMemberError,
    strawberry.union("QuotePointsPaymentPayload", description="The outcome of a quote."),
]
SettlePayload = Annotated[
    PointsPayment | PaymentNotFoundError | PaymentClosedError,
    strawberry.union("SettlePointsPaymentPayload", description="The outcome of a capture or a void."),
]


@strawberry.type(description="Expired holds released.")
class ReleaseExpiredHoldsSuccess:
    released: int = strawberry.field(description="Holds released by this call.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="How many points can pay this order (100 points = ¥1 by default, at most a share of the order, "
        "from a minimum order), held for a short time. `points` asks for an amount (refused over the cap); "
        "without it, as many as allowed. Once per idempotencyKey. Needs points:write (the till).",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def quote_points_payment(
        self,
        info: LoyaltyInfo,
        member_id: Annotated[uuid.UUID, strawberry.argument(description="The paying member.")],
        order_amount_fen: Annotated[int, strawberry.argument(description="The order's amount in fen.")],
        store_code: Annotated[str, strawberry.argument(description="The store paid at.")],
        idempotency_key: Annotated[str, strawberry.argument(description="The caller's key for this quote.")],
        points: Annotated[
            int | None, strawberry.argument(description="Points to use; default as many as allowed.")
        ] = None,
    ) -> QuotePayload:
        view = await quote_points_payment(
            LoyaltyUnitOfWork(info.context.sessions),
            member_id=member_id,
            order_amount_fen=order_amount_fen,
            store_code=store_code,
            requested=points,
            quote_key=idempotency_key,
            actor=principal_of(info).subject,
            rules=info.context.settings.cash_rules(),
            now=datetime.now(UTC),
        )
        return PointsPayment.of(view)

    @strawberry.mutation(
        description="Turn a held quote into the spend, exactly once per quote: the same key again replays. A "
        "voided or expired hold is PaymentClosedError. Needs points:write.",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def capture_points_payment(
        self,
        info: LoyaltyInfo,
        quote_id: Annotated[uuid.UUID, strawberry.argument(description="The quote.")],
        idempotency_key: Annotated[str, strawberry.argument(description="The caller's key for this capture.")],
    ) -> SettlePayload:
        view = await capture_points_payment(
            LoyaltyUnitOfWork(info.context.sessions),
            payment_id=quote_id,
            capture_key=idempotency_key,
            now=datetime.now(UTC),
        )
        return PointsPayment.of(view)

    @strawberry.mutation(
        description="Release a held quote back to the lots its points came from, once (a repeat replays). "
        "Needs points:write.",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def void_points_payment(
        self, info: LoyaltyInfo, quote_id: Annotated[uuid.UUID, strawberry.argument(description="The quote.")]
    ) -> SettlePayload:
        view = await void_points_payment(
            LoyaltyUnitOfWork(info.context.sessions), payment_id=quote_id, now=datetime.now(UTC)
        )
        return PointsPayment.of(view)

    @strawberry.mutation(
        description="Release every hold past its time (up to 500 a call). Holds also release themselves when a "
        "capture finds them expired. Needs points:release (the points-expiry flow calls it).",
        permission_classes=[requires(Scope.POINTS_RELEASE)],
    )
    async def release_expired_holds(self, info: LoyaltyInfo) -> ReleaseExpiredHoldsSuccess:
        released = await release_expired_holds(LoyaltyUnitOfWork(info.context.sessions), now=datetime.now(UTC))
        return ReleaseExpiredHoldsSuccess(released=released)
