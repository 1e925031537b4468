"""Groups use cases: opening groups (numbered within their type and scope, named by the house template unless
named explicitly) and reading them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from community.config import CommunitySettings
from community.groups.models import GroupType, ScopeKind
from community.groups.repository import Position
from community.groups.rules import check_capacity, clean_group_name, clean_scope_name, numbered_name
from community.groups.views import GroupView
from community.uow import CommunityUnitOfWork

log = logging.getLogger(__name__)


async def create_group(
    uow: CommunityUnitOfWork,
    settings: CommunitySettings,
    *,
    group_type: GroupType,
    scope_kind: ScopeKind,
    scope_name: str,
    capacity: int | None = None,
    name: str | None = None,
) -> GroupView:
    """Open the next numbered group of a (type, scope), e.g. "012·翠湖小区·BrandX" when `name` is not given; the
    brand and the type's default capacity come from `settings` (the app's, never a process global).

    WeCom has no API to create customer groups: this records the group a staff member opens in WeCom. Numbering
    is serialised per scope (an advisory lock, backed by the unique constraint), so concurrent calls get
    distinct numbers. Raises InvalidGroup (bad capacity, scope name or name) and then writes nothing.
    """
    scope = clean_scope_name(scope_name)
    explicit_name = None if name is None else clean_group_name(name)
    size = check_capacity(capacity, settings.default_capacity(group_type))
    async with uow:
        await uow.groups.lock_scope(group_type, scope_kind, scope)
        sequence = await uow.groups.next_sequence(group_type, scope_kind, scope)
        group = await uow.groups.add(
            name=explicit_name or numbered_name(sequence, scope, settings.brand_name),
            group_type=group_type,
            scope_kind=scope_kind,
            scope_name=scope,
            sequence=sequence,
            capacity=size,
        )
        view = GroupView.of(group)
        await uow.commit()
    log.info("group created", extra={"group_id": str(view.id), "group_type": group_type.value, "sequence": sequence})
    return view


async def groups_by_ids(uow: CommunityUnitOfWork, ids: Sequence[uuid.UUID]) -> list[GroupView | None]:
    """The groups with these ids, in the order asked (None where there is none), in one query."""
    async with uow:
        found = {row.id: GroupView.of(row) for row in await uow.groups.by_ids(ids)}
    return [found.get(group_id) for group_id in ids]


async def group_page(
    uow: CommunityUnitOfWork, *, limit: int, after: Position | None = None, group_type: GroupType | None = None
) -> list[GroupView]:
    """Up to `limit` groups in creation order after the `after` position, optionally of one type."""
    async with uow:
        return [GroupView.of(row) for row in await uow.groups.page(limit=limit, after=after, group_type=group_type)]


async def group_count(uow: CommunityUnitOfWork, *, group_type: GroupType | None = None) -> int:
    """How many groups there are, optionally of one type."""
    async with uow:
        return await uow.groups.count(group_type=group_type)
