"""Expected failures of check-in."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class CheckInErrorCode(Enum):
    """Codes of check-in's expected errors."""

    LOYALTY_ALREADY_CHECKED_IN = "LOYALTY_ALREADY_CHECKED_IN"
    LOYALTY_MAKE_UP_NOT_ALLOWED = "LOYALTY_MAKE_UP_NOT_ALLOWED"


class AlreadyCheckedIn(DomainError):
    """The member has already checked in on that day (concurrent taps count once)."""

    code = CheckInErrorCode.LOYALTY_ALREADY_CHECKED_IN


class MakeUpNotAllowed(DomainError):
    """Make-up check-in is disabled, or the day is not within the make-up window before today."""

    code = CheckInErrorCode.LOYALTY_MAKE_UP_NOT_ALLOWED
