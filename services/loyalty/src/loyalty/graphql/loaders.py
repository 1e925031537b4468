"""Per-request dataloaders of the loyalty subgraph: one SELECT per batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from loyalty.services.queries import balances
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.db import SessionFactory


@dataclass(frozen=True)
class Loaders:
    """Loaders for one request."""

    balance_by_member_id: DataLoader[uuid.UUID, int]


def make_loaders(sessions: SessionFactory) -> Loaders:
    async def load_balances(member_ids: Sequence[uuid.UUID]) -> list[int]:
        found = await balances(LoyaltyUnitOfWork(sessions), member_ids)
        return [found[member_id] for member_id in member_ids]

    return Loaders(balance_by_member_id=DataLoader(load_fn=load_balances))
