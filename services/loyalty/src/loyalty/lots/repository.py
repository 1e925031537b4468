"""The only SQL of the lots feature: lapsed lots by shard, points expiring soon, and reconciliation checks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.lots.views import Expiring, LotMismatch
from loyalty.points.lots import Lot

# A member's shard: a stable hash of their id (hashtext is stable across sessions and servers of one version).
_DUE_MEMBERS = text(
    "SELECT DISTINCT member_id FROM loyalty.point_lots WHERE remaining > 0 AND expires_on <= :as_of "
    "AND mod(hashtext(member_id::text)::bigint + 2147483648, :shards) = :shard ORDER BY member_id LIMIT :limit"
)
_DUE_LOTS = text(
    "SELECT id, member_id, remaining, expires_on, earned_at, order_id, points FROM loyalty.point_lots "
    "WHERE member_id = ANY(CAST(:members AS uuid[])) AND remaining > 0 AND expires_on <= :as_of "
    "ORDER BY member_id, expires_on, earned_at, id"
)
_LOT = text(
    "SELECT id, member_id, remaining, expires_on, earned_at, order_id, points FROM loyalty.point_lots WHERE id = :id"
)
_EXPIRING = text(
    "SELECT member_id, expires_on, sum(remaining) AS points FROM loyalty.point_lots "
    "WHERE member_id = ANY(CAST(:members AS uuid[])) AND remaining > 0 AND expires_on > :as_of "
    "AND expires_on <= :until GROUP BY member_id, expires_on ORDER BY member_id, expires_on"
)
_EXPIRING_MEMBERS = text(
    "SELECT member_id, min(expires_on) AS expires_on, sum(remaining) AS points FROM loyalty.point_lots "
    "WHERE remaining > 0 AND expires_on > :as_of AND expires_on <= :until "
    "AND member_id > COALESCE(CAST(:after AS uuid), '00000000-0000-0000-0000-000000000000') "
    "GROUP BY member_id ORDER BY member_id LIMIT :limit"
)
_MISMATCHES = text(
    """
    SELECT 'balance' AS kind, a.member_id AS subject_id, a.balance AS expected,
        COALESCE(l.total, 0) AS found
    FROM loyalty.accounts AS a
    LEFT JOIN (SELECT member_id, sum(remaining) AS total FROM loyalty.point_lots GROUP BY member_id) AS l
        ON l.member_id = a.member_id
    WHERE a.balance <> COALESCE(l.total, 0)
    UNION ALL
    SELECT 'lot', l.id, l.points - COALESCE(c.used, 0), l.remaining
    FROM loyalty.point_lots AS l
    LEFT JOIN (SELECT lot_id, sum(points) AS used FROM loyalty.lot_consumptions GROUP BY lot_id) AS c
        ON c.lot_id = l.id
    WHERE l.remaining <> l.points - COALESCE(c.used, 0)
    UNION ALL
    SELECT 'entry', e.id, -e.points,
        COALESCE(c.used, 0) - COALESCE((SELECT l.points FROM loyalty.point_lots AS l WHERE l.entry_id = e.id), 0)
    FROM loyalty.ledger_entries AS e
    LEFT JOIN (SELECT entry_id, sum(points) AS used FROM loyalty.lot_consumptions GROUP BY entry_id) AS c
        ON c.entry_id = e.id
    WHERE e.bucket = 'available'
        AND -e.points <> COALESCE(c.used, 0)
            - COALESCE((SELECT l.points FROM loyalty.point_lots AS l WHERE l.entry_id = e.id), 0)
    ORDER BY 1, 2
    LIMIT :limit
    """
)


class LotsRepository:
    """Lots read for expiry, notices and reconciliation; writes go through the ledger (points.service)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due_members(self, *, as_of: date, shard: int, shards: int, limit: int) -> list[uuid.UUID]:
        """Up to `limit` members of the shard with a lot lapsed by `as_of` and points left on it."""
        params = {"as_of": as_of, "shard": shard, "shards": shards, "limit": limit}
        return list((await self.session.execute(_DUE_MEMBERS, params)).scalars())

    async def due_lots(self, member_ids: Sequence[uuid.UUID], *, as_of: date) -> list[Lot]:
        """The members' lapsed lots with points left (read with their accounts locked)."""
        rows = await self.session.execute(_DUE_LOTS, {"members": list(member_ids), "as_of": as_of})
        return [Lot(**dict(row)) for row in rows.mappings()]

    async def lot(self, lot_id: uuid.UUID) -> Lot | None:
        """One lot, or None."""
        row = (await self.session.execute(_LOT, {"id": lot_id})).mappings().one_or_none()
        return None if row is None else Lot(**dict(row))

    async def expiring(self, member_ids: Sequence[uuid.UUID], *, as_of: date, until: date) -> list[Expiring]:
        """The members' points expiring after `as_of` and on or before `until`, per member and date."""
        params = {"members": list(member_ids), "as_of": as_of, "until": until}
        return [
            Expiring(r.member_id, int(r.points), r.expires_on) for r in await self.session.execute(_EXPIRING, params)
        ]

    async def expiring_members(
        self, *, as_of: date, until: date, after: uuid.UUID | None, limit: int
    ) -> list[Expiring]:
        """Members with points expiring after `as_of` and on or before `until`, by id after `after`: their total
        and soonest date."""
        params = {"as_of": as_of, "until": until, "after": after, "limit": limit}
        rows = await self.session.execute(_EXPIRING_MEMBERS, params)
        return [Expiring(r.member_id, int(r.points), r.expires_on) for r in rows]

    async def mismatches(self, limit: int) -> list[LotMismatch]:
        """Every way the lots disagree with accounts and entries (none when the ledger is sound)."""
        rows = await self.session.execute(_MISMATCHES, {"limit": limit})
        return [LotMismatch(r.kind, r.subject_id, int(r.expected), int(r.found)) for r in rows]
