"""The only SQL of the earning feature: orders' points rows, locked one at a time or a due batch at a time, and
the per-order view of the ledger that reconciliation reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loyalty.directory.models import DirectoryMember, DirectoryStatus
from loyalty.earning.models import OrderPoints, OrderPointsStatus, ParkedRefund

# Every order loyalty knows, from its points row or from ledger entries naming it (an entry without a row is an
# orphan), with what the ledger says of it; keyset-paged on the order id.
_LEDGER_BY_ORDER = text(
    """
    WITH ledger AS (
        SELECT order_id, min(member_id::text)::uuid AS member_id,
            coalesce(sum(points) FILTER (WHERE kind = 'earn_pending'), 0) AS earned,
            coalesce(sum(points) FILTER (WHERE kind = 'earn'), 0) AS released,
            coalesce(sum(-points) FILTER (WHERE kind IN ('pending_cancelled', 'reversal')), 0)
                + coalesce(sum(points) FILTER (WHERE kind = 'owed'), 0) AS reversed,
            coalesce(sum(points) FILTER (WHERE kind = 'owed'), 0) AS owed
        FROM loyalty.ledger_entries
        WHERE order_id IS NOT NULL AND (CAST(:after AS uuid) IS NULL OR order_id > CAST(:after AS uuid))
        GROUP BY order_id
    ), rows AS (
        SELECT * FROM loyalty.order_points
        WHERE CAST(:after AS uuid) IS NULL OR order_id > CAST(:after AS uuid)
    )
    SELECT coalesce(o.order_id, l.order_id) AS order_id, coalesce(o.member_id, l.member_id) AS member_id,
        o.order_id IS NOT NULL AS recorded, o.paid_fen, o.refunded_fen, o.points, o.tier_multiplier,
        o.pending, o.reversed,
        o.status, o.release_on,
        coalesce(l.earned, 0) AS ledger_earned, coalesce(l.released, 0) AS ledger_released,
        coalesce(l.reversed, 0) AS ledger_reversed, coalesce(l.owed, 0) AS ledger_owed
    FROM rows AS o FULL OUTER JOIN ledger AS l ON l.order_id = o.order_id
    ORDER BY 1 LIMIT :limit
    """
)


class EarningRepository:
    """Orders' points rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: OrderPoints) -> bool:
        """Insert an order's row; False when the order already has one (then nothing is written)."""
        values = row.model_dump()
        statement = (
            insert(OrderPoints)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(col(OrderPoints.order_id))
        )
        return (await self.session.execute(statement)).first() is not None

    async def lock(self, order_id: uuid.UUID) -> OrderPoints | None:
        """The order's row, locked until the transaction ends; None when loyalty never earned on it."""
        statement = select(OrderPoints).where(col(OrderPoints.order_id) == order_id).with_for_update()
        return (await self.session.execute(statement)).scalars().first()

    async def lock_due(
        self, as_of: date, limit: int, *, after: tuple[date, uuid.UUID] | None = None
    ) -> list[OrderPoints]:
        """Up to `limit` pending rows whose release date is on or before `as_of`, after `after` (a release date
        and order id) when given, locked, in (release date, order id) order (a concurrent release waits, then
        finds them released and skips them)."""
        statement = (
            select(OrderPoints)
            .where(col(OrderPoints.status) == OrderPointsStatus.PENDING.value, col(OrderPoints.release_on) <= as_of)
            .order_by(col(OrderPoints.release_on), col(OrderPoints.order_id))
            .limit(limit)
            .with_for_update()
        )
        if after is not None:
            statement = statement.where(tuple_(col(OrderPoints.release_on), col(OrderPoints.order_id)) > after)
        return list((await self.session.execute(statement)).scalars())

    async def mark(self, order_ids: Sequence[uuid.UUID], status: OrderPointsStatus, at: datetime) -> None:
        """Released or forfeited: nothing pending any more."""
        statement = (
            update(OrderPoints)
            .where(col(OrderPoints.order_id).in_(order_ids))
            .values(status=status.value, pending=0, released_at=at)
        )
        await self.session.execute(statement)

    async def refunded(self, order_id: uuid.UUID, *, cancelled: int, reversed_points: int, refunded_fen: int) -> None:
        """A refund cancelled `cancelled` pending points and reversed `reversed_points` in all."""
        statement = (
            update(OrderPoints)
            .where(col(OrderPoints.order_id) == order_id)
            .values(
                pending=OrderPoints.pending - cancelled,
                reversed=OrderPoints.reversed + reversed_points,
                refunded_fen=func.greatest(OrderPoints.refunded_fen, refunded_fen),
            )
        )
        await self.session.execute(statement)

    async def is_closed(self, member_id: uuid.UUID) -> bool:
        """Whether the directory holds the member as closed."""
        statement = select(col(DirectoryMember.status)).where(col(DirectoryMember.member_id) == member_id)
        return (await self.session.execute(statement)).scalar() == DirectoryStatus.CLOSED.value

    async def ledger_by_order(self, *, after: uuid.UUID | None, limit: int) -> list[dict[str, Any]]:
        """Orders after `after` (by id) with their row's figures and the ledger's sums per kind."""
        rows = await self.session.execute(_LEDGER_BY_ORDER, {"after": after, "limit": limit})
        return [dict(row) for row in rows.mappings()]

    async def park(self, refund_id: uuid.UUID, order_id: uuid.UUID, data: dict[str, Any]) -> None:
        """Keep a refund whose order has not earned yet (a redelivered refund is kept once)."""
        statement = insert(ParkedRefund).values(refund_id=refund_id, order_id=order_id, data=data)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def take_parked(self, order_id: uuid.UUID) -> list[dict[str, Any]]:
        """The refunds parked for this order, removed, in the order they refund the total."""
        statement = text("DELETE FROM loyalty.parked_refunds WHERE order_id = :order_id RETURNING data")
        rows = (await self.session.execute(statement, {"order_id": order_id})).scalars()
        return sorted((dict(row) for row in rows), key=lambda data: int(data["total_refunded_fen"]))

    async def serialise(self, order_id: uuid.UUID) -> None:
        """Hold the order's transaction-scoped advisory lock: a refund parking and its order earning, handled by
        two instances at once, never miss each other."""
        statement = text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:order_id AS text), 0))")
        await self.session.execute(statement, {"order_id": str(order_id)})
