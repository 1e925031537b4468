"""The only SQL of the audiences feature: counting and listing the members of a compiled rule within a scope,
saved audiences, and snapshots (materialised in one INSERT … SELECT)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Uuid, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.audiences.models import Audience, AudienceSnapshot, AudienceSnapshotMember
from members.insights.models import MemberInsight
from members.profile.models import Member, MemberStatus


def _from(*columns: Any) -> Select[Any]:
    return select(*columns).select_from(Member).outerjoin(MemberInsight, col(MemberInsight.member_id) == col(Member.id))


def _matching(condition: ColumnElement[bool], scope: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    # Closed members are never in an audience: they may not be contacted.
    return [col(Member.status) != MemberStatus.CLOSED.value, condition, *scope]


class AudienceRepository:
    """Counts, pages and snapshots of audiences."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, condition: ColumnElement[bool], scope: list[ColumnElement[bool]]) -> int:
        statement = _from(func.count()).where(*_matching(condition, scope))
        return int((await self.session.execute(statement)).scalar_one())

    async def page(
        self,
        condition: ColumnElement[bool],
        scope: list[ColumnElement[bool]],
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[Member]:
        statement = _from(Member).where(*_matching(condition, scope))
        if after is not None:
            statement = statement.where(
                tuple_(col(Member.registered_at), col(Member.id)) > tuple_(literal(after[0]), literal(after[1], Uuid))
            )
        statement = statement.order_by(col(Member.registered_at), col(Member.id)).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def export_rows(
        self, condition: ColumnElement[bool], scope: list[ColumnElement[bool]], limit: int
    ) -> Sequence[Any]:
        statement = (
            _from(
                col(Member.id),
                col(Member.home_store_code),
                col(Member.source_channel),
                col(MemberInsight.stage),
                col(MemberInsight.segment),
                col(MemberInsight.recency_days),
                col(MemberInsight.frequency),
                col(MemberInsight.monetary_fen),
            )
            .where(*_matching(condition, scope))
            .order_by(col(Member.registered_at), col(Member.id))
            .limit(limit)
        )
        return (await self.session.execute(statement)).all()

    async def add(self, audience: Audience) -> None:
        self.session.add(audience)
        await self.session.flush()

    async def get(self, audience_id: uuid.UUID, *, lock: bool = False) -> Audience | None:
        statement = select(Audience).where(col(Audience.id) == audience_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Audience]:
        return list((await self.session.execute(select(Audience).where(col(Audience.id).in_(ids)))).scalars())

    async def all(self) -> list[Audience]:
        statement = select(Audience).order_by(col(Audience.created_at), col(Audience.id))
        return list((await self.session.execute(statement)).scalars())

    async def snapshot_by_key(self, key: str) -> AudienceSnapshot | None:
        statement = select(AudienceSnapshot).where(col(AudienceSnapshot.key) == key)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def snapshot(
        self, snapshot: AudienceSnapshot, condition: ColumnElement[bool], scope: list[ColumnElement[bool]]
    ) -> int:
        """Write the snapshot and its members in one INSERT … SELECT; the number of members."""
        self.session.add(snapshot)
        await self.session.flush()
        members = _from(literal(snapshot.id, Uuid), col(Member.id)).where(*_matching(condition, scope))
        result = await self.session.execute(
            insert(AudienceSnapshotMember).from_select(["snapshot_id", "member_id"], members)
        )
        size = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await self.session.execute(
            update(AudienceSnapshot).where(col(AudienceSnapshot.id) == snapshot.id).values(size=size)
        )
        snapshot.size = size
        return size
