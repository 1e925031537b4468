"""Expected failures of VIP entry."""

from __future__ import annotations

from community.groups.errors import CommunityErrorCode
from yutang_shared.errors import DomainError


class NotQualified(DomainError):
    """The member does not meet the VIP entry rule and has no exception (details: spent_fen, needed_fen, tier)."""

    code = CommunityErrorCode.COMMUNITY_NOT_QUALIFIED
