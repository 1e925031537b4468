"""The scopes the community service defines, and what each role holds without its token listing them."""

from __future__ import annotations

from enum import StrEnum

from yutang_shared.access import Access
from yutang_shared.auth import Role


class Scope(StrEnum):
    """What a token may do in community; a field's description names the scope it needs."""

    GROUPS_READ = "groups:read"
    GROUPS_WRITE = "groups:write"


ACCESS = Access({Role.OPS: None, Role.STAFF: {Scope.GROUPS_READ, Scope.GROUPS_WRITE}})
requires = ACCESS.requires
self_or = ACCESS.self_or
