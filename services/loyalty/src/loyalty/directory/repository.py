"""The only SQL of the directory feature: members announced by events, looked up a batch at a time."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ARRAY, Table, Uuid, any_, bindparam, case, func, select, update
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

    async def register(self, member_id: uuid.UUID, registered_at: datetime, birthday_md: str | None = None) -> None:
        """Add an active member; a member already known keeps their status (a closing that arrived first wins, and
        a closed member keeps no birthday) and the birthday they have."""
        statement = insert(DirectoryMember).values(
            member_id=member_id,
            status=DirectoryStatus.ACTIVE.value,
            registered_at=registered_at,
            birthday_md=birthday_md,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["member_id"],
            set_={
                "registered_at": func.coalesce(_DIRECTORY.c.registered_at, registered_at),
                "birthday_md": case(
                    (
                        _DIRECTORY.c.status == DirectoryStatus.ACTIVE.value,
                        func.coalesce(_DIRECTORY.c.birthday_md, birthday_md),
                    ),
                    else_=None,
                ),
            },
        )
        await self.session.execute(statement)

    async def set_birthday(self, member_id: uuid.UUID, birthday_md: str | None) -> bool:
        """Keep the member's birthday ("MM-DD" or None); a closed member keeps none. False when loyalty does not know
        the member yet (its registration has not been applied)."""
        statement = (
            update(_DIRECTORY)
            .where(_DIRECTORY.c.member_id == member_id)
            .values(
                birthday_md=case((_DIRECTORY.c.status == DirectoryStatus.ACTIVE.value, birthday_md), else_=None),
                updated_at=func.now(),
            )
            .returning(_DIRECTORY.c.member_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def close(self, member_id: uuid.UUID) -> None:
        """Mark a member closed, known before or not; their birthday is forgotten."""
        statement = insert(DirectoryMember).values(member_id=member_id, status=DirectoryStatus.CLOSED.value)
        statement = statement.on_conflict_do_update(
            index_elements=["member_id"],
            set_={"status": DirectoryStatus.CLOSED.value, "birthday_md": None, "updated_at": func.now()},
        )
        await self.session.execute(statement)

    async def active_among(self, member_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """The active members among `member_ids` (one SELECT)."""
        return set((await self.session.execute(_ACTIVE_AMONG, {"ids": list(set(member_ids))})).scalars())
