"""The only SQL of the facts feature: last-writer-wins upserts of the copies, by the time each fact changed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from members.facts.models import BenefitCardFact, GroupMembershipFact, LoyaltyFacts
from yutang_shared.events.replica import upsert_newest, upsert_newest_many

_LOYALTY: Table = LoyaltyFacts.__table__  # type: ignore[attr-defined]
_CARDS: Table = BenefitCardFact.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS: Table = GroupMembershipFact.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PointsFact:
    """A member's available points as loyalty announced them, and when they changed there."""

    member_id: uuid.UUID
    available: int
    changed_at: datetime


class FactsRepository:
    """Upserts of the copied facts; an event older than the copy changes nothing."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def points(self, facts: Sequence[PointsFact]) -> None:
        """Members' available points, in one statement; of several facts of one member the newest wins."""
        rows = [
            {"member_id": f.member_id, "points_available": f.available, "points_changed_at": f.changed_at}
            for f in facts
        ]
        if many := upsert_newest_many(_LOYALTY, rows, key=["member_id"], stamp="points_changed_at"):
            await self.session.execute(*many)

    async def tier(self, member_id: uuid.UUID, tier: str, vip_eligible: bool, changed_at: datetime) -> None:
        values = {"member_id": member_id, "tier": tier, "vip_eligible": vip_eligible, "tier_changed_at": changed_at}
        await self.session.execute(upsert_newest(_LOYALTY, values, key=["member_id"], stamp="tier_changed_at"))

    async def benefit_card(
        self, member_id: uuid.UUID, card_code: str, held: bool, expires_at: datetime | None, changed_at: datetime
    ) -> None:
        values = {
            "member_id": member_id,
            "card_code": card_code,
            "held": held,
            "expires_at": expires_at,
            "changed_at": changed_at,
        }
        await self.session.execute(upsert_newest(_CARDS, values, key=["member_id", "card_code"], stamp="changed_at"))

    async def membership(
        self, member_id: uuid.UUID, group_id: uuid.UUID, group_type: str, status: str, changed_at: datetime
    ) -> None:
        values = {
            "member_id": member_id,
            "group_id": group_id,
            "group_type": group_type,
            "status": status,
            "changed_at": changed_at,
        }
        statement = upsert_newest(_MEMBERSHIPS, values, key=["member_id", "group_id"], stamp="changed_at")
        await self.session.execute(statement)
