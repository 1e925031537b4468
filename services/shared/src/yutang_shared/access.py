"""Field permissions: a service's scopes and what each role holds without listing them; the member-self rule."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from yutang_shared.auth import Principal, Role
from yutang_shared.context import RequestContext, principal_of
from yutang_shared.errors import Forbidden


class _Permission(BasePermission):
    error_class = Forbidden
    message = "not allowed"


class Access:
    """The permission classes of one service, built from its role grants.

    `grants` maps a role to the scopes it holds without its token listing them; a role mapped to `None` holds
    every scope (ops). Partners and services hold only what their tokens list; members hold no scope and read
    their own data through `self_or`.
    """

    def __init__(self, grants: Mapping[Role, Collection[StrEnum] | None]) -> None:
        self._grants = {
            role: None if scopes is None else frozenset(s.value for s in scopes) for role, scopes in grants.items()
        }

    def allows(self, principal: Principal, scope: StrEnum) -> bool:
        """True when the caller's role grants the scope or their token lists it."""
        if principal.role in self._grants:
            granted = self._grants[principal.role]
            if granted is None or scope.value in granted:
                return True
        return principal.role is not Role.MEMBER and principal.holds(scope.value)

    def requires(self, scope: StrEnum) -> type[BasePermission]:
        """A permission granting the field to callers holding `scope`."""
        access = self

        class HasScope(_Permission):
            message = f"requires the {scope.value} scope"

            def has_permission(self, source: Any, info: Info[RequestContext, Any], **kwargs: Any) -> bool:
                return access.allows(principal_of(info), scope)

        HasScope.__name__ = HasScope.__qualname__ = f"Requires_{scope.name}"
        return HasScope

    def self_or(self, scope: StrEnum, *, argument: str | None = None) -> type[BasePermission]:
        """A permission granting the field to the member it is about, or to callers holding `scope`.

        The member is the field's `argument` when given, else the parent object's `id`.
        """
        access = self

        class SelfOrScope(_Permission):
            message = f"members may read only their own data; others need the {scope.value} scope"

            def has_permission(self, source: Any, info: Info[RequestContext, Any], **kwargs: Any) -> bool:
                principal = principal_of(info)
                member_id: uuid.UUID | None = kwargs.get(argument) if argument else getattr(source, "id", None)
                return access.allows(principal, scope) or (member_id is not None and principal.is_member(member_id))

        SelfOrScope.__name__ = SelfOrScope.__qualname__ = f"SelfOr_{scope.name}"
        return SelfOrScope
