"""Organisation use cases: regions, stores, warehouses and staff (ops only, every change audited), the lists,
handing a leaving guide's members over (离职继承), and the staff claims identity puts in staff tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from members.audit.service import Actor, record
from members.organisation.errors import (
    CodeImmutable,
    DuplicateCode,
    DuplicateWecomUserid,
    InvalidOrganisationInput,
    NotAGuide,
    StaffInactive,
    UnknownRegion,
    UnknownStaff,
    UnknownStore,
    UnknownWarehouse,
)
from members.organisation.models import Region, Staff, StaffRole, Store, Warehouse
from members.organisation.repository import HandoverFilter, OrganisationFilter, Position
from members.organisation.rules import check_placement, clean_code, clean_communities, clean_name
from members.organisation.views import (
    HandoverRecordView,
    HandoverView,
    RegionView,
    StaffClaims,
    StaffView,
    StoreView,
    WarehouseView,
)
from members.profile import events
from members.uow import MembersUnitOfWork

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Change(Generic[V]):
    """A new value for a field that may also be cleared (`Change(None)`); no Change keeps the field."""

    value: V


# ------------------------------------------------------------------------------------------------ lookups


async def _region(uow: MembersUnitOfWork, code: str) -> Region:
    region = await uow.organisation.region_by_code(code)
    if region is None:
        raise UnknownRegion(f"no region has the code {code!r}")
    return region


async def _store(uow: MembersUnitOfWork, code: str) -> Store:
    store = await uow.organisation.store_by_code(code)
    if store is None:
        raise UnknownStore(f"no store has the code {code!r}")
    return store


async def _locked(uow: MembersUnitOfWork, model: type[Any], id_: uuid.UUID, missing: type[Exception]) -> Any:
    row = await uow.organisation.get(model, id_, lock=True)
    if row is None:
        raise missing(f"no {model.__tablename__} row has the id {id_}")
    return row


def _same_code(row: Region | Store | Warehouse, code: str | None) -> None:
    if code is not None and code.strip() != row.code:
        raise CodeImmutable(f"the code {row.code!r} cannot change")


async def store_view(uow: MembersUnitOfWork, row: Store) -> StoreView:
    return StoreView.of(row, (await uow.organisation.region_codes([row.region_id]))[row.region_id])


async def warehouse_view(uow: MembersUnitOfWork, row: Warehouse) -> WarehouseView:
    region = (await uow.organisation.region_codes([row.region_id])).get(row.region_id) if row.region_id else None
    communities = (await uow.organisation.communities([row.id])).get(row.id, ())
    return WarehouseView.of(row, region, communities)


async def staff_view(uow: MembersUnitOfWork, row: Staff) -> StaffView:
    store = (await uow.organisation.store_codes([row.store_id])).get(row.store_id) if row.store_id else None
    region = (await uow.organisation.region_codes([row.region_id])).get(row.region_id) if row.region_id else None
    return StaffView.of(row, store, region)


async def _done(uow: MembersUnitOfWork, actor: Actor, action: str, target_type: str, target: object) -> None:
    await record(uow, actor, action=action, target_type=target_type, target_ids=(target,))
    await uow.commit()


# ------------------------------------------------------------------------------------------------ regions


async def create_region(uow: MembersUnitOfWork, actor: Actor, *, code: str, name: str) -> RegionView:
    """Add a region. Raises InvalidOrganisationInput, or DuplicateCode when the code is taken."""
    region = Region(code=clean_code(code), name=clean_name(name))
    async with uow:
        stored = await uow.organisation.insert_unique(region, "code")
        if stored is None:
            raise DuplicateCode(f"the code {region.code!r} is taken")
        view = RegionView.of(stored)
        await _done(uow, actor, "createRegion", "region", view.code)
    return view


async def update_region(
    uow: MembersUnitOfWork, actor: Actor, *, id: uuid.UUID, code: str | None, name: str | None
) -> RegionView:
    """Rename a region. Raises UnknownRegion, CodeImmutable (a different code), InvalidOrganisationInput."""
    async with uow:
        region = await _locked(uow, Region, id, UnknownRegion)
        _same_code(region, code)
        if name is not None:
            region.name = clean_name(name)
        await uow.organisation.flush()
        view = RegionView.of(region)
        await _done(uow, actor, "updateRegion", "region", view.code)
    return view


MISSING: dict[type[Any], type[Exception]] = {
    Region: UnknownRegion,
    Store: UnknownStore,
    Warehouse: UnknownWarehouse,
    Staff: UnknownStaff,
}


async def set_active(uow: MembersUnitOfWork, actor: Actor, model: type[Any], id_: uuid.UUID, action: str) -> Any:
    """Deactivate a region, store, warehouse or staff member (staff also get `left_at`); returns the row's view."""
    missing = MISSING[model]
    async with uow:
        row = await _locked(uow, model, id_, missing)
        if row.active:
            row.active = False
            if isinstance(row, Staff):
                row.left_at = datetime.now(UTC)
        await uow.organisation.flush()
        view: Any
        if isinstance(row, Region):
            view = RegionView.of(row)
        elif isinstance(row, Store):
            view = await store_view(uow, row)
        elif isinstance(row, Warehouse):
            view = await warehouse_view(uow, row)
        else:
            view = await staff_view(uow, row)
        await _done(uow, actor, action, model.__tablename__.rstrip("s"), getattr(row, "code", row.id))
    return view


