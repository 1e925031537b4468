"""The only SQL of the facts feature: last-writer-wins upserts of the copies, by the time each fact changed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_POINTS = """
INSERT INTO members.member_loyalty_facts (member_id, points_available, points_changed_at)
VALUES (:member_id, :available, :changed_at)
ON CONFLICT (member_id) DO UPDATE SET points_available = excluded.points_available,
    points_changed_at = excluded.points_changed_at
WHERE member_loyalty_facts.points_changed_at IS NULL
   OR member_loyalty_facts.points_changed_at <= excluded.points_changed_at
"""
_TIER = """
INSERT INTO members.member_loyalty_facts (member_id, tier, vip_eligible, tier_changed_at)
VALUES (:member_id, :tier, :vip_eligible, :changed_at)
ON CONFLICT (member_id) DO UPDATE SET tier = excluded.tier, vip_eligible = excluded.vip_eligible,
    tier_changed_at = excluded.tier_changed_at
WHERE member_loyalty_facts.tier_changed_at IS NULL
   OR member_loyalty_facts.tier_changed_at <= excluded.tier_changed_at
"""
_CARD = """
INSERT INTO members.member_benefit_cards (member_id, card_code, held, expires_at, changed_at)
VALUES (:member_id, :card_code, :held, :expires_at, :changed_at)
ON CONFLICT (member_id, card_code) DO UPDATE SET held = excluded.held, expires_at = excluded.expires_at,
    changed_at = excluded.changed_at
WHERE member_benefit_cards.changed_at <= excluded.changed_at
"""
_MEMBERSHIP = """
INSERT INTO members.member_group_memberships (member_id, group_id, group_type, status, changed_at)
VALUES (:member_id, :group_id, :group_type, :status, :changed_at)
ON CONFLICT (member_id, group_id) DO UPDATE SET group_type = excluded.group_type, status = excluded.status,
    changed_at = excluded.changed_at
WHERE member_group_memberships.changed_at <= excluded.changed_at
"""


class FactsRepository:
    """Upserts of the copied facts; an event older than the copy changes nothing."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def points(self, member_id: uuid.UUID, available: int, changed_at: datetime) -> None:
        await self.session.execute(
            text(_POINTS), {"member_id": member_id, "available": available, "changed_at": changed_at}
        )

    async def tier(self, member_id: uuid.UUID, tier: str, vip_eligible: bool, changed_at: datetime) -> None:
        values = {"member_id": member_id, "tier": tier, "vip_eligible": vip_eligible, "changed_at": changed_at}
        await self.session.execute(text(_TIER), values)

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
        await self.session.execute(text(_CARD), values)

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
        await self.session.execute(text(_MEMBERSHIP), values)
