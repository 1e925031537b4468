"""Expected failures of operator tasks."""

from __future__ import annotations

from community.groups.errors import CommunityErrorCode
from yutang_shared.errors import DomainError


class TaskNotFound(DomainError):
    """No task has this id (details: task_id)."""

    code = CommunityErrorCode.COMMUNITY_TASK_NOT_FOUND


class TaskClosed(DomainError):
    """The task is already done, skipped or expired: its effect was applied once, or never will be (details: status)."""

    code = CommunityErrorCode.COMMUNITY_TASK_CLOSED
