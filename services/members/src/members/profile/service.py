"""Reading members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from members.services.views import MemberPage, MemberView
from members.uow import MembersUnitOfWork


async def members_by_ids(uow: MembersUnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MemberView]:
    """The members among `ids` that exist, keyed by id, in one query."""
    async with uow:
        return {row.id: MemberView.of(row) for row in await uow.members.by_ids(ids)}


async def list_members(
    uow: MembersUnitOfWork, *, limit: int, after: tuple[datetime, uuid.UUID] | None = None
) -> MemberPage:
    """A page of members in registration order; fetches one extra row to know whether more follow."""
    async with uow:
        rows = await uow.members.page(limit=limit + 1, after=after)
        return MemberPage(members=[MemberView.of(r) for r in rows[:limit]], has_next_page=len(rows) > limit)
