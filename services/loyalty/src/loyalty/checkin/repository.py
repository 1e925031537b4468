"""The only SQL of check-in: a day's row inserted once (the primary key refuses a second), and a month read."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.checkin.models import CheckIn

# The streak of the day before, or nothing. Inserting waits for a concurrent insert of the same day; DO NOTHING
# then answers no row: the tap that lost.
_PREVIOUS = text("SELECT streak FROM loyalty.check_ins WHERE member_id = :m AND day = :d")
_INSERT = text(
    "INSERT INTO loyalty.check_ins (member_id, day, streak, points, makeup) VALUES (:m, :d, :s, :p, :mk) "
    "ON CONFLICT (member_id, day) DO NOTHING RETURNING day"
)
_MONTH = text("SELECT * FROM loyalty.check_ins WHERE member_id = :m AND day >= :start AND day < :stop ORDER BY day")


class CheckInRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def streak_on(self, member_id: uuid.UUID, day: date) -> int | None:
        """The streak of the member's check-in on `day` (None: not checked in)."""
        value = await self.session.scalar(_PREVIOUS, {"m": member_id, "d": day})
        return None if value is None else int(value)

    async def insert(self, member_id: uuid.UUID, day: date, *, streak: int, points: int, makeup: bool) -> bool:
        """Record the check-in; False when the member already has one that day."""
        params = {"m": member_id, "d": day, "s": streak, "p": points, "mk": makeup}
        return (await self.session.execute(_INSERT, params)).first() is not None

    async def between(self, member_id: uuid.UUID, start: date, stop: date) -> list[CheckIn]:
        rows = await self.session.execute(_MONTH, {"m": member_id, "start": start, "stop": stop})
        return [CheckIn(**dict(row)) for row in rows.mappings()]
