"""Expected failures of member insights: each names the fact, and nothing is written."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class InsightsErrorCode(Enum):
    """Codes of the insights feature's expected errors."""

    MEMBERS_INVALID_AS_OF = "MEMBERS_INVALID_AS_OF"
    MEMBERS_INVALID_SHARD = "MEMBERS_INVALID_SHARD"


class InvalidAsOf(DomainError):
    """The refresh date is after today (Asia/Shanghai)."""

    code = InsightsErrorCode.MEMBERS_INVALID_AS_OF


class InvalidShard(DomainError):
    """The shard is not in 0 … shards − 1, or shards is out of range."""

    code = InsightsErrorCode.MEMBERS_INVALID_SHARD
