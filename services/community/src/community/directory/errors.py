"""Expected failures of the member directory."""

from __future__ import annotations

import uuid

from community.groups.errors import CommunityErrorCode
from yutang_shared.errors import DomainError


class UnknownMember(DomainError):
    """The members service never announced this member, or closed them (details: member_id)."""

    code = CommunityErrorCode.COMMUNITY_UNKNOWN_MEMBER

    def __init__(self, member_id: uuid.UUID) -> None:
        super().__init__("no active member has this id", member_id=member_id)
