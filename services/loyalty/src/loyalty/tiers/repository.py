"""The only SQL of the tiers feature: loyalty's copy of orders, members' tiers (locked in member order), the
qualifying facts of a batch of members in one statement, and the change history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.tiers.models import MemberTier, TierChange
from loyalty.tiers.rules import Facts

_PAID = text(
    "INSERT INTO loyalty.tier_orders (order_id, member_id, paid_fen, refunded_fen, paid_at) "
    "VALUES (:order_id, :member_id, :paid_fen, 0, :paid_at) "
    "ON CONFLICT (order_id) DO UPDATE SET paid_at = EXCLUDED.paid_at, paid_fen = EXCLUDED.paid_fen"
)
_REFUNDED = text(
    "INSERT INTO loyalty.tier_orders (order_id, member_id, paid_fen, refunded_fen, paid_at) "
    "VALUES (:order_id, :member_id, :paid_fen, :refunded_fen, NULL) "
    "ON CONFLICT (order_id) DO UPDATE SET refunded_fen = GREATEST(tier_orders.refunded_fen, EXCLUDED.refunded_fen)"
)
_LOCK = text(
    """
    WITH created AS (
        INSERT INTO loyalty.member_tiers (member_id, level, since)
        SELECT id, :lowest, :as_of FROM unnest(CAST(:ids AS uuid[])) AS id ORDER BY id
        ON CONFLICT (member_id) DO NOTHING
        RETURNING member_id, level, since, grace_until, reviewed_period
    ), locked AS (
        SELECT member_id, level, since, grace_until, reviewed_period FROM loyalty.member_tiers
        WHERE member_id = ANY(CAST(:ids AS uuid[])) ORDER BY member_id FOR UPDATE
    )
    SELECT * FROM created UNION ALL SELECT * FROM locked
    """
)
# Spend net of refunds and orders (those not wholly refunded) paid in [from, to), and points earned from orders
# (earn_pending entries) written in it, per member.
_FACTS = text(
    """
    SELECT m.id AS member_id,
        coalesce((SELECT sum(o.paid_fen - o.refunded_fen) FROM loyalty.tier_orders AS o
            WHERE o.member_id = m.id AND o.paid_at >= :start AND o.paid_at < :stop), 0) AS spend_fen,
        (SELECT count(*) FROM loyalty.tier_orders AS o
            WHERE o.member_id = m.id AND o.paid_at >= :start AND o.paid_at < :stop
            AND o.paid_fen > o.refunded_fen) AS orders,
        coalesce((SELECT sum(e.points) FROM loyalty.ledger_entries AS e
            WHERE e.member_id = m.id AND e.kind = 'earn_pending' AND e.created_at >= :start
            AND e.created_at < :stop), 0) AS points
    FROM unnest(CAST(:ids AS uuid[])) AS m(id)
    """
)
_BATCH = text(
    "SELECT member_id FROM loyalty.member_tiers WHERE member_id > COALESCE(CAST(:after AS uuid), "
    "'00000000-0000-0000-0000-000000000000') "
    "UNION SELECT DISTINCT member_id FROM loyalty.tier_orders WHERE member_id > COALESCE(CAST(:after AS uuid), "
    "'00000000-0000-0000-0000-000000000000') ORDER BY 1 LIMIT :limit"
)
_SET = text(
    "UPDATE loyalty.member_tiers AS t SET level = u.level, since = u.since, grace_until = u.grace_until, "
    "reviewed_period = COALESCE(u.period, t.reviewed_period), updated_at = now() "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:levels AS varchar[]), CAST(:sinces AS date[]), "
    "CAST(:graces AS date[]), CAST(:periods AS varchar[])) AS u(id, level, since, grace_until, period) "
    "WHERE t.member_id = u.id"
)


class TiersRepository:
    """Tier rows, order facts and changes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def order_paid(self, order_id: uuid.UUID, member_id: uuid.UUID, paid_fen: int, paid_at: datetime) -> None:
        await self.session.execute(
            _PAID, {"order_id": order_id, "member_id": member_id, "paid_fen": paid_fen, "paid_at": paid_at}
        )

    async def order_refunded(
        self, order_id: uuid.UUID, member_id: uuid.UUID, paid_fen: int, total_refunded_fen: int
    ) -> None:
        params = {
            "order_id": order_id,
            "member_id": member_id,
            "paid_fen": paid_fen,
            "refunded_fen": total_refunded_fen,
        }
        await self.session.execute(_REFUNDED, params)

    async def lock(self, member_ids: Sequence[uuid.UUID], *, lowest: str, as_of: date) -> dict[uuid.UUID, MemberTier]:
        """The members' tier rows (created at the lowest level if missing), locked in member order."""
        ids = sorted(set(member_ids))
        rows = (await self.session.execute(_LOCK, {"ids": ids, "lowest": lowest, "as_of": as_of})).mappings()
        return {row["member_id"]: MemberTier(**dict(row)) for row in rows}

    async def facts(
        self, member_ids: Sequence[uuid.UUID], *, start: datetime, stop: datetime
    ) -> dict[uuid.UUID, Facts]:
        """Each member's qualifying facts for orders paid in [start, stop), in one statement."""
        rows = await self.session.execute(_FACTS, {"ids": list(member_ids), "start": start, "stop": stop})
        return {r.member_id: Facts(int(r.spend_fen), int(r.orders), int(r.points)) for r in rows}

    async def batch(self, *, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        """Members with a tier or an order, by id after `after`."""
        return list((await self.session.execute(_BATCH, {"after": after, "limit": limit})).scalars())

    async def save(self, rows: Sequence[MemberTier], periods: dict[uuid.UUID, str]) -> None:
        """Write the rows' level, since and grace (and the review period, for reviewed members) in one UPDATE."""
        if rows:
            await self.session.execute(
                _SET,
                {
                    "ids": [r.member_id for r in rows],
                    "levels": [r.level for r in rows],
                    "sinces": [r.since for r in rows],
                    "graces": [r.grace_until for r in rows],
                    "periods": [periods.get(r.member_id) for r in rows],
                },
            )

    async def add_changes(self, changes: Sequence[TierChange]) -> None:
        self.session.add_all(changes)
        await self.session.flush()

    async def by_member_ids(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MemberTier]:
        rows = await self.session.execute(
            text("SELECT * FROM loyalty.member_tiers WHERE member_id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": list(member_ids)},
        )
        return {row["member_id"]: MemberTier(**dict(row)) for row in rows.mappings()}

    async def history(self, member_id: uuid.UUID) -> list[TierChange]:
        rows = await self.session.execute(
            text(
                "SELECT * FROM loyalty.tier_changes WHERE member_id = :m ORDER BY changed_on DESC, recorded_at DESC "
                "LIMIT 100"
            ),
            {"m": member_id},
        )
        return [TierChange(**dict(row)) for row in rows.mappings()]
