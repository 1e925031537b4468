"""The scopes the members service defines, and what each role holds without its token listing them."""

from __future__ import annotations

from enum import StrEnum

from yutang_shared.access import Access
from yutang_shared.auth import Role


class Scope(StrEnum):
    """What a token may do in members; a field's description names the scope it needs."""

    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"


ACCESS = Access({Role.OPS: None, Role.STAFF: {Scope.MEMBERS_READ, Scope.MEMBERS_WRITE}})
requires = ACCESS.requires
self_or = ACCESS.self_or
