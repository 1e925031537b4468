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


class QrJoinsClosed(DomainError):
    """The group has 200 members or more: WeCom no longer honours QR-code joins (details: member_count)."""

    code = CommunityErrorCode.COMMUNITY_QR_JOINS_CLOSED


class QrCodeFull(DomainError):
    """The join QR code already serves 5 groups, WeCom's limit (details: qr_code)."""

    code = CommunityErrorCode.COMMUNITY_QR_CODE_FULL


class NotAMember(DomainError):
    """The member is not in the group (details: group_id, member_id)."""

    code = CommunityErrorCode.COMMUNITY_NOT_A_MEMBER
