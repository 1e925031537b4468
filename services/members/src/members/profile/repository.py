"""The only SQL of the members table: members by id, by mobile fingerprint, and in registration order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.profile.models import Member


class MemberRepository:
    """Members by id, by mobile fingerprint, and in registration order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_if_new(self, member: Member) -> Member | None:
        """Insert unless the mobile is already registered; the stored row when this call created it, else None."""
        values = member.model_dump(exclude={"registered_at"})
        statement = (
            insert(Member)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[col(Member.mobile_fingerprint)])
            .returning(Member)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_fingerprint(self, fingerprint: str) -> Member:
        """The member registered with this mobile."""
        statement = select(Member).where(col(Member.mobile_fingerprint) == fingerprint)
        return (await self.session.execute(statement)).scalar_one()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Member]:
        """The members among `ids` that exist, in no particular order (one SELECT)."""
        statement = select(Member).where(col(Member.id).in_(ids))
        return list((await self.session.execute(statement)).scalars())

    async def page(self, *, limit: int, after: tuple[datetime, uuid.UUID] | None) -> list[Member]:
        """Up to `limit` members in registration order, after the given (registered_at, id) position."""
        statement = select(Member).order_by(col(Member.registered_at), col(Member.id)).limit(limit)
        if after is not None:
            key = tuple_(col(Member.registered_at), col(Member.id))
            statement = statement.where(key > tuple_(literal(after[0]), literal(after[1])))
        return list((await self.session.execute(statement)).scalars())

    async def count(self) -> int:
        """How many members are registered."""
        statement = select(func.count()).select_from(Member)
        return int((await self.session.execute(statement)).scalar_one())
