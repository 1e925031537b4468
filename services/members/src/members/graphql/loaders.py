"""Per-request dataloaders of the members subgraph: one SELECT per batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from members.services.queries import members_by_ids
from members.services.views import MemberView
from members.uow import MembersUnitOfWork
from yutang_shared.db import SessionFactory


@dataclass(frozen=True)
class Loaders:
    """Loaders for one request; a new set per request so nothing is cached across callers."""

    member_by_id: DataLoader[uuid.UUID, MemberView | None]


def make_loaders(sessions: SessionFactory) -> Loaders:
    async def load_members(ids: Sequence[uuid.UUID]) -> list[MemberView | None]:
        found = await members_by_ids(MembersUnitOfWork(sessions), ids)
        return [found.get(member_id) for member_id in ids]

    return Loaders(member_by_id=DataLoader(load_fn=load_members))
