"""Factories the loyalty tests share: members put straight into loyalty's member directory (what the
`member.registered` consumer does), so points can be given to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.directory.repository import DirectoryRepository
from yutang_shared.db import session_factory


async def known_member(engine: AsyncEngine, member_id: uuid.UUID | None = None, *, closed: bool = False) -> uuid.UUID:
    """A member in loyalty's directory (a new id unless given), active unless `closed`."""
    member_id = member_id or uuid.uuid4()
    async with session_factory(engine)() as session, session.begin():
        directory = DirectoryRepository(session)
        await directory.register(member_id, datetime.now(UTC))
        if closed:
            await directory.close(member_id)
    return member_id


async def known_members(engine: AsyncEngine, n: int) -> list[uuid.UUID]:
    """`n` members in loyalty's directory."""
    return [await known_member(engine) for _ in range(n)]
