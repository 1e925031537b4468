"""Reading groups and their members."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from community.domain.kinds import GroupType
from community.repositories import Position
from community.services.views import GroupPage, GroupView, MembershipPage, MembershipView
from community.uow import CommunityUnitOfWork


async def groups_by_ids(uow: CommunityUnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, GroupView]:
    """The groups among `ids` that exist, keyed by id, in one query."""
    async with uow:
        return {row.id: GroupView.of(row) for row in await uow.groups.by_ids(ids)}


async def groups_by_member_ids(
    uow: CommunityUnitOfWork, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GroupView]]:
    """Each member's groups in joining order, in one query; members in no group are absent."""
    found: dict[uuid.UUID, list[GroupView]] = defaultdict(list)
    async with uow:
        for member_id, group in await uow.groups.by_member_ids(member_ids):
            found[member_id].append(GroupView.of(group))
    return found


async def list_groups(
    uow: CommunityUnitOfWork, *, limit: int, after: Position | None = None, group_type: GroupType | None = None
) -> GroupPage:
    """A page of groups in creation order; fetches one extra row to know whether more follow."""
    async with uow:
        rows = await uow.groups.page(limit=limit + 1, after=after, group_type=group_type)
        return GroupPage(groups=[GroupView.of(r) for r in rows[:limit]], has_next_page=len(rows) > limit)


async def membership_pages(
    uow: CommunityUnitOfWork, group_ids: Sequence[uuid.UUID], *, limit: int, after: Position | None = None
) -> dict[uuid.UUID, MembershipPage]:
    """One page of members for each group, all in one query; one extra row per group tells whether more follow."""
    rows: dict[uuid.UUID, list[MembershipView]] = {group_id: [] for group_id in group_ids}
    async with uow:
        for row in await uow.memberships.pages(group_ids, limit=limit + 1, after=after):
            rows[row.group_id].append(MembershipView.of(row))
    return {
        group_id: MembershipPage(memberships=views[:limit], has_next_page=len(views) > limit)
        for group_id, views in rows.items()
    }
