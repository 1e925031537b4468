"""The only SQL of the members table: members by id, mobile fingerprint and WeChat ids; pages filtered and
limited to what the caller reaches; guide reassignment and WeChat ids."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Row,
    Table,
    Uuid,
    any_,
    bindparam,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.authorization import MemberScope
from members.organisation.models import Region, Store
from members.profile.models import ConsentState, Member, MemberStatus, MemberWechatId, SourceChannel


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """Conditions of the members list; each given one must hold."""

    home_store_code: str | None = None
    guide_id: uuid.UUID | None = None
    source_channel: SourceChannel | None = None
    status: MemberStatus | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    consent: ConsentState | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        for value, column in (
            (self.home_store_code, col(Member.home_store_code)),
            (self.guide_id, col(Member.guide_id)),
            (self.source_channel, col(Member.source_channel)),
            (self.status, col(Member.status)),
            (self.consent, col(Member.consent)),
        ):
            if value is not None:
                found.append(column == value)
        if self.registered_from is not None:
            found.append(col(Member.registered_at) >= self.registered_from)
        if self.registered_to is not None:
            found.append(col(Member.registered_at) < self.registered_to)
        return found


def reached(scope: MemberScope) -> list[ColumnElement[bool]]:
    """The SQL condition of the members a scope reaches (nothing when it reaches everyone)."""
    if scope.everyone:
        return []
    options: list[ColumnElement[bool]] = []
    if scope.member_id is not None:
        with contextlib.suppress(ValueError):
            options.append(col(Member.id) == uuid.UUID(scope.member_id))
    if scope.stores:
        options.append(col(Member.home_store_code).in_(sorted(scope.stores)))
    if scope.regions:
        in_regions = (
            select(col(Store.code))
            .join(Region, col(Region.id) == col(Store.region_id))
            .where(col(Region.code).in_(sorted(scope.regions)))
        )
        options.append(col(Member.home_store_code).in_(in_regions))
    return [or_(*options)] if options else [false()]


# Built once: constructing a statement costs more CPU than running a cached one (every entity fetch reads here).
_MEMBERS_BY_IDS = select(Member).where(col(Member.id).in_(bindparam("ids", expanding=True)))
# The same read as plain rows (SQLAlchemy Core: no ORM identity map or object loading), for views only.
# `= ANY(array)`: one statement text for any number of ids (an expanding IN is rewritten per call, and each
# length is another prepared statement).
_MEMBERS: Table = Member.__table__  # type: ignore[attr-defined]
_MEMBER_ROWS_BY_IDS = select(_MEMBERS).where(_MEMBERS.c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))


class MemberRepository:
    """Members by id, mobile fingerprint and WeChat ids, in pages, and their guide and WeChat ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_if_new(self, member: Member) -> Member | None:
        """Insert unless the mobile is already registered; the stored row when this call created it, else None."""
        values = member.model_dump(exclude={"registered_at"})
        statement = (
            insert(Member)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[col(Member.mobile_fingerprint)])
            .returning(Member)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_fingerprint(self, fingerprint: str) -> Member:
        """The member registered with this mobile."""
        statement = select(Member).where(col(Member.mobile_fingerprint) == fingerprint)
        return (await self.session.execute(statement)).scalar_one()

    async def find_by_fingerprint(self, fingerprint: str) -> Member | None:
        """The member registered with this mobile, if any (an index lookup, never a scan)."""
        statement = select(Member).where(col(Member.mobile_fingerprint) == fingerprint)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Member]:
        """The members among `ids` that exist, in no particular order (one SELECT)."""
        return list((await self.session.execute(_MEMBERS_BY_IDS, {"ids": list(ids)})).scalars())

    async def rows_by_ids(self, ids: Sequence[uuid.UUID]) -> list[Row[Any]]:
        """The members among `ids` that exist as rows with the model's attribute names, in no particular order (one
        SELECT, no ORM objects: the read path of every entity fetch and `member(id)`)."""
        return list((await self.session.execute(_MEMBER_ROWS_BY_IDS, {"ids": list(ids)})).all())

    async def for_update(self, member_id: uuid.UUID) -> Member | None:
        """One member, locked until the transaction ends."""
        statement = select(Member).where(col(Member.id) == member_id).with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_unionid(self, unionid: str) -> Member | None:
        statement = select(Member).where(col(Member.wechat_unionid) == unionid)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_openid(self, app_id: str, openid: str) -> Member | None:
        statement = (
            select(Member)
            .join(MemberWechatId, col(MemberWechatId.member_id) == col(Member.id))
            .where(col(MemberWechatId.app_id) == app_id, col(MemberWechatId.openid) == openid)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def page(
        self,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        where: MemberFilter | None = None,
        scope: MemberScope | None = None,
    ) -> list[Member]:
        """Up to `limit` members in registration order after a (registered_at, id) position, matching `where`
        and within `scope` (both applied in SQL)."""
        statement = select(Member).where(*self._conditions(where, scope))
        statement = statement.order_by(col(Member.registered_at), col(Member.id)).limit(limit)
        if after is not None:
            key = tuple_(col(Member.registered_at), col(Member.id))
            statement = statement.where(key > tuple_(literal(after[0]), literal(after[1])))
        return list((await self.session.execute(statement)).scalars())

    async def count(self, where: MemberFilter | None = None, scope: MemberScope | None = None) -> int:
        """How many members match `where` within `scope`."""
        statement = select(func.count()).select_from(Member).where(*self._conditions(where, scope))
        return int((await self.session.execute(statement)).scalar_one())

    @staticmethod
    def _conditions(where: MemberFilter | None, scope: MemberScope | None) -> list[ColumnElement[bool]]:
        return (where.conditions() if where else []) + (reached(scope) if scope else [])

    async def reassign_guide(self, from_staff: uuid.UUID, to_staff: uuid.UUID) -> list[Member]:
        """Give every member of one guide to another, in one UPDATE; the members moved."""
        statement = (
            update(Member)
            .where(col(Member.guide_id) == from_staff)
            .values(guide_id=to_staff)
            .returning(Member)
            .execution_options(synchronize_session=False)
        )
        return list((await self.session.execute(statement)).scalars())

    async def add_openid(self, member_id: uuid.UUID, app_id: str, openid: str) -> bool:
        """Link an openid of one app to the member; False when it belongs to another member."""
        statement = (
            insert(MemberWechatId)
            .values(app_id=app_id, openid=openid, member_id=member_id)
            .on_conflict_do_nothing()
            .returning(col(MemberWechatId.member_id))
        )
        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return True
        owner = await self.by_openid(app_id, openid)
        return owner is not None and owner.id == member_id

    async def unionid_taken(self, unionid: str, member_id: uuid.UUID) -> bool:
        found = await self.by_unionid(unionid)
        return found is not None and found.id != member_id

    async def openids_of(self, member_ids: Sequence[uuid.UUID]) -> list[MemberWechatId]:
        """The openids of these members, in one SELECT (by the member_id index)."""
        statement = (
            select(MemberWechatId)
            .where(col(MemberWechatId.member_id).in_(list(member_ids)))
            .order_by(col(MemberWechatId.app_id))
        )
        return list((await self.session.execute(statement)).scalars())

    async def erase_wechat_ids(self, member_id: uuid.UUID) -> None:
        await self.session.execute(delete(MemberWechatId).where(col(MemberWechatId.member_id) == member_id))

    async def flush(self) -> None:
        await self.session.flush()
