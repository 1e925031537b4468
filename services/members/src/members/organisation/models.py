"""Organisation tables (schema `members`): regions, stores, warehouses and their communities, staff, handovers.

Codes are the brand's own (`storeCode`): unique, and never changed once written (a trigger refuses it, so
members, tokens and reports that name a code always mean the same place).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import ARRAY, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, String, Uuid, func, true
from sqlmodel import Field

from yutang_shared.db import Model

SCHEMA = "members"
CODE_LENGTH = 32
NAME_LENGTH = 64


class StaffRole(StrEnum):
    """What a staff member does; a token's `staff_roles`. Adding one needs a migration of `ck_staff_roles`."""

    GUIDE = "guide"  # 导购 / 店员
    STORE_MANAGER = "store_manager"  # 店长
    SUPERVISOR = "supervisor"  # 督导
    OPERATIONS = "operations"  # 运营
    CONTENT_EDITOR = "content_editor"  # 内容编辑


def _now() -> datetime:
    return datetime.now(UTC)


def _created_at() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _active() -> Column[bool]:
    return Column(Boolean, nullable=False, server_default=true())


class Region(Model, table=True):
    """A region (区域) of the brand; stores belong to one."""

    __tablename__ = "regions"
    __table_args__ = (Index("ix_regions_created_at_id", "created_at", "id"), {"schema": SCHEMA})

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(sa_column=Column(String(CODE_LENGTH), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    active: bool = Field(default=True, sa_column=_active())
    created_at: datetime = Field(default_factory=_now, sa_column=_created_at())


class Store(Model, table=True):
    """A store (门店), identified by the brand's own store code."""

    __tablename__ = "stores"
    __table_args__ = (
        Index("ix_stores_created_at_id", "created_at", "id"),
        Index("ix_stores_region_id", "region_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(sa_column=Column(String(CODE_LENGTH), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    region_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.regions.id"), nullable=False))
    active: bool = Field(default=True, sa_column=_active())
    created_at: datetime = Field(default_factory=_now, sa_column=_created_at())


class Warehouse(Model, table=True):
    """A warehouse (仓) for community delivery; it serves residential communities and has a buffer group."""

    __tablename__ = "warehouses"
    __table_args__ = (Index("ix_warehouses_created_at_id", "created_at", "id"), {"schema": SCHEMA})

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(sa_column=Column(String(CODE_LENGTH), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    region_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.regions.id"), nullable=True)
    )
    active: bool = Field(default=True, sa_column=_active())
    created_at: datetime = Field(default_factory=_now, sa_column=_created_at())


class WarehouseCommunity(Model, table=True):
    """A residential community (小区) a warehouse serves."""

    __tablename__ = "warehouse_communities"
    __table_args__ = ({"schema": SCHEMA},)

    warehouse_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.warehouses.id", ondelete="CASCADE"), primary_key=True)
    )
    name: str = Field(sa_column=Column(String(NAME_LENGTH), primary_key=True))


class Staff(Model, table=True):
    """A staff member: their roles, and the store or region they work for (neither: brand-wide)."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(
            "cardinality(roles) > 0 AND roles <@ ARRAY["
            + ", ".join(repr(role.value) for role in StaffRole)
            + "]::varchar[]",
            name="roles",
        ),
        CheckConstraint("num_nonnulls(store_id, region_id) <= 1", name="one_place"),
        Index("ix_staff_created_at_id", "created_at", "id"),
        Index("ix_staff_store_id", "store_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(NAME_LENGTH), nullable=False))
    wecom_userid: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    roles: list[str] = Field(sa_column=Column(ARRAY(String(32)), nullable=False))
    store_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.stores.id"), nullable=True)
    )
    region_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.regions.id"), nullable=True)
    )
    active: bool = Field(default=True, sa_column=_active())
    left_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created_at: datetime = Field(default_factory=_now, sa_column=_created_at())


class MemberHandover(Model, table=True):
    """One member moved from a leaving guide to another (离职继承): who moved them, when, in which handover."""

    __tablename__ = "member_handovers"
    __table_args__ = (Index("ix_member_handovers_member_id", "member_id"), {"schema": SCHEMA})

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    handover_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False, index=True))
    member_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.members.id"), nullable=False))
    from_staff_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.staff.id"), nullable=False))
    to_staff_id: uuid.UUID = Field(sa_column=Column(Uuid, ForeignKey(f"{SCHEMA}.staff.id"), nullable=False))
    actor: str = Field(sa_column=Column(String(128), nullable=False))
    handed_over_at: datetime = Field(default_factory=_now, sa_column=_created_at())
