"""Expected failures of registration."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class MembersErrorCode(Enum):
    """Codes of the members service's expected errors."""

    MEMBERS_INVALID_MOBILE = "MEMBERS_INVALID_MOBILE"
    MEMBERS_INVALID_NICKNAME = "MEMBERS_INVALID_NICKNAME"


class InvalidMobile(DomainError):
    """The mobile is not a valid mainland China mobile number."""

    code = MembersErrorCode.MEMBERS_INVALID_MOBILE


class InvalidNickname(DomainError):
    """The nickname is too long or has characters we do not store."""

    code = MembersErrorCode.MEMBERS_INVALID_NICKNAME
