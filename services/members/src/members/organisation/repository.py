"""The only SQL of the organisation: regions, stores, warehouses (and communities), staff and handovers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, any_, delete, func, insert, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from members.organisation.models import (
    MemberHandover,
    Region,
    Staff,
    StaffRole,
    Store,
    Warehouse,
    WarehouseCommunity,
)

T = TypeVar("T", Region, Store, Warehouse, Staff)
Position = tuple[datetime, uuid.UUID] | None
_StaffRegion = aliased(Region)


@dataclass(frozen=True, slots=True)
class HandoverFilter:
    """Conditions of the handover records; each given one must hold."""

    member_id: uuid.UUID | None = None
    from_staff_id: uuid.UUID | None = None
    to_staff_id: uuid.UUID | None = None
    handover_id: uuid.UUID | None = None

    def conditions(self) -> list[Any]:
        pairs = (
            (MemberHandover.member_id, self.member_id),
            (MemberHandover.from_staff_id, self.from_staff_id),
            (MemberHandover.to_staff_id, self.to_staff_id),
            (MemberHandover.handover_id, self.handover_id),
        )
        return [col(column) == value for column, value in pairs if value is not None]


@dataclass(frozen=True, slots=True)
class OrganisationFilter:
    """Conditions of an organisation list; each given one must hold."""

    region_code: str | None = None
    store_code: str | None = None
    role: StaffRole | None = None
    active: bool | None = None


def _keyset(statement: Select[Any], model: type[T], limit: int, after: Position) -> Select[Any]:
    statement = statement.order_by(col(model.created_at), col(model.id)).limit(limit)
    if after is not None:
        key = tuple_(col(model.created_at), col(model.id))
        statement = statement.where(key > tuple_(literal(after[0]), literal(after[1])))
    return statement


class OrganisationRepository:
    """Regions, stores, warehouses and staff by id, code and in creation order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_unique(self, row: T, unique: str) -> T | None:
        """Insert unless the `unique` column's value exists; the stored row, or None for a duplicate."""
        model = type(row)
        values = row.model_dump(exclude={"created_at", "active"})
        statement = pg_insert(model).values(**values).on_conflict_do_nothing(index_elements=[unique]).returning(model)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get(self, model: type[T], id_: uuid.UUID, *, lock: bool = False) -> T | None:
        """One row by id, locked for update when asked."""
        statement = select(model).where(col(model.id) == id_)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def region_by_code(self, code: str) -> Region | None:
        return (await self.session.execute(select(Region).where(col(Region.code) == code))).scalar_one_or_none()

    async def store_by_code(self, code: str) -> Store | None:
        return (await self.session.execute(select(Store).where(col(Store.code) == code))).scalar_one_or_none()

    async def staff_by_wecom(self, wecom_userid: str) -> Staff | None:
        statement = select(Staff).where(col(Staff.wecom_userid) == wecom_userid)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def region_codes(self, ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = await self.session.execute(select(col(Region.id), col(Region.code)).where(col(Region.id).in_(wanted)))
        return {row.id: row.code for row in rows}

    async def store_codes(self, ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        rows = await self.session.execute(select(col(Store.id), col(Store.code)).where(col(Store.id).in_(wanted)))
        return {row.id: row.code for row in rows}

    async def region_of_stores(self, store_codes: Sequence[str]) -> dict[str, str]:
        """Each store's region code, for the stores among `store_codes` that exist (one SELECT)."""
        statement: Select[Any] = (
            select(col(Store.code), col(Region.code).label("region_code"))
            .join(Region, col(Region.id) == col(Store.region_id))
            .where(col(Store.code).in_(store_codes))
        )
        return {row.code: row.region_code for row in await self.session.execute(statement)}

    async def communities(self, warehouse_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, ...]]:
        statement = (
            select(WarehouseCommunity)
            .where(col(WarehouseCommunity.warehouse_id).in_(warehouse_ids))
            .order_by(col(WarehouseCommunity.name))
        )
        found: dict[uuid.UUID, list[str]] = {}
        for row in (await self.session.execute(statement)).scalars():
            found.setdefault(row.warehouse_id, []).append(row.name)
        return {key: tuple(names) for key, names in found.items()}

    async def replace_communities(self, warehouse_id: uuid.UUID, names: Sequence[str]) -> None:
        await self.session.execute(
            delete(WarehouseCommunity).where(col(WarehouseCommunity.warehouse_id) == warehouse_id)
        )
        if names:
            await self.session.execute(
                insert(WarehouseCommunity), [{"warehouse_id": warehouse_id, "name": name} for name in names]
            )

    async def flush(self) -> None:
        await self.session.flush()

    # ------------------------------------------------------------------------------------------ lists

    def _listing(self, model: type[T], where: OrganisationFilter) -> Select[Any]:
        """Rows of `model` with the codes of their store and region, matching `where`, in no order yet."""
        active = [] if where.active is None else [col(model.active) == where.active]
        if model is Region:
            return select(Region).where(*active)
        if model is Store:
            statement: Select[Any] = select(Store, col(Region.code)).join(
                Region, col(Region.id) == col(Store.region_id)
            )
        elif model is Warehouse:
            statement = select(Warehouse, col(Region.code)).outerjoin(
                Region, col(Region.id) == col(Warehouse.region_id)
            )
        else:
            statement = (
                select(Staff, col(Store.code), col(_StaffRegion.code))
                .outerjoin(Store, col(Store.id) == col(Staff.store_id))
                .outerjoin(_StaffRegion, col(_StaffRegion.id) == col(Staff.region_id))
            )
            if where.store_code is not None:
                statement = statement.where(col(Store.code) == where.store_code)
            if where.role is not None:
                statement = statement.where(literal(where.role.value) == any_(col(Staff.roles)))
        region = col(_StaffRegion.code) if model is Staff else col(Region.code)
        if where.region_code is not None:
            statement = statement.where(region == where.region_code)
        filtered: Select[Any] = statement.where(*active)
        return filtered

    async def page(self, model: type[T], where: OrganisationFilter, *, limit: int, after: Position) -> list[Any]:
        """Up to `limit` rows in creation order after a position: the row and, except for regions, the codes of
        its store and region (staff: store code, region code; stores and warehouses: region code)."""
        rows = await self.session.execute(_keyset(self._listing(model, where), model, limit, after))
        return [row[0] if model is Region else tuple(row) for row in rows]

    async def count(self, model: type[T], where: OrganisationFilter) -> int:
        """How many rows match `where`."""
        statement = select(func.count()).select_from(self._listing(model, where).subquery())
        return int((await self.session.execute(statement)).scalar_one())

    # -------------------------------------------------------------------------------------- handover

    async def add_handovers(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(MemberHandover), list(rows))

    async def handover_page(self, where: HandoverFilter, *, limit: int, after: Position) -> list[MemberHandover]:
        """Up to `limit` handover records matching `where`, oldest first, after a (handed_over_at, id) position."""
        order = (col(MemberHandover.handed_over_at), col(MemberHandover.id))
        statement = select(MemberHandover).where(*where.conditions()).order_by(*order).limit(limit)
        if after is not None:
            statement = statement.where(tuple_(*order) > tuple_(literal(after[0]), literal(after[1])))
        return list((await self.session.execute(statement)).scalars())

    async def handover_count(self, where: HandoverFilter) -> int:
        statement = select(func.count()).select_from(MemberHandover).where(*where.conditions())
        return int((await self.session.execute(statement)).scalar_one())

    async def handovers_of(self, member_id: uuid.UUID) -> list[MemberHandover]:
        statement = (
            select(MemberHandover)
            .where(col(MemberHandover.member_id) == member_id)
            .order_by(col(MemberHandover.handed_over_at))
        )
        return list((await self.session.execute(statement)).scalars())
