"""Insights tables (schema `members`): each member's RFM, lifecycle stage and the facts audiences filter on, as of
the last refresh; the history of stage transitions; the brand-wide baseline of each refresh date."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Uuid,
    func,
)
from sqlmodel import Field

from members.insights.rules import Segment, Stage
from yutang_shared.db import Model

SCHEMA = "members"


def _in(column: str, values: type[Stage] | type[Segment]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _int(big: bool = False) -> Column[int]:
    return Column(BigInteger if big else Integer, nullable=True)


def _at() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=True)


class MemberInsight(Model, table=True):
    """One member as of `as_of`: RFM (null scores when they bought nothing in the window), the lifecycle stage
    since `stage_since`, and the facts audiences and automatic tags use. `previous_*` is the state before the
    refresh of `as_of`, so running the same date again starts from the same place (idempotent)."""

    __tablename__ = "member_insights"
    __table_args__ = (
        CheckConstraint(_in("stage", Stage), name="stage"),
        CheckConstraint(f"segment IS NULL OR {_in('segment', Segment)}", name="segment"),
        Index("ix_member_insights_stage", "stage"),
        Index("ix_member_insights_segment", "segment"),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id", ondelete="CASCADE"), primary_key=True)
    )
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    stage: str = Field(sa_column=Column(String(16), nullable=False))
    stage_since: date = Field(sa_column=Column(Date, nullable=False))
    previous_as_of: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    previous_stage: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    previous_stage_since: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    recency_days: int | None = Field(default=None, sa_column=_int())
    frequency: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    monetary_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    r_score: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    f_score: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    m_score: int | None = Field(default=None, sa_column=Column(SmallInteger, nullable=True))
    segment: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    largest_order_fen: int | None = Field(default=None, sa_column=_int(big=True))
    discount_share: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    premium_share: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    orders_total: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    orders_two_years: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    orders_without_refund: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    total_spend_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    average_order_fen: int | None = Field(default=None, sa_column=_int(big=True))
    first_order_at: datetime | None = Field(default=None, sa_column=_at())
    first_order_channel: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    last_order_at: datetime | None = Field(default=None, sa_column=_at())
    last_visit_at: datetime | None = Field(default=None, sa_column=_at())
    last_cart_at: datetime | None = Field(default=None, sa_column=_at())
    followed_at: datetime | None = Field(default=None, sa_column=_at())
    expected_repurchase_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    consumer_types: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False, server_default="{}")
    )


class StageTransition(Model, table=True):
    """A member moved from one stage to another (from null: their first stage) on the refresh of `as_of`."""

    __tablename__ = "stage_transitions"
    __table_args__ = (Index("ix_stage_transitions_as_of", "as_of"), {"schema": SCHEMA})

    member_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id", ondelete="CASCADE"), primary_key=True)
    )
    as_of: date = Field(sa_column=Column(Date, primary_key=True))
    from_stage: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    to_stage: str = Field(sa_column=Column(String(16), nullable=False))


class InsightBaseline(Model, table=True):
    """The brand-wide figures of one refresh date, computed by its first shard and reused by the others (and by a
    re-run): RFM quintile bounds and averages among members who bought in the window, the unit price from which a
    line counts as premium (the 80th percentile), and the average order value."""

    __tablename__ = "insight_baselines"
    __table_args__ = ({"schema": SCHEMA},)

    as_of: date = Field(sa_column=Column(Date, primary_key=True))
    window_days: int = Field(sa_column=Column(Integer, nullable=False))
    buyers: int = Field(sa_column=Column(Integer, nullable=False))
    r_bounds: list[int] = Field(sa_column=Column(ARRAY(Integer), nullable=False))
    f_bounds: list[int] = Field(sa_column=Column(ARRAY(Integer), nullable=False))
    m_bounds: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))
    average_r: float = Field(sa_column=Column(Double, nullable=False))
    average_f: float = Field(sa_column=Column(Double, nullable=False))
    average_m: float = Field(sa_column=Column(Double, nullable=False))
    premium_unit_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    average_order_fen: float = Field(sa_column=Column(Double, nullable=False))
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
