"""The scopes the loyalty service defines, and what each role holds without its token listing them."""

from __future__ import annotations

from enum import StrEnum

from yutang_shared.access import Access
from yutang_shared.auth import Role


class Scope(StrEnum):
    """What a token may do in loyalty; a field's description names the scope it needs."""

    POINTS_READ = "points:read"
    POINTS_WRITE = "points:write"
    POINTS_RELEASE = "points:release"
    TIERS_REVIEW = "tiers:review"


ACCESS = Access({Role.OPS: None, Role.STAFF: {Scope.POINTS_READ}})
requires = ACCESS.requires
self_or = ACCESS.self_or
