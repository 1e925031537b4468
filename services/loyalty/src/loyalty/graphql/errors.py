"""Expected errors of the loyalty subgraph, as GraphQL union members."""

from __future__ import annotations

import strawberry

from loyalty.domain.errors import IdempotencyKeyReused, InsufficientPoints, InvalidAdjustment, LoyaltyErrorCode
from yutang_shared.errors import Error, error_handlers

LoyaltyErrorCodeEnum = strawberry.enum(LoyaltyErrorCode, description="Codes of the loyalty service's errors.")


@strawberry.type(description="The debit would take the balance below zero; nothing was changed.")
class InsufficientPointsError(Error):
    code: LoyaltyErrorCodeEnum = strawberry.field(description="LOYALTY_INSUFFICIENT_POINTS.")  # type: ignore[valid-type]
    balance: int = strawberry.field(description="The balance when the debit was refused.")
    requested: int = strawberry.field(description="The points the adjustment asked for (negative).")


@strawberry.type(description="The idempotency key was already used for a different adjustment; nothing was changed.")
class IdempotencyKeyReusedError(Error):
    code: LoyaltyErrorCodeEnum = strawberry.field(description="LOYALTY_IDEMPOTENCY_KEY_REUSED.")  # type: ignore[valid-type]


@strawberry.type(description="Zero or too many points, a missing reason, or a malformed key; nothing was changed.")
class InvalidAdjustmentError(Error):
    code: LoyaltyErrorCodeEnum = strawberry.field(description="LOYALTY_INVALID_ADJUSTMENT.")  # type: ignore[valid-type]


HANDLERS = error_handlers(
    {
        InsufficientPoints: InsufficientPointsError,
        IdempotencyKeyReused: IdempotencyKeyReusedError,
        InvalidAdjustment: InvalidAdjustmentError,
    }
)
