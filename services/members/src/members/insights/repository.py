"""The only SQL of the insights feature: the refresh statements (insights/sql.py), members' insights by id, and the
lifecycle summary (counts per stage and the last refresh's movements) within a caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Result, false, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.authorization import MemberScope
from members.insights import sql
from members.insights.models import MemberInsight, StageTransition
from members.orders.rules import STORE_CODE
from members.organisation.models import Region, Store
from members.profile.models import Member
from members.profile.repository import reached


class InsightsRepository:
    """Refresh statements and reads of member insights."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tune(self) -> None:
        """Memory for the refresh's aggregates and sorts (this transaction only)."""
        await self.session.execute(text("SET LOCAL work_mem = '256MB'"))

    async def facts(self, params: dict[str, Any]) -> None:
        """The shard's facts into the temporary table sql.FACTS_TABLE, and the date's baseline first unless a shard
        or an earlier run already wrote it. In shards, the whole baseline comes first (sql.BASELINE); in one
        shard, only its premium price (sql.PREMIUM, which the facts need), the rest from the facts themselves
        (sql.BASELINE_OF_FACTS: one pass over the window's orders less)."""
        premium = await self._premium_unit_fen(params)
        if premium is None and params["shards"] > 1:
            premium = await self._write_baseline(params, (await self.session.execute(text(sql.BASELINE), params)))
        if premium is not None:
            await self._facts(params, premium)
            return
        premium = (await self.session.execute(text(sql.PREMIUM), params)).scalar_one()
        await self._facts(params, premium)
        found = await self.session.execute(text(sql.BASELINE_OF_FACTS), {**params, "premium_unit_fen": premium})
        stored = await self._write_baseline(params, found)
        if stored != premium:  # a concurrent refresh of the date wrote its baseline first, at another price
            await self.session.execute(text(f"DROP TABLE {sql.FACTS_TABLE}"))
            await self._facts(params, stored)

    async def _facts(self, params: dict[str, Any], premium: int) -> None:
        await self.session.execute(text(sql.FACTS), {**params, "premium_unit_fen": premium})

    async def _write_baseline(self, params: dict[str, Any], found: Result[Any]) -> int:
        """Write the computed baseline unless the date has one (a concurrent shard's); the stored premium price."""
        await self.session.execute(text(sql.BASELINE_INSERT), {**params, **found.mappings().one()})
        premium = await self._premium_unit_fen(params)
        if premium is None:
            raise RuntimeError(f"no insight baseline for {params['as_of']}")
        return premium

    async def _premium_unit_fen(self, params: dict[str, Any]) -> int | None:
        found = await self.session.execute(text(sql.BASELINE_PREMIUM), params)
        return found.scalar_one_or_none()

    async def refresh(self, params: dict[str, Any]) -> dict[str, int]:
        """Recompute the shard from its facts (`facts` first); the counts of members, transitions written,
        transitions undone and events."""
        row = (await self.session.execute(text(sql.REFRESH), params)).mappings().one()
        # Dropped now, not only at commit: the same transaction may refresh again (a caller's outer transaction)
        await self.session.execute(text(f"DROP TABLE {sql.FACTS_TABLE}"))
        return {key: int(value) for key, value in row.items()}

    async def by_member_ids(self, ids: Sequence[uuid.UUID]) -> list[MemberInsight]:
        rows = await self.session.execute(select(MemberInsight).where(col(MemberInsight.member_id).in_(ids)))
        return list(rows.scalars())

    async def latest_as_of(self) -> date | None:
        return (await self.session.execute(select(func.max(col(MemberInsight.as_of))))).scalar_one()

    async def stage_counts(self, conditions: list[ColumnElement[bool]]) -> dict[str, int]:
        statement = (
            select(col(MemberInsight.stage), func.count())
            .join(Member, col(Member.id) == col(MemberInsight.member_id))
            .where(*conditions)
            .group_by(col(MemberInsight.stage))
        )
        return {str(stage): int(count) for stage, count in (await self.session.execute(statement)).all()}

    async def movements(self, as_of: date, conditions: list[ColumnElement[bool]]) -> list[tuple[str | None, str, int]]:
        statement = (
            select(col(StageTransition.from_stage), col(StageTransition.to_stage), func.count())
            .join(Member, col(Member.id) == col(StageTransition.member_id))
            .where(col(StageTransition.as_of) == as_of, *conditions)
            .group_by(col(StageTransition.from_stage), col(StageTransition.to_stage))
            .order_by(col(StageTransition.from_stage).nulls_first(), col(StageTransition.to_stage))
        )
        return [(a, b, n) for a, b, n in (await self.session.execute(statement)).all()]


def member_conditions(
    scope: MemberScope | None, store_code: str | None = None, region_code: str | None = None
) -> list[ColumnElement[bool]]:
    """SQL conditions on `members.members` for the caller's scope and an optional home store or region."""
    conditions = reached(scope) if scope is not None else []
    if any(code is not None and not STORE_CODE.match(code) for code in (store_code, region_code)):
        return [false()]  # a malformed code names no store or region (and never reaches the database)
    if store_code is not None:
        conditions.append(col(Member.home_store_code) == store_code)
    if region_code is not None:
        in_region = (
            select(col(Store.code))
            .join(Region, col(Region.id) == col(Store.region_id))
            .where(col(Region.code) == region_code)
        )
        conditions.append(col(Member.home_store_code).in_(in_region))
    return conditions
