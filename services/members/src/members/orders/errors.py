"""Expected failures of recording orders, refunds and behaviour: each names the fact, and nothing is written."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class OrdersErrorCode(Enum):
    """Codes of the orders feature's expected errors (members service, hence the MEMBERS_ prefix)."""

    MEMBERS_UNKNOWN_MEMBER = "MEMBERS_UNKNOWN_MEMBER"
    MEMBERS_MEMBER_NOT_ACTIVE = "MEMBERS_MEMBER_NOT_ACTIVE"
    MEMBERS_UNKNOWN_STORE = "MEMBERS_UNKNOWN_STORE"
    MEMBERS_INVALID_ORDER = "MEMBERS_INVALID_ORDER"
    MEMBERS_INVALID_AMOUNT = "MEMBERS_INVALID_AMOUNT"
    MEMBERS_LINES_MISMATCH = "MEMBERS_LINES_MISMATCH"
    MEMBERS_INVALID_OCCURRED_AT = "MEMBERS_INVALID_OCCURRED_AT"
    MEMBERS_ORDER_CONFLICT = "MEMBERS_ORDER_CONFLICT"
    MEMBERS_UNKNOWN_ORDER = "MEMBERS_UNKNOWN_ORDER"
    MEMBERS_INVALID_REFUND = "MEMBERS_INVALID_REFUND"
    MEMBERS_REFUND_EXCEEDS_ORDER = "MEMBERS_REFUND_EXCEEDS_ORDER"
    MEMBERS_REFUND_CONFLICT = "MEMBERS_REFUND_CONFLICT"
    MEMBERS_INVALID_BEHAVIOUR = "MEMBERS_INVALID_BEHAVIOUR"
    MEMBERS_BEHAVIOUR_CONFLICT = "MEMBERS_BEHAVIOUR_CONFLICT"


class UnknownMember(DomainError):
    """No member has that id, mobile or unionid."""

    code = OrdersErrorCode.MEMBERS_UNKNOWN_MEMBER


class MemberNotActive(DomainError):
    """The member is frozen or closed and cannot be served."""

    code = OrdersErrorCode.MEMBERS_MEMBER_NOT_ACTIVE


class UnknownStore(DomainError):
    """The store code is malformed, or names no store."""

    code = OrdersErrorCode.MEMBERS_UNKNOWN_STORE


class InvalidOrder(DomainError):
    """The order is malformed: its id, member reference, guide, lines or a line's fields."""

    code = OrdersErrorCode.MEMBERS_INVALID_ORDER


class InvalidAmount(DomainError):
    """The paid amount is zero or negative, or the discount negative."""

    code = OrdersErrorCode.MEMBERS_INVALID_AMOUNT


class LinesMismatch(DomainError):
    """The lines do not add up: sum(quantity × unit price) − discount differs from the paid amount."""

    code = OrdersErrorCode.MEMBERS_LINES_MISMATCH


class InvalidOccurredAt(DomainError):
    """The time is in the future (beyond the allowed clock skew), before 2000-01-01, or has no time zone."""

    code = OrdersErrorCode.MEMBERS_INVALID_OCCURRED_AT


class OrderConflict(DomainError):
    """This client already recorded an order under that id with other content."""

    code = OrdersErrorCode.MEMBERS_ORDER_CONFLICT


class UnknownOrder(DomainError):
    """No order has that id (or that external id from this client)."""

    code = OrdersErrorCode.MEMBERS_UNKNOWN_ORDER


class InvalidRefund(DomainError):
    """The refund is malformed: its id, amount, lines, or a time before the order's."""

    code = OrdersErrorCode.MEMBERS_INVALID_REFUND


class RefundExceedsOrder(DomainError):
    """The refund asks for more than is left to refund (money or a line's quantity)."""

    code = OrdersErrorCode.MEMBERS_REFUND_EXCEEDS_ORDER


class RefundConflict(DomainError):
    """This client already recorded a refund under that id with other content."""

    code = OrdersErrorCode.MEMBERS_REFUND_CONFLICT


class InvalidBehaviour(DomainError):
    """The behaviour event is malformed: its id or a reference."""

    code = OrdersErrorCode.MEMBERS_INVALID_BEHAVIOUR


class BehaviourConflict(DomainError):
    """This client already recorded a behaviour event under that id with other content."""

    code = OrdersErrorCode.MEMBERS_BEHAVIOUR_CONFLICT
