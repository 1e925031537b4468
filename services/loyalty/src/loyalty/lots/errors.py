"""Expected failures of the lots feature."""

from __future__ import annotations

from enum import Enum

from yutang_shared.errors import DomainError


class LotsErrorCode(Enum):
    """Codes of the lots feature's expected errors."""

    LOYALTY_INVALID_SHARD = "LOYALTY_INVALID_SHARD"
    LOYALTY_NO_LOT_TO_EXPIRE = "LOYALTY_NO_LOT_TO_EXPIRE"


class InvalidShard(DomainError):
    """`shards` is not 1–256 or `shard` is not in 0 … shards − 1."""

    code = LotsErrorCode.LOYALTY_INVALID_SHARD


class NoLotToExpire(DomainError):
    """The lot does not exist, has not lapsed by the date given, or has nothing left to expire."""

    code = LotsErrorCode.LOYALTY_NO_LOT_TO_EXPIRE
