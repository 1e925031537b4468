"""Expected failures of profile use cases."""

from __future__ import annotations

from members.organisation.errors import DirectoryErrorCode
from yutang_shared.errors import DomainError


class UnknownMember(DomainError):
    """No member has that id."""

    code = DirectoryErrorCode.MEMBERS_UNKNOWN_MEMBER


class MemberFrozen(DomainError):
    """The member is frozen: their profile and guide cannot change until they are unfrozen."""

    code = DirectoryErrorCode.MEMBERS_MEMBER_FROZEN


class MemberClosed(DomainError):
    """The member's account is closed: nothing about them changes any more."""

    code = DirectoryErrorCode.MEMBERS_MEMBER_CLOSED


class InvalidBirthday(DomainError):
    """The birthday is in the future or before 1900."""

    code = DirectoryErrorCode.MEMBERS_INVALID_BIRTHDAY


class InvalidProfile(DomainError):
    """A profile field is too long, has control characters, or the avatar is not an http(s) URL."""

    code = DirectoryErrorCode.MEMBERS_INVALID_PROFILE


class WechatIdTaken(DomainError):
    """The WeChat unionid or openid already belongs to another member."""

    code = DirectoryErrorCode.MEMBERS_WECHAT_ID_TAKEN


class MobileTaken(DomainError):
    """The mobile number is registered to another member (one member per mobile, by its keyed fingerprint)."""

    code = DirectoryErrorCode.MEMBERS_MOBILE_TAKEN
