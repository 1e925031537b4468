"""Members' own copies of facts other services own (schema `members`), kept from their events: a member's points
balance and tier (loyalty), the benefit cards they hold (loyalty) and their group memberships (community).
Members never reads those services' tables; audiences and tags read these copies."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, String, Uuid
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"


def _at(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class LoyaltyFacts(Model, table=True):
    """A member's points balance and tier as loyalty last announced them (each with the time of its change, so an
    older event arriving late changes nothing)."""

    __tablename__ = "member_loyalty_facts"
    __table_args__ = (
        Index("ix_member_loyalty_facts_points", "points_available"),
        Index("ix_member_loyalty_facts_tier", "tier"),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    points_available: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    points_changed_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    tier: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    vip_eligible: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    tier_changed_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))


class BenefitCardFact(Model, table=True):
    """A benefit card a member holds or held (loyalty's `benefit-card.changed`)."""

    __tablename__ = "member_benefit_cards"
    __table_args__ = (Index("ix_member_benefit_cards_card_code", "card_code", "held"), {"schema": SCHEMA})

    member_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    card_code: str = Field(sa_column=Column(String(64), primary_key=True))
    held: bool = Field(sa_column=Column(Boolean, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=_at(nullable=True))
    changed_at: datetime = Field(sa_column=_at())


class GroupMembershipFact(Model, table=True):
    """A member's membership of a community group (community's `membership.changed`); `joined` or `left`."""

    __tablename__ = "member_group_memberships"
    __table_args__ = (Index("ix_member_group_memberships_group", "group_id", "status"), {"schema": SCHEMA})

    member_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    group_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    group_type: str = Field(sa_column=Column(String(32), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    changed_at: datetime = Field(sa_column=_at())
