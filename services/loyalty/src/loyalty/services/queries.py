"""Reading balances and ledgers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from loyalty.services.views import EntryPage, EntryView
from loyalty.uow import LoyaltyUnitOfWork


async def balances(uow: LoyaltyUnitOfWork, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Each member's balance (zero without an account) in one query."""
    async with uow:
        found = {a.member_id: a.balance for a in await uow.accounts.by_member_ids(member_ids)}
    return {member_id: found.get(member_id, 0) for member_id in member_ids}


async def ledger_page(
    uow: LoyaltyUnitOfWork, member_id: uuid.UUID, *, limit: int, before: tuple[datetime, uuid.UUID] | None = None
) -> EntryPage:
    """A page of the member's ledger, newest first."""
    async with uow:
        rows = await uow.ledger.page(member_id, limit=limit + 1, before=before)
        return EntryPage(entries=[EntryView.of(r) for r in rows[:limit]], has_next_page=len(rows) > limit)
