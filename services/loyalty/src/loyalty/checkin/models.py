"""The check-in feature's table (schema `loyalty`): one row per member and local day, unique, so concurrent taps
count once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Integer, func
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "loyalty"


class CheckIn(Model, table=True):
    """A member's check-in on a local day: the streak it made, the points it earned (0 for a make-up, which costs
    points instead), and whether it was a make-up (补签)."""

    __tablename__ = "check_ins"
    __table_args__ = (
        CheckConstraint("streak >= 1", name="streak_positive"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True, nullable=False))
    streak: int = Field(sa_column=Column(Integer, nullable=False))
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    makeup: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
