"""The only SQL of points payments: quotes by key, a payment locked for capture or void, expired holds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.payment.models import PointsPayment

_BY_KEY = text("SELECT * FROM loyalty.points_payments WHERE actor = :a AND quote_key = :k")
_LOCK = text("SELECT * FROM loyalty.points_payments WHERE id = :id FOR UPDATE")
_EXPIRED = text(
    "SELECT * FROM loyalty.points_payments WHERE status = 'held' AND expires_at <= :now "
    "ORDER BY expires_at LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_SETTLE = text(
    "UPDATE loyalty.points_payments SET status = :s, capture_key = COALESCE(:k, capture_key), settled_at = :at "
    "WHERE id = ANY(CAST(:ids AS uuid[]))"
)


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_key(self, actor: str, key: str) -> PointsPayment | None:
        row = (await self.session.execute(_BY_KEY, {"a": actor, "k": key})).mappings().one_or_none()
        return None if row is None else PointsPayment(**dict(row))

    async def lock(self, payment_id: uuid.UUID) -> PointsPayment | None:
        row = (await self.session.execute(_LOCK, {"id": payment_id})).mappings().one_or_none()
        return None if row is None else PointsPayment(**dict(row))

    async def expired(self, now: datetime, limit: int) -> list[PointsPayment]:
        """Held payments past their hold, locked (skipping those another transaction is settling)."""
        rows = await self.session.execute(_EXPIRED, {"now": now, "limit": limit})
        return [PointsPayment(**dict(row)) for row in rows.mappings()]

    async def add(self, payment: PointsPayment) -> None:
        self.session.add(payment)
        await self.session.flush()

    async def settle(self, ids: list[uuid.UUID], status: str, at: datetime, capture_key: str | None = None) -> None:
        await self.session.execute(_SETTLE, {"s": status, "k": capture_key, "at": at, "ids": ids})
