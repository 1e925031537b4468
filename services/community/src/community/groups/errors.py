"""Expected failures of community use cases."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class CommunityErrorCode(Enum):
    """Codes of the community service's expected errors."""

    COMMUNITY_INVALID_GROUP = "COMMUNITY_INVALID_GROUP"
    COMMUNITY_GROUP_FULL = "COMMUNITY_GROUP_FULL"
    COMMUNITY_GROUP_NOT_FOUND = "COMMUNITY_GROUP_NOT_FOUND"


class InvalidGroup(DomainError):
    """The group's capacity, scope name or name breaks a rule."""

    code = CommunityErrorCode.COMMUNITY_INVALID_GROUP


class GroupFull(DomainError):
    """The group already holds as many members as its capacity allows (details: capacity)."""

    code = CommunityErrorCode.COMMUNITY_GROUP_FULL


class GroupNotFound(DomainError):
    """No group has this id (details: group_id)."""

    code = CommunityErrorCode.COMMUNITY_GROUP_NOT_FOUND
