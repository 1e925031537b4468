"""What organisation use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from members.organisation.models import MemberHandover, Region, Staff, StaffRole, Store, Warehouse


@dataclass(frozen=True, slots=True)
class RegionView:
    """A region."""

    id: uuid.UUID
    code: str
    name: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Region) -> RegionView:
        return cls(row.id, row.code, row.name, row.active, row.created_at)


@dataclass(frozen=True, slots=True)
class StoreView:
    """A store and the code of its region."""

    id: uuid.UUID
    code: str
    name: str
    region_code: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Store, region_code: str) -> StoreView:
        return cls(row.id, row.code, row.name, region_code, row.active, row.created_at)


@dataclass(frozen=True, slots=True)
class WarehouseView:
    """A warehouse, its region's code and the communities it serves."""

    id: uuid.UUID
    code: str
    name: str
    region_code: str | None
    communities: tuple[str, ...]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Warehouse, region_code: str | None, communities: tuple[str, ...]) -> WarehouseView:
        return cls(row.id, row.code, row.name, region_code, communities, row.active, row.created_at)


@dataclass(frozen=True, slots=True)
class StaffView:
    """A staff member with the codes of their store or region."""

    id: uuid.UUID
    name: str
    wecom_userid: str
    roles: tuple[StaffRole, ...]
    store_code: str | None
    region_code: str | None
    active: bool
    left_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Staff, store_code: str | None, region_code: str | None) -> StaffView:
        roles = tuple(StaffRole(role) for role in row.roles)
        return cls(
            row.id, row.name, row.wecom_userid, roles, store_code, region_code, row.active, row.left_at, row.created_at
        )


@dataclass(frozen=True, slots=True)
class StaffClaims:
    """What a staff token carries, from the staff record: `sub` = staff_id, `staff_roles`, `stores`, `regions`.

    A store's staff get their store's code in `stores`; a region's staff (supervisors) their region's code in
    `regions`; brand-wide staff (operations, content editors) neither. `active` is False once they left: no
    token may be issued then."""

    staff_id: uuid.UUID
    roles: tuple[str, ...]
    stores: tuple[str, ...]
    regions: tuple[str, ...]
    active: bool


@dataclass(frozen=True, slots=True)
class HandoverView:
    """The outcome of handing a leaving guide's members to another guide."""

    handover_id: uuid.UUID
    from_staff: StaffView
    to_staff: StaffView
    member_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class HandoverRecordView:
    """One member moved by a handover (离职继承): from and to which guide, by whom, when."""

    id: uuid.UUID
    handover_id: uuid.UUID
    member_id: uuid.UUID
    from_staff_id: uuid.UUID
    to_staff_id: uuid.UUID
    actor: str
    handed_over_at: datetime

    @classmethod
    def of(cls, row: MemberHandover) -> HandoverRecordView:
        return cls(
            id=row.id,
            handover_id=row.handover_id,
            member_id=row.member_id,
            from_staff_id=row.from_staff_id,
            to_staff_id=row.to_staff_id,
            actor=row.actor,
            handed_over_at=row.handed_over_at,
        )
