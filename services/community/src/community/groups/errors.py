"""Expected failures of community use cases: the service's error codes, and a group that breaks a rule."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class CommunityErrorCode(Enum):
    """Codes of the community service's expected errors (every feature's)."""

    COMMUNITY_INVALID_GROUP = "COMMUNITY_INVALID_GROUP"
    COMMUNITY_GROUP_FULL = "COMMUNITY_GROUP_FULL"
    COMMUNITY_GROUP_NOT_FOUND = "COMMUNITY_GROUP_NOT_FOUND"
    COMMUNITY_UNKNOWN_MEMBER = "COMMUNITY_UNKNOWN_MEMBER"


class InvalidGroup(DomainError):
    """The group's capacity, scope name or name breaks a rule."""

    code = CommunityErrorCode.COMMUNITY_INVALID_GROUP
