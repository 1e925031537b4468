"""Per-request dataloaders of the community subgraph: one SELECT per batch."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from strawberry.dataloader import DataLoader

from community.services.queries import groups_by_ids, groups_by_member_ids, membership_pages
from community.services.views import GroupView, MembershipPage
from community.uow import CommunityUnitOfWork
from yutang_shared.db import SessionFactory


@dataclass(frozen=True, slots=True)
class MembershipPageKey:
    """Which page of which group's members: groups asked with the same size and position share one query."""

    group_id: uuid.UUID
    limit: int
    after: tuple[datetime, uuid.UUID] | None


@dataclass(frozen=True)
class Loaders:
    """Loaders for one request; a new set per request so nothing is cached across callers."""

    group_by_id: DataLoader[uuid.UUID, GroupView | None]
    groups_by_member_id: DataLoader[uuid.UUID, list[GroupView]]
    memberships_by_group: DataLoader[MembershipPageKey, MembershipPage]


def make_loaders(sessions: SessionFactory) -> Loaders:
    async def load_groups(ids: Sequence[uuid.UUID]) -> list[GroupView | None]:
        found = await groups_by_ids(CommunityUnitOfWork(sessions), ids)
        return [found.get(group_id) for group_id in ids]

    async def load_member_groups(member_ids: Sequence[uuid.UUID]) -> list[list[GroupView]]:
        found = await groups_by_member_ids(CommunityUnitOfWork(sessions), member_ids)
        return [found.get(member_id, []) for member_id in member_ids]

    async def load_memberships(keys: Sequence[MembershipPageKey]) -> list[MembershipPage]:
        by_window: dict[tuple[int, tuple[datetime, uuid.UUID] | None], list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            by_window[(key.limit, key.after)].append(key.group_id)
        pages: dict[MembershipPageKey, MembershipPage] = {}
        for (limit, after), group_ids in by_window.items():
            found = await membership_pages(CommunityUnitOfWork(sessions), group_ids, limit=limit, after=after)
            pages.update({MembershipPageKey(g, limit, after): page for g, page in found.items()})
        return [pages[key] for key in keys]

    return Loaders(
        group_by_id=DataLoader(load_fn=load_groups),
        groups_by_member_id=DataLoader(load_fn=load_member_groups),
        memberships_by_group=DataLoader(load_fn=load_memberships),
    )