# ------------------------------------------------------------------------------------------------- stores


async def create_store(uow: MembersUnitOfWork, actor: Actor, *, code: str, name: str, region_code: str) -> StoreView:
    """Add a store to a region. Raises InvalidOrganisationInput, UnknownRegion or DuplicateCode."""
    clean, shown = clean_code(code), clean_name(name)
    async with uow:
        region = await _region(uow, region_code)
        stored = await uow.organisation.insert_unique(Store(code=clean, name=shown, region_id=region.id), "code")
        if stored is None:
            raise DuplicateCode(f"the code {clean!r} is taken")
        view = StoreView.of(stored, region.code)
        await _done(uow, actor, "createStore", "store", view.code)
    return view


async def update_store(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    id: uuid.UUID,
    code: str | None,
    name: str | None,
    region_code: str | None,
) -> StoreView:
    """Rename a store or move it to another region. Raises UnknownStore, UnknownRegion, CodeImmutable."""
    async with uow:
        store = await _locked(uow, Store, id, UnknownStore)
        _same_code(store, code)
        if name is not None:
            store.name = clean_name(name)
        if region_code is not None:
            store.region_id = (await _region(uow, region_code)).id
        await uow.organisation.flush()
        view = await store_view(uow, store)
        await _done(uow, actor, "updateStore", "store", view.code)
    return view


# --------------------------------------------------------------------------------------------- warehouses


async def create_warehouse(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    code: str,
    name: str,
    region_code: str | None,
    communities: Sequence[str],
) -> WarehouseView:
    """Add a warehouse and the communities it serves. Raises InvalidOrganisationInput, UnknownRegion,
    DuplicateCode."""
    clean, shown, served = clean_code(code), clean_name(name), clean_communities(communities)
    async with uow:
        region_id = None if region_code is None else (await _region(uow, region_code)).id
        stored = await uow.organisation.insert_unique(Warehouse(code=clean, name=shown, region_id=region_id), "code")
        if stored is None:
            raise DuplicateCode(f"the code {clean!r} is taken")
        await uow.organisation.replace_communities(stored.id, served)
        view = await warehouse_view(uow, stored)
        await _done(uow, actor, "createWarehouse", "warehouse", view.code)
    return view


