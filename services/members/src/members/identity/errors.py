"""Expected failures of identity: refusals of the login and token endpoints, and of client management."""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Self

from members.organisation.errors import DirectoryErrorCode
from yutang_shared.auth import Principal
from yutang_shared.errors import DomainError


class LoginRefused(Exception):
    """A login, refresh or logout request that is refused; answered as `{"error": code, "error_description"}`
    with `status`, in the shape of RFC 6749's token errors. Nothing was changed."""

    code: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description
        # Who was refused, when known (a frozen member, a staff member who left): the audit entry's actor and
        # target. Never a code, ticket or token.
        self.subject: Principal | None = None
        # For a caller who is nobody of ours yet (an unknown WeChat user, a WeCom user who is not staff): the app
        # they came through (WeChat app id, WeCom corp id) and, when known, a keyed pseudonym of their openid or
        # userid (MobileVault.pseudonym): the audit entry's client and actor instead of a bare `anonymous`.
        self.app: str | None = None
        self.caller: str | None = None
        # True when the use case already wrote the refusal's audit entry (a reused refresh token, recorded with
        # the revocation of its family).
        self.audited = False

    def of(self, subject: Principal) -> Self:
        """This refusal, naming whom it refused."""
        self.subject = subject
        return self

    def by(self, app: str | None, caller: str | None = None) -> Self:
        """This refusal, naming the app an unknown caller came through and their pseudonym (first one set wins)."""
        self.app = self.app or app
        self.caller = self.caller or caller
        return self


class InvalidRequest(LoginRefused):
    """The body is not what the endpoint takes."""


class InvalidCode(LoginRefused):
    """WeChat or WeCom does not know the code (errcode 40029): it is wrong, expired or from another app."""

    code = "invalid_code"


class CodeUsed(LoginRefused):
    """The code was already exchanged (errcode 40163); a code is good for one login."""

    code = "code_used"


class InvalidGrant(LoginRefused):
    """The refresh token or login ticket is unknown, expired, used, or revoked."""

    code = "invalid_grant"


class MemberClosed(LoginRefused):
    """The member closed their account: they cannot log in."""

    code = "member_closed"
    status = 401


class MemberFrozen(LoginRefused):
    """The member is frozen: they cannot log in until unfrozen."""

    code = "member_frozen"
    status = 401


class UnknownStaff(LoginRefused):
    """The WeCom user is not a staff member of the brand."""

    code = "unknown_staff"
    status = 401


class StaffInactive(LoginRefused):
    """The staff member left or was deactivated."""

    code = "staff_inactive"
    status = 401


class UpstreamUnavailable(LoginRefused):
    """WeChat or WeCom is busy, rate-limited us, unreachable, or refuses our app credentials; try again later."""

    code = "temporarily_unavailable"
    status = 503


class IdentityErrorCode(Enum):
    """Codes of identity's expected GraphQL errors."""

    MEMBERS_CLIENT_NOT_FOUND = "MEMBERS_CLIENT_NOT_FOUND"
    MEMBERS_INVALID_CLIENT = "MEMBERS_INVALID_CLIENT"


class ClientNotFound(DomainError):
    """No OAuth client has that client id (or it is revoked, for rotation)."""

    code = IdentityErrorCode.MEMBERS_CLIENT_NOT_FOUND


class InvalidClient(DomainError):
    """The client registration makes no sense: unknown scope, empty name, limits out of range, too many stores."""

    code = IdentityErrorCode.MEMBERS_INVALID_CLIENT


class WechatCodeRefused(DomainError):
    """WeChat does not know the `getPhoneNumber` code (errcode 40029: wrong, expired or from another app)."""

    code = DirectoryErrorCode.MEMBERS_WECHAT_CODE_INVALID


class WechatCodeAlreadyUsed(DomainError):
    """The `getPhoneNumber` code was already exchanged (errcode 40163); a code is good once."""

    code = DirectoryErrorCode.MEMBERS_WECHAT_CODE_USED


class WechatUnavailable(DomainError):
    """WeChat is busy, unreachable, refuses our app credentials, or is not configured; try again later."""

    code = DirectoryErrorCode.MEMBERS_WECHAT_UNAVAILABLE
