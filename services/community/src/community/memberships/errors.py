"""Expected failures of joining a group."""

from __future__ import annotations

from community.groups.errors import CommunityErrorCode
from yutang_shared.errors import DomainError


class GroupFull(DomainError):
    """The group already holds as many members as its capacity allows (details: capacity)."""

    code = CommunityErrorCode.COMMUNITY_GROUP_FULL


class GroupNotFound(DomainError):
    """No group has this id (details: group_id)."""

    code = CommunityErrorCode.COMMUNITY_GROUP_NOT_FOUND