async def update_warehouse(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    id: uuid.UUID,
    code: str | None,
    name: str | None,
    region: Change[str | None] | None,
    communities: Sequence[str] | None,
) -> WarehouseView:
    """Rename a warehouse, move or unassign its region, or replace its communities."""
    served = None if communities is None else clean_communities(communities)
    async with uow:
        warehouse = await _locked(uow, Warehouse, id, UnknownWarehouse)
        _same_code(warehouse, code)
        if name is not None:
            warehouse.name = clean_name(name)
        if region is not None:
            warehouse.region_id = None if region.value is None else (await _region(uow, region.value)).id
        await uow.organisation.flush()
        if served is not None:
            await uow.organisation.replace_communities(warehouse.id, served)
        view = await warehouse_view(uow, warehouse)
        await _done(uow, actor, "updateWarehouse", "warehouse", view.code)
    return view


# -------------------------------------------------------------------------------------------------- staff


async def _place(
    uow: MembersUnitOfWork, store_code: str | None, region_code: str | None
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    store = None if store_code is None else (await _store(uow, store_code)).id
    region = None if region_code is None else (await _region(uow, region_code)).id
    return store, region


async def create_staff(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    name: str,
    wecom_userid: str,
    roles: Sequence[StaffRole],
    store_code: str | None,
    region_code: str | None,
) -> StaffView:
    """Add a staff member. Raises InvalidOrganisationInput (roles and placement disagree), UnknownStore,
    UnknownRegion, DuplicateWecomUserid."""
    shown, userid = clean_name(name), clean_name(wecom_userid, "WeCom userid")
    checked = check_placement(roles, store=store_code is not None, region=region_code is not None)
    async with uow:
        store_id, region_id = await _place(uow, store_code, region_code)
        row = Staff(
            name=shown,
            wecom_userid=userid,
            roles=[r.value for r in checked],
            store_id=store_id,
            region_id=region_id,
        )
        stored = await uow.organisation.insert_unique(row, "wecom_userid")
        if stored is None:
            raise DuplicateWecomUserid(f"a staff member already has the WeCom userid {userid!r}")
        view = await staff_view(uow, stored)
        await _done(uow, actor, "createStaff", "staff", view.id)
    return view


async def update_staff(
    uow: MembersUnitOfWork,
    actor: Actor,
    *,
    id: uuid.UUID,
    name: str | None,
    roles: Sequence[StaffRole] | None,
    place: tuple[str | None, str | None] | None,
) -> StaffView:
    """Rename a staff member, change their roles, or move them (`place` = (store code, region code))."""
    async with uow:
        staff = await _locked(uow, Staff, id, UnknownStaff)
        if name is not None:
            staff.name = clean_name(name)
        if place is not None:
            staff.store_id, staff.region_id = await _place(uow, *place)
        wanted = [StaffRole(r) for r in staff.roles] if roles is None else list(roles)
        staff.roles = [
            r.value for r in check_placement(wanted, store=bool(staff.store_id), region=bool(staff.region_id))
        ]
        await uow.organisation.flush()
        view = await staff_view(uow, staff)
        await _done(uow, actor, "updateStaff", "staff", view.id)
    return view


async def staff_claims(
    uow: MembersUnitOfWork, *, staff_id: uuid.UUID | None = None, wecom_userid: str | None = None
) -> StaffClaims:
    """What a staff token carries, from the staff record found by id or WeCom userid (identity mints staff tokens
    with `sub` = staff_id, `staff_roles` = roles, `stores`, `regions`; it must refuse when `active` is False).

    Raises UnknownStaff when no staff member matches (or neither key is given)."""
    async with uow:
        row = None
        if staff_id is not None:
            row = await uow.organisation.get(Staff, staff_id)
        elif wecom_userid is not None:
            row = await uow.organisation.staff_by_wecom(wecom_userid)
        if row is None:
            raise UnknownStaff("no staff member matches")
        view = await staff_view(uow, row)
    return StaffClaims(
        staff_id=view.id,
        roles=tuple(r.value for r in view.roles),
        stores=() if view.store_code is None else (view.store_code,),
        regions=() if view.region_code is None else (view.region_code,),
        active=view.active,
    )


async def hand_over_members(
    uow: MembersUnitOfWork, actor: Actor, *, from_staff_id: uuid.UUID, to_staff_id: uuid.UUID
) -> HandoverView:
    """Move every member whose exclusive guide is `from_staff_id` to `to_staff_id` (离职继承), in one transaction,
    with a handover row per member and a `member.updated` event each.

    Raises UnknownStaff, InvalidOrganisationInput (the same guide), StaffInactive (the receiving guide left) or
    NotAGuide (the receiving staff member is no guide)."""
    if from_staff_id == to_staff_id:
        raise InvalidOrganisationInput("members are handed to another guide")
    async with uow:
        # Both rows locked in id order: two handovers between the same guides serialise without deadlock.
        rows = {}
        for staff_id in sorted((from_staff_id, to_staff_id)):
            rows[staff_id] = await _locked(uow, Staff, staff_id, UnknownStaff)
        giver, taker = rows[from_staff_id], rows[to_staff_id]
        if not taker.active:
            raise StaffInactive("the receiving guide has left")
        if StaffRole.GUIDE.value not in taker.roles:
            raise NotAGuide("the receiving staff member is not a guide")
        moved = await uow.members.reassign_guide(giver.id, taker.id)
        handover_id = uuid.uuid4()
        await uow.organisation.add_handovers(
            [
                {
                    "id": uuid.uuid4(),
                    "handover_id": handover_id,
                    "member_id": member.id,
                    "from_staff_id": giver.id,
                    "to_staff_id": taker.id,
                    "actor": actor.subject[:128],
                }
                for member in moved
            ]
        )
        await events.publish(uow.session, [events.updated(member, ["guide"]) for member in moved])
        view = HandoverView(
            handover_id, await staff_view(uow, giver), await staff_view(uow, taker), tuple(m.id for m in moved)
        )
        await _done(uow, actor, "handOverMembers", "staff", giver.id)
    return view


# -------------------------------------------------------------------------------------------------- lists


async def handover_records(
    uow: MembersUnitOfWork, where: HandoverFilter, *, limit: int, after: Position
) -> list[HandoverRecordView]:
    """Up to `limit` records of members moved by handovers (离职继承), matching `where`, oldest first."""
    async with uow:
        return [
            HandoverRecordView.of(row) for row in await uow.organisation.handover_page(where, limit=limit, after=after)
        ]


async def handover_count(uow: MembersUnitOfWork, where: HandoverFilter) -> int:
    """How many handover records match `where`."""
    async with uow:
        return await uow.organisation.handover_count(where)


async def page(
    uow: MembersUnitOfWork, model: type[Any], where: OrganisationFilter, *, limit: int, after: Position
) -> list[Any]:
    """Up to `limit` views of `model` (Region, Store, Warehouse or Staff) matching `where`, in creation order."""
    async with uow:
        rows = await uow.organisation.page(model, where, limit=limit, after=after)
        if model is Region:
            return [RegionView.of(row) for row in rows]
        if model is Store:
            return [StoreView.of(row, region) for row, region in rows]
        if model is Staff:
            return [StaffView.of(row, store, region) for row, store, region in rows]
        communities = await uow.organisation.communities([row.id for row, _ in rows])
        return [WarehouseView.of(row, region, communities.get(row.id, ())) for row, region in rows]


async def count(uow: MembersUnitOfWork, model: type[Any], where: OrganisationFilter) -> int:
    """How many rows of `model` match `where`."""
    async with uow:
        return await uow.organisation.count(model, where)


async def region_of_stores(uow: MembersUnitOfWork, store_codes: Sequence[str]) -> dict[str, str]:
    """Each known store's region code, in one query (the supervisors' scope is resolved with it)."""
    async with uow:
        return await uow.organisation.region_of_stores(store_codes)
