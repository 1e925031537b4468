"""Expected failures of loyalty use cases."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class LoyaltyErrorCode(Enum):
    """Codes of the loyalty service's expected errors."""

    LOYALTY_INSUFFICIENT_POINTS = "LOYALTY_INSUFFICIENT_POINTS"
    LOYALTY_IDEMPOTENCY_KEY_REUSED = "LOYALTY_IDEMPOTENCY_KEY_REUSED"
    LOYALTY_INVALID_ADJUSTMENT = "LOYALTY_INVALID_ADJUSTMENT"
    LOYALTY_UNKNOWN_MEMBER = "LOYALTY_UNKNOWN_MEMBER"


class InsufficientPoints(DomainError):
    """The debit would take the balance below zero."""

    code = LoyaltyErrorCode.LOYALTY_INSUFFICIENT_POINTS

    def __init__(self, *, balance: int, requested: int) -> None:
        super().__init__(
            f"balance {balance} cannot cover a debit of {-requested} points", balance=balance, requested=requested
        )


class IdempotencyKeyReused(DomainError):
    """The key was already used for a different adjustment (another member, amount or reason)."""

    code = LoyaltyErrorCode.LOYALTY_IDEMPOTENCY_KEY_REUSED


class InvalidAdjustment(DomainError):
    """The adjustment itself is malformed: zero or too many points, no reason, or a bad key."""

    code = LoyaltyErrorCode.LOYALTY_INVALID_ADJUSTMENT
