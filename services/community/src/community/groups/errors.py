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
    COMMUNITY_GROUP_NOT_ACTIVE = "COMMUNITY_GROUP_NOT_ACTIVE"
    COMMUNITY_CHAT_ID_TAKEN = "COMMUNITY_CHAT_ID_TAKEN"
    COMMUNITY_WRONG_PHASE = "COMMUNITY_WRONG_PHASE"
    COMMUNITY_QR_JOINS_CLOSED = "COMMUNITY_QR_JOINS_CLOSED"
    COMMUNITY_QR_CODE_FULL = "COMMUNITY_QR_CODE_FULL"
    COMMUNITY_NOT_A_MEMBER = "COMMUNITY_NOT_A_MEMBER"
    COMMUNITY_TASK_NOT_FOUND = "COMMUNITY_TASK_NOT_FOUND"
    COMMUNITY_TASK_CLOSED = "COMMUNITY_TASK_CLOSED"
    COMMUNITY_NOT_QUALIFIED = "COMMUNITY_NOT_QUALIFIED"


class InvalidGroup(DomainError):
    """The group's capacity, scope name or name breaks a rule."""

    code = CommunityErrorCode.COMMUNITY_INVALID_GROUP


class GroupNotActive(DomainError):
    """The group is planned (not yet opened in WeCom) or closed (details: group_id, status)."""

    code = CommunityErrorCode.COMMUNITY_GROUP_NOT_ACTIVE


class ChatIdTaken(DomainError):
    """Another group already has this WeCom chat id, or this group has another one (details: chat_id)."""

    code = CommunityErrorCode.COMMUNITY_CHAT_ID_TAKEN


class WrongPhase(DomainError):
    """The group is not in the lifecycle phase the operation needs (details: phase, months)."""

    code = CommunityErrorCode.COMMUNITY_WRONG_PHASE
