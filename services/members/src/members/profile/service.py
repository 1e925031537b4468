"""Profile use cases: reading members by id, in registration order, and counting them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from members.profile.views import MemberView
from members.uow import MembersUnitOfWork


async def members_by_ids(uow: MembersUnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MemberView]:
    """The members among `ids` that exist, keyed by id, in one query."""
    async with uow:
        return {row.id: MemberView.of(row) for row in await uow.members.by_ids(ids)}


async def list_members(
    uow: MembersUnitOfWork, *, limit: int, after: tuple[datetime, uuid.UUID] | None = None
) -> list[MemberView]:
    """Up to `limit` members in registration order, after the (registered_at, id) position `after`."""
    async with uow:
        return [MemberView.of(row) for row in await uow.members.page(limit=limit, after=after)]


async def count(uow: MembersUnitOfWork) -> int:
    """How many members are registered, in one query."""
    async with uow:
        return await uow.members.count()
