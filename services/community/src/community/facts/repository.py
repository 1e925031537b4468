"""The only SQL of the facts feature: order and tier copies, and spend per member over a window."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from community.facts.models import OrderFact, TierFact
from yutang_shared.events.replica import upsert_newest

_TIERS: Table = TierFact.__table__  # type: ignore[attr-defined]


class FactRepository:
    """Members' orders (net of refunds) and tiers, as community's consumers copied them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_order(self, *, order_id: uuid.UUID, member_id: uuid.UUID, paid_fen: int, paid_at: datetime) -> None:
        """Copy a paid order once (a replayed event adds nothing)."""
        statement = insert(OrderFact).values(
            order_id=order_id, member_id=member_id, paid_fen=paid_fen, refunded_fen=0, paid_at=paid_at
        )
        await self.session.execute(statement.on_conflict_do_nothing(index_elements=["order_id"]))

    async def refund_order(self, order_id: uuid.UUID, total_refunded_fen: int) -> bool:
        """Set the order's refunded total (never lower: refunds may arrive out of order); False if unknown."""
        statement = (
            update(OrderFact)
            .where(col(OrderFact.order_id) == order_id)
            .values(refunded_fen=func.greatest(col(OrderFact.refunded_fen), total_refunded_fen))
        )
        return bool((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def set_tier(self, *, member_id: uuid.UUID, level: str, vip_eligible: bool, changed_at: datetime) -> None:
        """Keep the newest tier: an older `tier.changed` arriving late changes nothing."""
        values = {"member_id": member_id, "level": level, "vip_eligible": vip_eligible, "changed_at": changed_at}
        await self.session.execute(upsert_newest(_TIERS, values, key=["member_id"], stamp="changed_at"))

    async def spend(self, member_ids: Sequence[uuid.UUID], start: datetime, end: datetime) -> dict[uuid.UUID, int]:
        """Each member's spend net of refunds on orders paid in [start, end) (members without any are absent)."""
        statement = (
            select(col(OrderFact.member_id), func.sum(col(OrderFact.paid_fen) - col(OrderFact.refunded_fen)))
            .where(
                col(OrderFact.member_id).in_(member_ids),
                col(OrderFact.paid_at) >= start,
                col(OrderFact.paid_at) < end,
            )
            .group_by(col(OrderFact.member_id))
        )
        return {m: int(total) for m, total in (await self.session.execute(statement)).tuples()}

    async def tiers(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Each member's tier level, where loyalty announced one."""
        statement = select(col(TierFact.member_id), col(TierFact.level)).where(col(TierFact.member_id).in_(member_ids))
        return dict(list((await self.session.execute(statement)).tuples()))
