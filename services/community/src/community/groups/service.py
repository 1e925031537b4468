"""Opening groups: numbered within their (type, scope), named by the house template unless named explicitly."""

from __future__ import annotations

import logging

from community.config import CommunitySettings
from community.domain.kinds import GroupType, ScopeKind
from community.domain.rules import check_capacity, clean_group_name, clean_scope_name, numbered_name
from community.services.views import GroupView
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
    """Open the next numbered group of a (type, scope), e.g. "012·翠湖小区·BrandX" when `name` is not given.

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
