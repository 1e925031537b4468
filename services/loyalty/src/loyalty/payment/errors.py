"""Expected failures of points payments."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class PaymentErrorCode(Enum):
    """Codes of points payments' expected errors."""

    LOYALTY_QUOTE_REFUSED = "LOYALTY_QUOTE_REFUSED"
    LOYALTY_PAYMENT_NOT_FOUND = "LOYALTY_PAYMENT_NOT_FOUND"
    LOYALTY_PAYMENT_CLOSED = "LOYALTY_PAYMENT_CLOSED"


class QuoteRefused(DomainError):
    """The order is below the minimum, the points asked for are over the cap, or there is nothing to hold."""

    code = PaymentErrorCode.LOYALTY_QUOTE_REFUSED


class PaymentNotFound(DomainError):
    """No quote has this id."""

    code = PaymentErrorCode.LOYALTY_PAYMENT_NOT_FOUND


class PaymentClosed(DomainError):
    """The hold can no longer be captured or voided: it was voided, expired, or captured (under another key)."""

    code = PaymentErrorCode.LOYALTY_PAYMENT_CLOSED
