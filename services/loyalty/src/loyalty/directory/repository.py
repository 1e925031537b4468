"""The only SQL of the directory feature: members announced by events, looked up a batch at a time."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ARRAY, Table, Uuid, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.directory.models import DirectoryMember, DirectoryStatus

_DIRECTORY: Table = DirectoryMember.__table__  # type: ignore[attr-defined]
# Built once, with `= ANY(array)`: every ledger write asks it, and building the statement cost more than running it.
_ACTIVE_AMONG = select(_DIRECTORY.c.member_id).where(
    _DIRECTORY.c.member_id == any_(bindparam("ids", type_=ARRAY(Uuid))),
    _DIRECTORY.c.status == DirectoryStatus.ACTIVE.value,
)


class DirectoryRepository:
    """Who loyalty knows as a member, and whether they are active."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def register(self, member_id: uuid.UUID, registered_at: datetime) -> None:
        """Add an active member; a member already known keeps their status (a closing that arrived first wins)."""
        statement = insert(DirectoryMember).values(
            member_id=member_id, status=DirectoryStatus.ACTIVE.value, registered_at=registered_at
        )
        statement = statement.on_conflict_do_update(
            index_elements=["member_id"],
            set_={"registered_at": func.coalesce(DirectoryMember.__table__.c.registered_at, registered_at)},  # type: ignore[attr-defined]
        )
        await self.session.execute(statement)

    async def close(self, member_id: uuid.UUID) -> None:
        """Mark a member closed, known before or not."""
        statement = insert(DirectoryMember).values(member_id=member_id, status=DirectoryStatus.CLOSED.value)
        statement = statement.on_conflict_do_update(
            index_elements=["member_id"], set_={"status": DirectoryStatus.CLOSED.value, "updated_at": func.now()}
        )
        await self.session.execute(statement)

    async def active_among(self, member_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The active members among `member_ids` (one SELECT)."""
        return set((await self.session.execute(_ACTIVE_AMONG, {"ids": list(set(member_ids))})).scalars())
