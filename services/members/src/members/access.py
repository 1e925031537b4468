"""The permission classes that enforce members.authorization's table, and the audit of refusals.

`Authorized` guards a field by its own rule (`RULES["<Type>.<field>"]`): the caller's role must be granted it,
and when the field names a member (an `id` / `memberId` argument or an input's `memberId`) that member must be
within the caller's reach; an orders field's orders (the store of each order to record, of the order to read or
refund) must be in stores within the caller's reach. A Member field checks the member it belongs to. Refused
mutations are audited with the outcome `FORBIDDEN`; mutations refused with a typed error are audited by `AuditRefusals`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from members.audit.service import Actor, record_refusal
from members.authorization import RULES, MemberScope, Rule, scope_under
from members.context import MembersInfo
from members.organisation.service import region_of_stores
from members.profile.views import MemberView
from members.uow import MembersUnitOfWork
from yutang_shared.context import principal_of
from yutang_shared.db import SessionFactory
from yutang_shared.errors import DomainError, Forbidden

_VERB = re.compile(r"^(create|update|deactivate|handOver)")


async def region_by_store_code(sessions: SessionFactory, codes: Sequence[str]) -> list[str | None]:
    """Each store's region code (None for an unknown store), in one SELECT per request batch."""
    found = await region_of_stores(MembersUnitOfWork(sessions), codes)
    return [found.get(code) for code in codes]


def rule_of(info: Info[Any, Any]) -> tuple[str, Rule]:
    """The field's rule: `<Type>.<field>`, or `Member.fields` for a Member field."""
    parent = info._raw_info.parent_type.name
    name = f"{parent}.{info.field_name}"
    if name not in RULES and parent == "Member":
        name = "Member.fields"
    return name, RULES[name]


def member_scope(info: MembersInfo, name: str) -> MemberScope | None:
    """The members the caller reaches under the named rule, or None when it is not granted at all."""
    return scope_under(RULES[name], principal_of(info))


async def covers(info: MembersInfo, scope: MemberScope, member: MemberView) -> bool:
    """True when `member` is within `scope` (a supervisor's stores are mapped to regions once per request)."""
    if scope.member_id is not None and scope.member_id == str(member.id):
        return True
    return await covers_store(info, scope, member.home_store_code)


async def covers_store(info: MembersInfo, scope: MemberScope, store: str | None) -> bool:
    """True when the store `store` is within `scope`: one of its stores, or a store of one of its regions."""
    if scope.everyone:
        return True
    if store is None:
        return False
    if store in scope.stores:
        return True
    if scope.regions:
        return await info.context.loaders(region_by_store_code).load(store) in scope.regions
    return False


def target_of(kwargs: dict[str, Any]) -> Any:
    """The id a field's arguments name: `id`, `memberId`, `fromStaffId`, `code`, `clientId`, or the same in its
    `input`."""
    for source in (kwargs, vars(kwargs["input"]) if "input" in kwargs and hasattr(kwargs["input"], "__dict__") else {}):
        for key in ("member_id", "id", "from_staff_id", "code", "client_id"):
            if source.get(key) is not None:
                return source[key]
    return None


async def target_stores(info: MembersInfo, kwargs: dict[str, Any]) -> list[str | None]:
    """The stores a store-scoped field names: the stores of the orders to record, the registration store (None
    when the input names none), the store of the order to read or refund (nothing when that order does not exist:
    the resolver answers it), or nothing for a list (the resolver filters it in SQL)."""
    from members.orders.graphql.types import order_by_id  # the loader, shared with the resolver
    from members.orders.service import order_by_key

    if "inputs" in kwargs:
        return [item.store_code for item in kwargs["inputs"]]
    item = kwargs.get("input")
    if item is not None and hasattr(item, "store_code"):
        return [item.store_code]
    order_id = kwargs.get("id") if item is None else getattr(item, "order_id", None)
    if isinstance(order_id, uuid.UUID):
        found = await info.context.loaders(order_by_id).load(order_id)
        return [] if found is None else [found.store_code]
    external = getattr(item, "external_order_id", None)
    if isinstance(external, str):
        client = principal_of(info).subject
        by_key = await order_by_key(MembersUnitOfWork(info.context.sessions), client, external)
        return [] if by_key is None else [by_key.store_code]
    return []


def target_type(rule: Rule, field_name: str) -> str:
    """What a mutation acts on, for the audit log: an order, a member, or the organisation noun in its name."""
    if rule.by_store and field_name.startswith("record"):
        return "order"
    if rule.about_member:
        return "member"
    noun = _VERB.sub("", field_name)
    return "staff" if noun in ("Members", "Staff") else noun.lower()


class Authorized(BasePermission):
    """Grants a field when the table grants the caller's role and, for a field about a member, the member is
    within the caller's reach."""

    error_class = Forbidden
    message = "not allowed for this caller or outside their stores"

    async def has_permission(self, source: Any, info: MembersInfo, **kwargs: Any) -> bool:
        _name, rule = rule_of(info)
        scope = scope_under(rule, principal_of(info))
        allowed = scope is not None and await self._reaches(source, info, scope, rule, kwargs)
        if not allowed and rule.mutation:
            await record_refusal(
                info.context.sessions,
                Actor.of(principal_of(info)),
                action=info.field_name,
                target_type=target_type(rule, info.field_name),
                target_id=target_of(kwargs),
                code="FORBIDDEN",
            )
        return allowed

    @staticmethod
    async def _reaches(source: Any, info: MembersInfo, scope: MemberScope, rule: Rule, kwargs: dict[str, Any]) -> bool:
        if scope.everyone or not rule.about_member:
            return True
        if rule.by_store:
            # Every store named must be in reach: a batch with one order of another store is refused whole.
            return all([await covers_store(info, scope, store) for store in await target_stores(info, kwargs)])
        view: MemberView | None = getattr(source, "view", None)
        if view is None:
            target = target_of(kwargs)
            if not isinstance(target, uuid.UUID):
                # Lists and lookups: the resolver limits what it returns to the scope.
                return True
            from members.profile.graphql import member_by_id  # the loader, shared with the resolver

            view = await info.context.loaders(member_by_id).load(target)
            if view is None:
                return True  # the resolver answers "no such member"; nothing is revealed
        return await covers(info, scope, view)


class AuditRefusals(FieldExtension):
    """Records a mutation refused with a typed error in the audit log (its own transaction), then lets the error
    become the payload's union member as usual. The target type comes from the field's rule, or is given for a
    mutation outside members.authorization's table (identity's client management)."""

    def __init__(self, target_type: str | None = None) -> None:
        super().__init__()
        self.target_type = target_type

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except DomainError as error:
            kind = self.target_type or target_type(rule_of(info)[1], info.field_name)
            await record_refusal(
                info.context.sessions,
                Actor.of(principal_of(info)),
                action=info.field_name,
                target_type=kind,
                target_id=target_of(kwargs),
                code=error.code.value,
            )
            raise
