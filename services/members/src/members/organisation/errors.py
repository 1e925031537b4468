"""Expected failures of the organisation feature (and of profile use cases that name a store or a staff member)."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class DirectoryErrorCode(Enum):
    """Codes of the expected errors of the organisation and the member profile (one enum, so a payload mixing
    both selects `code` once)."""

    MEMBERS_UNKNOWN_REGION = "MEMBERS_UNKNOWN_REGION"
    MEMBERS_UNKNOWN_STORE = "MEMBERS_UNKNOWN_STORE"
    MEMBERS_UNKNOWN_WAREHOUSE = "MEMBERS_UNKNOWN_WAREHOUSE"
    MEMBERS_UNKNOWN_STAFF = "MEMBERS_UNKNOWN_STAFF"
    MEMBERS_DUPLICATE_CODE = "MEMBERS_DUPLICATE_CODE"
    MEMBERS_CODE_IMMUTABLE = "MEMBERS_CODE_IMMUTABLE"
    MEMBERS_DUPLICATE_WECOM_USERID = "MEMBERS_DUPLICATE_WECOM_USERID"
    MEMBERS_STAFF_INACTIVE = "MEMBERS_STAFF_INACTIVE"
    MEMBERS_NOT_A_GUIDE = "MEMBERS_NOT_A_GUIDE"
    MEMBERS_INVALID_ORGANISATION_INPUT = "MEMBERS_INVALID_ORGANISATION_INPUT"
    MEMBERS_UNKNOWN_MEMBER = "MEMBERS_UNKNOWN_MEMBER"
    MEMBERS_MEMBER_FROZEN = "MEMBERS_MEMBER_FROZEN"
    MEMBERS_MEMBER_CLOSED = "MEMBERS_MEMBER_CLOSED"
    MEMBERS_INVALID_BIRTHDAY = "MEMBERS_INVALID_BIRTHDAY"
    MEMBERS_INVALID_PROFILE = "MEMBERS_INVALID_PROFILE"
    MEMBERS_WECHAT_ID_TAKEN = "MEMBERS_WECHAT_ID_TAKEN"
    MEMBERS_MOBILE_TAKEN = "MEMBERS_MOBILE_TAKEN"
    MEMBERS_WECHAT_CODE_INVALID = "MEMBERS_WECHAT_CODE_INVALID"
    MEMBERS_WECHAT_CODE_USED = "MEMBERS_WECHAT_CODE_USED"
    MEMBERS_WECHAT_UNAVAILABLE = "MEMBERS_WECHAT_UNAVAILABLE"


class UnknownRegion(DomainError):
    """No region has that code or id."""

    code = DirectoryErrorCode.MEMBERS_UNKNOWN_REGION


class UnknownStore(DomainError):
    """No store has that code or id."""

    code = DirectoryErrorCode.MEMBERS_UNKNOWN_STORE


class UnknownWarehouse(DomainError):
    """No warehouse has that code or id."""

    code = DirectoryErrorCode.MEMBERS_UNKNOWN_WAREHOUSE


class UnknownStaff(DomainError):
    """No staff member has that id or WeCom userid."""

    code = DirectoryErrorCode.MEMBERS_UNKNOWN_STAFF


class DuplicateCode(DomainError):
    """Another region, store or warehouse already has that code."""

    code = DirectoryErrorCode.MEMBERS_DUPLICATE_CODE


class CodeImmutable(DomainError):
    """Codes never change once written."""

    code = DirectoryErrorCode.MEMBERS_CODE_IMMUTABLE


class DuplicateWecomUserid(DomainError):
    """Another staff member already has that WeCom userid."""

    code = DirectoryErrorCode.MEMBERS_DUPLICATE_WECOM_USERID


class StaffInactive(DomainError):
    """The staff member has left (is deactivated)."""

    code = DirectoryErrorCode.MEMBERS_STAFF_INACTIVE


class NotAGuide(DomainError):
    """The staff member does not have the guide role."""

    code = DirectoryErrorCode.MEMBERS_NOT_A_GUIDE


class InvalidOrganisationInput(DomainError):
    """A code, name or placement breaks the organisation's rules."""

    code = DirectoryErrorCode.MEMBERS_INVALID_ORGANISATION_INPUT
