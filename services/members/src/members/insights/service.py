"""Member insights' use cases: refreshing a shard of members as of a date, reading members' insights, and the
lifecycle summary.

`refresh_insights` is set-based: a few statements (the brand-wide baseline of the date unless it exists, then the
shard's facts into a temporary table and the shard's writes) do all the work in PostgreSQL, and the shard's
`member.stage-changed` events are written to the outbox by the statement that writes the stages. Running the
same date again gives the same stages, histories and facts and writes no new event.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from members.audit.service import AuditAs, record_outcomes
from members.authorization import MemberScope
from members.insights.errors import InvalidAsOf, InvalidShard
from members.insights.models import MemberInsight
from members.insights.repository import member_conditions
from members.insights.rules import (
    BRAND_ZONE,
    DEFAULT_CONFIG,
    LifecycleConfig,
    ShardOutOfRange,
    Stage,
    check_shard,
    window_start,
)
from members.models import OUTBOX
from members.uow import MembersUnitOfWork
from yutang_shared.outbox import notify_channel

ZONE = ZoneInfo(BRAND_ZONE)
STAGE_CHANGED = "member.stage-changed"


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one shard's refresh did."""

    as_of: date
    shard: int
    shards: int
    members: int
    transitions: int
    events: int


@dataclass(frozen=True, slots=True)
class InsightView:
    """A member's insights as of the last refresh."""

    member_id: uuid.UUID
    as_of: date
    stage: Stage
    stage_since: date
    recency_days: int | None
    frequency: int
    monetary_fen: int
    r_score: int | None
    f_score: int | None
    m_score: int | None
    segment: str | None
    largest_order_fen: int | None
    discount_share: float | None
    premium_share: float | None
    consumer_types: tuple[str, ...]
    expected_repurchase_on: date | None

    @classmethod
    def of(cls, row: MemberInsight) -> InsightView:
        return cls(
            row.member_id,
            row.as_of,
            Stage(row.stage),
            row.stage_since,
            row.recency_days,
            row.frequency,
            row.monetary_fen,
            row.r_score,
            row.f_score,
            row.m_score,
            row.segment,
            row.largest_order_fen,
            row.discount_share,
            row.premium_share,
            tuple(row.consumer_types),
            row.expected_repurchase_on,
        )


@dataclass(frozen=True, slots=True)
class Movement:
    """How many members moved from one stage (None: their first stage) to another on the last refresh."""

    from_stage: Stage | None
    to_stage: Stage
    count: int


@dataclass(frozen=True, slots=True)
class LifecycleSummary:
    """Members per stage, and the movements of the last refresh (`as_of`), within a scope."""

    as_of: date | None
    counts: dict[Stage, int]
    movements: tuple[Movement, ...]


def today() -> date:
    """Today in the brand's zone."""
    return datetime.now(ZONE).date()


def day_start(day: date) -> datetime:
    """Midnight of `day` in the brand's zone."""
    return datetime.combine(day, time(), ZONE)


def refresh_params(as_of: date, shard: int, shards: int, config: LifecycleConfig = DEFAULT_CONFIG) -> dict[str, Any]:
    """The bound values of the refresh statements (the day thresholds as the start of their local day)."""
    return {
        "as_of": as_of,
        "until": day_start(as_of + timedelta(days=1)),
        "window_from": day_start(window_start(as_of, config)),
        "window_days": config.window_days,
        "two_years_from": day_start(as_of - timedelta(days=729)),
        "year_from": day_start(as_of - timedelta(days=364)),
        "won_back_from": day_start(as_of - timedelta(days=config.won_back_days)),
        "shard": shard,
        "shards": shards,
        "won_back_days": config.won_back_days,
        "away_days": config.away_days,
        "active_days": config.active_days,
        "at_risk_days": config.at_risk_days,
        "dormant_days": config.dormant_days,
        "loyal_orders": config.loyal_orders,
        "discount_share": config.discount_share,
        "stock_up_orders": config.stock_up_orders,
        "stock_up_factor": config.stock_up_factor,
        "campaign_share": config.campaign_share,
        "undecided_days": config.undecided_days,
    }


async def refresh_insights(
    uow: MembersUnitOfWork,
    *,
    as_of: date,
    shard: int = 0,
    shards: int = 1,
    config: LifecycleConfig = DEFAULT_CONFIG,
    audit: AuditAs | None = None,
) -> RefreshResult:
    """Recompute RFM, stage, stage history, audience facts and consumer types of one shard of members as of
    `as_of`, and write a `member.stage-changed` event per member whose stage changed (in one transaction).

    Members are split into shards by a hash of their id, so `shards` calls with shard 0 … shards − 1 cover every
    member once. Idempotent: the same `as_of` again recomputes from the state before that date's first run.

    Raises InvalidAsOf for a date after today and InvalidShard for a shard out of range.
    """
    try:
        check_shard(shard, shards)
    except ShardOutOfRange as error:
        raise InvalidShard(str(error)) from error
    if as_of > today():
        raise InvalidAsOf(f"{as_of} is after today ({today()})", as_of=as_of)
    params = refresh_params(as_of, shard, shards, config)
    async with uow:
        await uow.insights.tune()
        await uow.insights.facts(params)
        counts = await uow.insights.refresh(params)
        if counts["events"]:
            await uow.session.execute(text(f'NOTIFY "{notify_channel(OUTBOX)}"'))
        await record_outcomes(uow, audit, target_type="insights", outcomes=[(f"{as_of}:{shard}/{shards}", "ok")])
        await uow.commit()
    return RefreshResult(as_of, shard, shards, counts["members"], counts["moved"], counts["events"])


async def insights_by_member_ids(uow: MembersUnitOfWork, ids: Sequence[uuid.UUID]) -> list[InsightView | None]:
    """Each member's insights (None before their first refresh), in the order of `ids`, in one SELECT."""
    async with uow:
        found = {row.member_id: InsightView.of(row) for row in await uow.insights.by_member_ids(ids)}
    return [found.get(member_id) for member_id in ids]


async def lifecycle_summary(
    uow: MembersUnitOfWork, *, scope: MemberScope | None, store_code: str | None, region_code: str | None
) -> LifecycleSummary:
    """Members per stage (every stage, zero included) and the movements of the latest refresh, limited to the
    members within `scope` and, when given, of a home store or of a region's stores."""
    conditions = member_conditions(scope, store_code, region_code)
    async with uow:
        counts = await uow.insights.stage_counts(conditions)
        as_of = await uow.insights.latest_as_of()
        moves = [] if as_of is None else await uow.insights.movements(as_of, conditions)
    return LifecycleSummary(
        as_of,
        {stage: counts.get(stage.value, 0) for stage in Stage},
        tuple(Movement(None if a is None else Stage(a), Stage(b), n) for a, b, n in moves),
    )
