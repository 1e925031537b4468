"""The only SQL of orders, refunds and behaviour: members resolved set-wise, rows written with one statement per
batch (unnest), orders locked for refunds, pages newest first, and statistics for many members in one query."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, literal, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from members.authorization import MemberScope
from members.orders.models import BehaviourEvent, Order, Refund
from members.orders.views import FoundMember, OrderFilter, OrderStats
from members.organisation.models import Region, Store
from members.profile.models import Member, MemberStatus

_INSERT_ORDERS = text(
    """
    INSERT INTO members.orders (id, client, external_id, member_id, store_code, guide, channel, paid_fen,
        discount_fen, refunded_fen, lines, occurred_at, earns_points, imported, content_hash, recorded_at)
    SELECT i, :client, x, m, s, g, c, p, d, 0, CAST(l AS jsonb), o, e, false, h, :now FROM unnest(
        CAST(:ids AS uuid[]), CAST(:externals AS varchar[]), CAST(:members AS uuid[]), CAST(:stores AS varchar[]),
        CAST(:guides AS varchar[]), CAST(:channels AS varchar[]), CAST(:paid AS bigint[]),
        CAST(:discounts AS bigint[]), CAST(:lines AS text[]), CAST(:ats AS timestamptz[]),
        CAST(:earns AS boolean[]), CAST(:hashes AS varchar[])
    ) AS t(i, x, m, s, g, c, p, d, l, o, e, h)
    ON CONFLICT (client, external_id) DO NOTHING
    RETURNING external_id
    """
)
_INSERT_EVENTS = text(
    """
    INSERT INTO members.behaviour_events (id, client, external_id, member_id, kind, sku, activity, page,
        occurred_at, content_hash, recorded_at)
    SELECT i, :client, x, m, k, s, a, p, o, h, :now FROM unnest(
        CAST(:ids AS uuid[]), CAST(:externals AS varchar[]), CAST(:members AS uuid[]), CAST(:kinds AS varchar[]),
        CAST(:skus AS varchar[]), CAST(:activities AS varchar[]), CAST(:pages AS varchar[]),
        CAST(:ats AS timestamptz[]), CAST(:hashes AS varchar[])
    ) AS t(i, x, m, k, s, a, p, o, h)
    ON CONFLICT (client, external_id) DO NOTHING
    RETURNING external_id
    """
)
_STATS = text(
    """
    SELECT member_id,
           count(*) FILTER (WHERE refunded_fen < paid_fen) AS order_count,
           coalesce(sum(paid_fen - refunded_fen), 0) AS total_spent_fen,
           min(occurred_at) FILTER (WHERE refunded_fen < paid_fen) AS first_order_at,
           max(occurred_at) FILTER (WHERE refunded_fen < paid_fen) AS last_order_at
    FROM members.orders WHERE member_id = ANY(CAST(:ids AS uuid[])) GROUP BY member_id
    """
)


def _conditions(filters: OrderFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.member_id is not None:
        conditions.append(col(Order.member_id) == filters.member_id)
    if filters.store_code is not None:
        conditions.append(col(Order.store_code) == filters.store_code)
    if filters.since is not None:
        conditions.append(col(Order.occurred_at) >= filters.since)
    if filters.until is not None:
        conditions.append(col(Order.occurred_at) < filters.until)
    return conditions


def reached(scope: MemberScope | None) -> list[ColumnElement[bool]]:
    """The SQL condition of the orders a scope reaches: sold in one of its stores or a store of its regions
    (nothing when it reaches every order; a member's own orders when it names the member)."""
    if scope is None or scope.everyone:
        return []
    options: list[ColumnElement[bool]] = []
    if scope.member_id is not None:
        with contextlib.suppress(ValueError):
            options.append(col(Order.member_id) == uuid.UUID(scope.member_id))
    if scope.stores:
        options.append(col(Order.store_code).in_(sorted(scope.stores)))
    if scope.regions:
        in_regions = (
            select(col(Store.code))
            .join(Region, col(Region.id) == col(Store.region_id))
            .where(col(Region.code).in_(sorted(scope.regions)))
        )
        options.append(col(Order.store_code).in_(in_regions))
    return [or_(*options)] if options else [false()]


def _columns(rows: Sequence[dict[str, Any]], *names: str) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


class OrderRepository:
    """Orders, refunds and behaviour events of the members service."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------------------------------ members, stores

    async def find_members(
        self, ids: Sequence[uuid.UUID], fingerprints: Sequence[str], unionids: Sequence[str]
    ) -> list[FoundMember]:
        """The members any of these ids, mobile fingerprints or unionids name, in one SELECT. Unionids are
        matched only once the profile has the column (until then none is found)."""
        unionid = getattr(Member, "wechat_unionid", None)
        conditions: list[ColumnElement[bool]] = [false()]
        if ids:
            conditions.append(col(Member.id).in_(ids))
        if fingerprints:
            conditions.append(col(Member.mobile_fingerprint).in_(fingerprints))
        if unionids and unionid is not None:
            conditions.append(unionid.in_(unionids))
        if len(conditions) == 1:
            return []
        columns = [col(Member.id), col(Member.status), col(Member.mobile_fingerprint), col(Member.home_store_code)]
        statement = select(*columns, *([unionid] if unionid is not None else [])).where(or_(*conditions))
        return [
            FoundMember(
                id=row[0],
                active=row[1] == MemberStatus.ACTIVE.value,
                fingerprint=row[2],
                home_store_code=row[3],
                unionid=row[4] if unionid is not None else None,
            )
            for row in (await self.session.execute(statement)).all()
        ]

    # ----------------------------------------------------------------------------------------------- orders

    async def orders_by_keys(self, client: str, external_ids: Sequence[str]) -> list[Order]:
        """The orders this client already recorded under any of these ids (one SELECT)."""
        statement = select(Order).where(
            col(Order.client) == client, col(Order.external_id).in_(sorted(set(external_ids)))
        )
        return list((await self.session.execute(statement)).scalars())

    async def insert_orders(self, client: str, rows: Sequence[dict[str, Any]], now: datetime) -> set[str]:
        """Write new orders of one client in one statement; the external ids written (an id another transaction
        committed meanwhile is skipped, and missing here)."""
        params = _columns(
            rows, "id", "external_id", "member_id", "store_code", "guide", "channel", "paid_fen", "discount_fen"
        )
        result = await self.session.execute(
            _INSERT_ORDERS,
            {
                "client": client,
                "now": now,
                "ids": params["id"],
                "externals": params["external_id"],
                "members": params["member_id"],
                "stores": params["store_code"],
                "guides": params["guide"],
                "channels": params["channel"],
                "paid": params["paid_fen"],
                "discounts": params["discount_fen"],
                "lines": [json.dumps(row["lines"], ensure_ascii=False) for row in rows],
                "ats": [row["occurred_at"] for row in rows],
                "earns": [row["earns_points"] for row in rows],
                "hashes": [row["content_hash"] for row in rows],
            },
        )
        return set(result.scalars())

    async def lock_order(self, *, order_id: uuid.UUID | None, client: str, external_id: str | None) -> Order | None:
        """The order by our id, or by this client's external id, locked until the transaction ends."""
        statement = select(Order).with_for_update()
        if order_id is not None:
            statement = statement.where(col(Order.id) == order_id)
        else:
            statement = statement.where(col(Order.client) == client, col(Order.external_id) == external_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add_refunded(self, order_id: uuid.UUID, amount_fen: int) -> int:
        """Move the order's refunded amount (its CHECK keeps it within the paid amount); the new total."""
        statement = (
            update(Order)
            .where(col(Order.id) == order_id)
            .values(refunded_fen=col(Order.refunded_fen) + amount_fen)
            .returning(col(Order.refunded_fen))
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Order]:
        """The orders among `ids` that exist (one SELECT)."""
        return list((await self.session.execute(select(Order).where(col(Order.id).in_(ids)))).scalars())

    async def page(
        self,
        filters: OrderFilter,
        *,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
        scope: MemberScope | None = None,
    ) -> list[Order]:
        """Up to `limit` orders newest first (occurred_at, then id), older than `before`, filtered, within `scope`."""
        statement = (
            select(Order)
            .where(*_conditions(filters), *reached(scope))
            .order_by(col(Order.occurred_at).desc(), col(Order.id).desc())
            .limit(limit)
        )
        if before is not None:
            key = tuple_(col(Order.occurred_at), col(Order.id))
            statement = statement.where(key < tuple_(literal(before[0]), literal(before[1])))
        return list((await self.session.execute(statement)).scalars())

    async def count(self, filters: OrderFilter, scope: MemberScope | None = None) -> int:
        """How many orders match the filters within `scope`."""
        statement = select(func.count()).select_from(Order).where(*_conditions(filters), *reached(scope))
        return int((await self.session.execute(statement)).scalar_one())

    async def stats(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OrderStats]:
        """Each member's order statistics net of refunds, for members with orders (one SELECT)."""
        rows = await self.session.execute(_STATS, {"ids": list(set(member_ids))})
        return {
            row.member_id: OrderStats(
                order_count=int(row.order_count),
                total_spent_fen=int(row.total_spent_fen),
                first_order_at=row.first_order_at,
                last_order_at=row.last_order_at,
            )
            for row in rows
        }

    # ---------------------------------------------------------------------------------------------- refunds

    async def refund_by_key(self, client: str, external_id: str) -> Refund | None:
        """The refund this client recorded under that id, if any."""
        statement = select(Refund).where(col(Refund.client) == client, col(Refund.external_id) == external_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def returned_quantities(self, order_id: uuid.UUID) -> dict[int, int]:
        """How many of each line (1-based) earlier refunds by lines gave back."""
        statement = select(col(Refund.lines)).where(col(Refund.order_id) == order_id, col(Refund.lines).is_not(None))
        returned: dict[int, int] = {}
        for lines in (await self.session.execute(statement)).scalars():
            for item in lines or ():
                returned[int(item["line"])] = returned.get(int(item["line"]), 0) + int(item["quantity"])
        return returned

    async def insert_refund(self, refund: Refund) -> bool:
        """Write a refund unless this client's id was committed meanwhile by another transaction; True if written."""
        statement = (
            insert(Refund)
            .values(**refund.model_dump())
            .on_conflict_do_nothing(index_elements=[col(Refund.client), col(Refund.external_id)])
            .returning(col(Refund.id))
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    # -------------------------------------------------------------------------------------------- behaviour

    async def events_by_keys(self, client: str, external_ids: Sequence[str]) -> list[BehaviourEvent]:
        """The behaviour events this client already recorded under any of these ids (one SELECT)."""
        statement = select(BehaviourEvent).where(
            col(BehaviourEvent.client) == client, col(BehaviourEvent.external_id).in_(sorted(set(external_ids)))
        )
        return list((await self.session.execute(statement)).scalars())

    async def insert_events(self, client: str, rows: Sequence[dict[str, Any]], now: datetime) -> set[str]:
        """Write new behaviour events of one client in one statement; the external ids written."""
        params = _columns(
            rows, "id", "external_id", "member_id", "kind", "sku", "activity", "page", "occurred_at", "content_hash"
        )
        result = await self.session.execute(
            _INSERT_EVENTS,
            {
                "client": client,
                "now": now,
                "ids": params["id"],
                "externals": params["external_id"],
                "members": params["member_id"],
                "kinds": params["kind"],
                "skus": params["sku"],
                "activities": params["activity"],
                "pages": params["page"],
                "ats": params["occurred_at"],
                "hashes": params["content_hash"],
            },
        )
        return set(result.scalars())
