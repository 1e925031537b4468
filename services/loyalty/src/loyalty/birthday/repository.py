"""The only SQL of the birthday feature: a page of active members whose birthday falls on a date, with their tier
level on that date."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The level on `as_of`: the level the member left on their first change after it, else the level they hold now
# (null: never had a tier, the lowest level). Uses the partial index ix_member_directory_birthday_md.
_CELEBRATING = text(
    "SELECT d.member_id, COALESCE("
    "(SELECT c.from_level FROM loyalty.tier_changes AS c WHERE c.member_id = d.member_id AND c.changed_on > :as_of "
    "ORDER BY c.changed_on, c.recorded_at LIMIT 1), t.level) AS level "
    "FROM loyalty.member_directory AS d LEFT JOIN loyalty.member_tiers AS t ON t.member_id = d.member_id "
    "WHERE d.status = 'active' AND d.birthday_md IS NOT NULL AND d.birthday_md = ANY(CAST(:days AS text[])) "
    "AND d.member_id > COALESCE(CAST(:after AS uuid), '00000000-0000-0000-0000-000000000000') "
    "ORDER BY d.member_id LIMIT :limit"
)


class BirthdayRepository:
    """Whose birthday it is."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def celebrating(
        self, *, days: tuple[str, ...], as_of: date, after: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, str | None]]:
        """Active members whose birthday is one of `days`, by id after `after`, with their level on `as_of`."""
        rows = await self.session.execute(
            _CELEBRATING, {"days": list(days), "as_of": as_of, "after": after, "limit": limit}
        )
        return [(row[0], row[1]) for row in rows]
