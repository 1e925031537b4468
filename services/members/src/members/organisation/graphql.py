"""The organisation feature in the members subgraph: regions, stores, warehouses and staff, their lists and the
operations' mutations (each audited), and the guide handover (离职继承)."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry

from members.access import AuditRefusals, Authorized
from members.audit.service import Actor
from members.context import MembersInfo
from members.organisation import service
from members.organisation.errors import (
    CodeImmutable,
    DirectoryErrorCode,
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
from members.organisation.models import Region as RegionRow
from members.organisation.models import Staff as StaffRow
from members.organisation.models import StaffRole
from members.organisation.models import Store as StoreRow
from members.organisation.models import Warehouse as WarehouseRow
from members.organisation.repository import HandoverFilter, OrganisationFilter
from members.organisation.rules import MAX_COMMUNITIES
from members.organisation.views import HandoverRecordView, HandoverView, RegionView, StaffView, StoreView, WarehouseView
from members.uow import MembersUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.context import principal_of
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

graphql_enum(
    DirectoryErrorCode,
    "Codes of the expected errors of the organisation and the member profile.",
    {
        "MEMBERS_UNKNOWN_REGION": "No region has that code or id.",
        "MEMBERS_UNKNOWN_STORE": "No store has that code or id.",
        "MEMBERS_UNKNOWN_WAREHOUSE": "No warehouse has that id.",
        "MEMBERS_UNKNOWN_STAFF": "No staff member has that id.",
        "MEMBERS_DUPLICATE_CODE": "Another region, store or warehouse already has that code.",
        "MEMBERS_CODE_IMMUTABLE": "Codes never change once written.",
        "MEMBERS_DUPLICATE_WECOM_USERID": "Another staff member already has that WeCom userid.",
        "MEMBERS_STAFF_INACTIVE": "The staff member has left.",
        "MEMBERS_NOT_A_GUIDE": "The staff member does not have the guide role.",
        "MEMBERS_INVALID_ORGANISATION_INPUT": "A code, name, role list or placement breaks the rules.",
        "MEMBERS_UNKNOWN_MEMBER": "No member has that id.",
        "MEMBERS_MEMBER_FROZEN": "The member is frozen: their profile and guide cannot change.",
        "MEMBERS_MEMBER_CLOSED": "The member's account is closed: nothing about them changes.",
        "MEMBERS_INVALID_BIRTHDAY": "The birthday is in the future or before 1900-01-01.",
        "MEMBERS_INVALID_PROFILE": "A profile text is too long or has control characters, or the avatar is no "
        "http(s) URL.",
        "MEMBERS_WECHAT_ID_TAKEN": "The WeChat id belongs to another member.",
        "MEMBERS_MOBILE_TAKEN": "The mobile number is registered to another member.",
        "MEMBERS_WECHAT_CODE_INVALID": "WeChat does not know the code: wrong, expired, or from another app.",
        "MEMBERS_WECHAT_CODE_USED": "The WeChat code was already used; a code is good once.",
        "MEMBERS_WECHAT_UNAVAILABLE": "WeChat is busy, unreachable or not configured; try again later.",
    },
)
graphql_enum(
    StaffRole,
    "What a staff member does.",
    {
        "GUIDE": "Clerk / shopping guide (导购): serves the members of their store.",
        "STORE_MANAGER": "Store manager (店长): runs a store and its members.",
        "SUPERVISOR": "Regional supervisor (督导): oversees the stores of a region.",
        "OPERATIONS": "Operations (运营): brand-wide rules, campaigns and the organisation.",
        "CONTENT_EDITOR": "Content editor: activities and posts.",
    },
)

REGIONS, STORES, WAREHOUSES, STAFF = Keyset("regions"), Keyset("stores"), Keyset("warehouses"), Keyset("staff")
HANDOVERS = Keyset("handovers")
CODE = "The brand's own code: 1–32 letters, digits, `_` or `-`; unique and never changed."


# ----------------------------------------------------------------------------------------------- types


@strawberry.type(description="A region (区域) of the brand.")
class Region:
    id: uuid.UUID = strawberry.field(description="The region's id.")
    code: str = strawberry.field(description=CODE)
    name: str = strawberry.field(description="Display name.")
    active: bool = strawberry.field(description="False once deactivated.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def of(cls, v: RegionView) -> Region:
        return cls(id=v.id, code=v.code, name=v.name, active=v.active, created_at=v.created_at)


@strawberry.type(description="A store (门店).")
class Store:
    id: uuid.UUID = strawberry.field(description="The store's id.")
    code: str = strawberry.field(description=f"{CODE} Members' home stores and tokens' `stores` name it.")
    name: str = strawberry.field(description="Display name.")
    region_code: str = strawberry.field(description="The code of the store's region.")
    active: bool = strawberry.field(description="False once deactivated.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def of(cls, v: StoreView) -> Store:
        return cls(
            id=v.id, code=v.code, name=v.name, region_code=v.region_code, active=v.active, created_at=v.created_at
        )


@strawberry.type(description="A warehouse (仓) for community delivery, with the residential communities it serves.")
class Warehouse:
    id: uuid.UUID = strawberry.field(description="The warehouse's id.")
    code: str = strawberry.field(description=CODE)
    name: str = strawberry.field(description="Display name.")
    region_code: str | None = strawberry.field(description="The code of its region, if it has one.")
    communities: list[str] = strawberry.field(description="The residential communities (小区) it serves, by name.")
    active: bool = strawberry.field(description="False once deactivated.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def of(cls, v: WarehouseView) -> Warehouse:
        return cls(
            id=v.id,
            code=v.code,
            name=v.name,
            region_code=v.region_code,
            communities=list(v.communities),
            active=v.active,
            created_at=v.created_at,
        )


@strawberry.type(description="A staff member of the brand.")
class Staff:
    id: uuid.UUID = strawberry.field(description="The staff member's id (a staff token's subject).")
    name: str = strawberry.field(description="Their name.")
    wecom_userid: str = strawberry.field(description="Their WeCom (企业微信) userid; unique.")
    roles: list[StaffRole] = strawberry.field(description="What they do.")
    store_code: str | None = strawberry.field(description="The store they work in (guides, store managers).")
    region_code: str | None = strawberry.field(description="The region they oversee (supervisors).")
    active: bool = strawberry.field(description="False once they left (离职).")
    left_at: datetime | None = strawberry.field(description="When they were deactivated.")
    created_at: datetime = strawberry.field(description="When the record was created.")

    @classmethod
    def of(cls, v: StaffView) -> Staff:
        return cls(
            id=v.id,
            name=v.name,
            wecom_userid=v.wecom_userid,
            roles=list(v.roles),
            store_code=v.store_code,
            region_code=v.region_code,
            active=v.active,
            left_at=v.left_at,
            created_at=v.created_at,
        )


@strawberry.type(description="One member moved from a leaving guide to another by handOverMembers (离职继承).")
class MemberHandoverRecord:
    id: uuid.UUID = strawberry.field(description="The record's id.")
    handover_id: uuid.UUID = strawberry.field(description="The handover it was part of (one handOverMembers call).")
    member_id: uuid.UUID = strawberry.field(description="The member moved.")
    from_staff_id: uuid.UUID = strawberry.field(description="The guide who left.")
    to_staff_id: uuid.UUID = strawberry.field(description="The guide who took the member.")
    actor: str = strawberry.field(description="Who handed the members over (the caller's token subject).")
    handed_over_at: datetime = strawberry.field(description="When.")

    @classmethod
    def of(cls, v: HandoverRecordView) -> MemberHandoverRecord:
        return cls(
            id=v.id,
            handover_id=v.handover_id,
            member_id=v.member_id,
            from_staff_id=v.from_staff_id,
            to_staff_id=v.to_staff_id,
            actor=v.actor,
            handed_over_at=v.handed_over_at,
        )


# ---------------------------------------------------------------------------------------------- errors


@strawberry.type(description="No region has that code or id. Nothing was changed.")
class UnknownRegionError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_REGION.")


@strawberry.type(description="No store has that code or id. Nothing was changed.")
class StoreNotFoundError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_STORE.")


@strawberry.type(description="No warehouse has that id. Nothing was changed.")
class UnknownWarehouseError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_WAREHOUSE.")


@strawberry.type(description="No staff member has that id. Nothing was changed.")
class UnknownStaffError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_STAFF.")


@strawberry.type(description="Another region, store or warehouse has that code. Nothing was changed.")
class DuplicateCodeError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_DUPLICATE_CODE.")


@strawberry.type(description="Codes never change once written. Nothing was changed.")
class CodeImmutableError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_CODE_IMMUTABLE.")


@strawberry.type(description="Another staff member has that WeCom userid. Nothing was changed.")
class DuplicateWecomUseridError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_DUPLICATE_WECOM_USERID.")


@strawberry.type(description="The staff member has left. Nothing was changed.")
class StaffInactiveError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_STAFF_INACTIVE.")


@strawberry.type(description="The staff member is not a guide. Nothing was changed.")
class NotAGuideError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_NOT_A_GUIDE.")


@strawberry.type(description="A code, name, role list or placement breaks the rules. Nothing was changed.")
class InvalidOrganisationInputError(Error):
    code: DirectoryErrorCode = strawberry.field(description="MEMBERS_INVALID_ORGANISATION_INPUT.")


HANDLERS = error_handlers(
    {
        UnknownRegion: UnknownRegionError,
        UnknownStore: StoreNotFoundError,
        UnknownWarehouse: UnknownWarehouseError,
        UnknownStaff: UnknownStaffError,
        DuplicateCode: DuplicateCodeError,
        CodeImmutable: CodeImmutableError,
        DuplicateWecomUserid: DuplicateWecomUseridError,
        StaffInactive: StaffInactiveError,
        NotAGuide: NotAGuideError,
        InvalidOrganisationInput: InvalidOrganisationInputError,
    }
)

# ------------------------------------------------------------------------------------- inputs, payloads


@strawberry.input(description="A new region.")
class CreateRegionInput:
    code: str = strawberry.field(description=CODE)
    name: str = strawberry.field(description="Display name, 1–64 characters.")


@strawberry.input(description="Changes to a region; omitted fields stay.")
class UpdateRegionInput:
    id: uuid.UUID = strawberry.field(description="The region.")
    code: str | None = strawberry.field(default=None, description="Must equal the current code if given.")
    name: str | None = strawberry.field(default=None, description="New display name.")


@strawberry.input(description="A new store.")
class CreateStoreInput:
    code: str = strawberry.field(description=CODE)
    name: str = strawberry.field(description="Display name, 1–64 characters.")
    region_code: str = strawberry.field(description="The region it belongs to.")


@strawberry.input(description="Changes to a store; omitted fields stay.")
class UpdateStoreInput:
    id: uuid.UUID = strawberry.field(description="The store.")
    code: str | None = strawberry.field(default=None, description="Must equal the current code if given.")
    name: str | None = strawberry.field(default=None, description="New display name.")
    region_code: str | None = strawberry.field(default=None, description="Move it to this region.")


@strawberry.input(description="A new warehouse.")
class CreateWarehouseInput:
    code: str = strawberry.field(description=CODE)
    name: str = strawberry.field(description="Display name, 1–64 characters.")
    region_code: str | None = strawberry.field(default=None, description="Its region, if any.")
    communities: list[str] = strawberry.field(
        default_factory=list, description=f"Residential communities it serves, at most {MAX_COMMUNITIES}."
    )


@strawberry.input(description="Changes to a warehouse; omitted fields stay.")
class UpdateWarehouseInput:
    id: uuid.UUID = strawberry.field(description="The warehouse.")
    code: str | None = strawberry.field(default=None, description="Must equal the current code if given.")
    name: str | None = strawberry.field(default=None, description="New display name.")
    region_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="Move it to this region; null takes it out of any region."
    )
    communities: list[str] | None = strawberry.field(
        default=None, description=f"Replace the communities it serves (at most {MAX_COMMUNITIES})."
    )


@strawberry.input(description="A new staff member.")
class CreateStaffInput:
    name: str = strawberry.field(description="Their name, 1–64 characters.")
    wecom_userid: str = strawberry.field(description="Their WeCom userid; unique.")
    roles: list[StaffRole] = strawberry.field(description="What they do; at least one.")
    store_code: str | None = strawberry.field(
        default=None, description="Their store; guides and store managers need one."
    )
    region_code: str | None = strawberry.field(default=None, description="Their region; supervisors need one.")


@strawberry.input(description="Changes to a staff member; omitted fields stay.")
class UpdateStaffInput:
    id: uuid.UUID = strawberry.field(description="The staff member.")
    name: str | None = strawberry.field(default=None, description="New name.")
    roles: list[StaffRole] | None = strawberry.field(default=None, description="Their new roles.")
    store_code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Move them to this store (null: no store). Given with regionCode "
        "or alone, it replaces where they work.",
    )
    region_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="Move them to this region (null: no region)."
    )


@strawberry.type(description="The region as saved.")
class RegionSuccess:
    region: Region = strawberry.field(description="The region.")


@strawberry.type(description="The store as saved.")
class StoreSuccess:
    store: Store = strawberry.field(description="The store.")


@strawberry.type(description="The warehouse as saved.")
class WarehouseSuccess:
    warehouse: Warehouse = strawberry.field(description="The warehouse.")


@strawberry.type(description="The staff member as saved.")
class StaffSuccess:
    staff: Staff = strawberry.field(description="The staff member.")


@strawberry.type(description="The members were handed over (离职继承).")
class HandOverMembersSuccess:
    handover_id: uuid.UUID = strawberry.field(description="The id shared by this handover's records.")
    from_staff: Staff = strawberry.field(description="The guide who gave the members.")
    to_staff: Staff = strawberry.field(description="The guide who received them.")
    member_ids: list[uuid.UUID] = strawberry.field(description="The members moved.")
    moved: int = strawberry.field(description="How many members moved.")

    @classmethod
    def of(cls, v: HandoverView) -> HandOverMembersSuccess:
        return cls(
            handover_id=v.handover_id,
            from_staff=Staff.of(v.from_staff),
            to_staff=Staff.of(v.to_staff),
            member_ids=list(v.member_ids),
            moved=len(v.member_ids),
        )


RegionPayload = Annotated[
    RegionSuccess | InvalidOrganisationInputError | DuplicateCodeError | UnknownRegionError | CodeImmutableError,
    strawberry.union("RegionPayload", description="The outcome of creating, updating or deactivating a region."),
]
StorePayload = Annotated[
    StoreSuccess
    | InvalidOrganisationInputError
    | DuplicateCodeError
    | UnknownRegionError
    | StoreNotFoundError
    | CodeImmutableError,
    strawberry.union("StorePayload", description="The outcome of creating, updating or deactivating a store."),
]
WarehousePayload = Annotated[
    WarehouseSuccess
    | InvalidOrganisationInputError
    | DuplicateCodeError
    | UnknownRegionError
    | UnknownWarehouseError
    | CodeImmutableError,
    strawberry.union("WarehousePayload", description="The outcome of creating, updating or deactivating a warehouse."),
]
StaffPayload = Annotated[
    StaffSuccess
    | InvalidOrganisationInputError
    | DuplicateWecomUseridError
    | UnknownRegionError
    | StoreNotFoundError
    | UnknownStaffError,
    strawberry.union("StaffPayload", description="The outcome of creating, updating or deactivating staff."),
]
HandOverMembersPayload = Annotated[
    HandOverMembersSuccess | InvalidOrganisationInputError | UnknownStaffError | StaffInactiveError | NotAGuideError,
    strawberry.union("HandOverMembersPayload", description="The outcome of handOverMembers."),
]


def _uow(info: MembersInfo) -> MembersUnitOfWork:
    return MembersUnitOfWork(info.context.sessions)


def _actor(info: MembersInfo) -> Actor:
    return Actor.of(principal_of(info))


def _set(value: Any) -> bool:
    return value is not strawberry.UNSET


OPS_ONLY = "Operations only; audited."
ops_mutation = partial(strawberry.mutation, permission_classes=[Authorized], extensions=[AuditRefusals()])
Id = Annotated[uuid.UUID, strawberry.argument(description="The id.")]


@strawberry.type
class Mutation:
    @ops_mutation(description=f"Create a region. {OPS_ONLY}")
    async def create_region(
        self,
        info: MembersInfo,
        input: Annotated[
            CreateRegionInput, strawberry.argument(description="The region to create: its code and name.")
        ],
    ) -> RegionPayload:
        view = await service.create_region(_uow(info), _actor(info), code=input.code, name=input.name)
        return RegionSuccess(region=Region.of(view))

    @ops_mutation(description=f"Rename a region (its code never changes). {OPS_ONLY}")
    async def update_region(
        self,
        info: MembersInfo,
        input: Annotated[
            UpdateRegionInput, strawberry.argument(description="The region and its new name (codes never change).")
        ],
    ) -> RegionPayload:
        view = await service.update_region(_uow(info), _actor(info), id=input.id, code=input.code, name=input.name)
        return RegionSuccess(region=Region.of(view))

    @ops_mutation(description=f"Deactivate a region; its code stays taken. {OPS_ONLY}")
    async def deactivate_region(self, info: MembersInfo, id: Id) -> RegionPayload:
        view = await service.set_active(_uow(info), _actor(info), RegionRow, id, "deactivateRegion")
        return RegionSuccess(region=Region.of(view))

    @ops_mutation(description=f"Create a store in a region. {OPS_ONLY}")
    async def create_store(
        self,
        info: MembersInfo,
        input: Annotated[
            CreateStoreInput, strawberry.argument(description="The store to create: its code, name and region.")
        ],
    ) -> StorePayload:
        view = await service.create_store(
            _uow(info), _actor(info), code=input.code, name=input.name, region_code=input.region_code
        )
        return StoreSuccess(store=Store.of(view))

    @ops_mutation(description=f"Rename a store or move it to another region (its code never changes). {OPS_ONLY}")
    async def update_store(
        self,
        info: MembersInfo,
        input: Annotated[
            UpdateStoreInput,
            strawberry.argument(description="The store and the fields to change (codes never change)."),
        ],
    ) -> StorePayload:
        view = await service.update_store(
            _uow(info), _actor(info), id=input.id, code=input.code, name=input.name, region_code=input.region_code
        )
        return StoreSuccess(store=Store.of(view))

    @ops_mutation(description=f"Deactivate a store; its code stays taken and its members keep it. {OPS_ONLY}")
    async def deactivate_store(self, info: MembersInfo, id: Id) -> StorePayload:
        view = await service.set_active(_uow(info), _actor(info), StoreRow, id, "deactivateStore")
        return StoreSuccess(store=Store.of(view))

    @ops_mutation(description=f"Create a warehouse with the communities it serves. {OPS_ONLY}")
    async def create_warehouse(
        self,
        info: MembersInfo,
        input: Annotated[
            CreateWarehouseInput,
            strawberry.argument(
                description="The warehouse to create: its code, name, region and the communities it serves."
            ),
        ],
    ) -> WarehousePayload:
        view = await service.create_warehouse(
            _uow(info),
            _actor(info),
            code=input.code,
            name=input.name,
            region_code=input.region_code,
            communities=input.communities,
        )
        return WarehouseSuccess(warehouse=Warehouse.of(view))

    @ops_mutation(description=f"Rename a warehouse, change its region or communities. {OPS_ONLY}")
    async def update_warehouse(
        self,
        info: MembersInfo,
        input: Annotated[
            UpdateWarehouseInput,
            strawberry.argument(description="The warehouse and the fields to change (codes never change)."),
        ],
    ) -> WarehousePayload:
        region = service.Change(input.region_code) if _set(input.region_code) else None
        view = await service.update_warehouse(
            _uow(info),
            _actor(info),
            id=input.id,
            code=input.code,
            name=input.name,
            region=region,
            communities=input.communities,
        )
        return WarehouseSuccess(warehouse=Warehouse.of(view))

    @ops_mutation(description=f"Deactivate a warehouse. {OPS_ONLY}")
    async def deactivate_warehouse(self, info: MembersInfo, id: Id) -> WarehousePayload:
        view = await service.set_active(_uow(info), _actor(info), WarehouseRow, id, "deactivateWarehouse")
        return WarehouseSuccess(warehouse=Warehouse.of(view))

    @ops_mutation(description=f"Add a staff member. {OPS_ONLY}")
    async def create_staff(
        self,
        info: MembersInfo,
        input: Annotated[
            CreateStaffInput,
            strawberry.argument(
                description="The staff member to create: name, WeCom userid, roles and their store or region."
            ),
        ],
    ) -> StaffPayload:
        view = await service.create_staff(
            _uow(info),
            _actor(info),
            name=input.name,
            wecom_userid=input.wecom_userid,
            roles=input.roles,
            store_code=input.store_code,
            region_code=input.region_code,
        )
        return StaffSuccess(staff=Staff.of(view))

    @ops_mutation(description=f"Rename a staff member, change their roles or where they work. {OPS_ONLY}")
    async def update_staff(
        self,
        info: MembersInfo,
        input: Annotated[
            UpdateStaffInput, strawberry.argument(description="The staff member and the fields to change.")
        ],
    ) -> StaffPayload:
        moved = _set(input.store_code) or _set(input.region_code)
        place = (
            (
                input.store_code if _set(input.store_code) else None,
                input.region_code if _set(input.region_code) else None,
            )
            if moved
            else None
        )
        view = await service.update_staff(
            _uow(info), _actor(info), id=input.id, name=input.name, roles=input.roles, place=place
        )
        return StaffSuccess(staff=Staff.of(view))

    @ops_mutation(
        description="Deactivate a staff member who left (离职): no token is issued for them any more, and they "
        f"cannot be assigned as a guide. Hand their members over with handOverMembers. {OPS_ONLY}"
    )
    async def deactivate_staff(self, info: MembersInfo, id: Id) -> StaffPayload:
        view = await service.set_active(_uow(info), _actor(info), StaffRow, id, "deactivateStaff")
        return StaffSuccess(staff=Staff.of(view))

    @ops_mutation(
        description="Hand every member whose exclusive guide is `fromStaffId` to the active guide `toStaffId` "
        f"(离职继承), in one transaction, with a record per member of who moved it and when. {OPS_ONLY}"
    )
    async def hand_over_members(
        self,
        info: MembersInfo,
        from_staff_id: Annotated[uuid.UUID, strawberry.argument(description="The leaving guide.")],
        to_staff_id: Annotated[uuid.UUID, strawberry.argument(description="The guide who takes the members.")],
    ) -> HandOverMembersPayload:
        view = await service.hand_over_members(
            _uow(info), _actor(info), from_staff_id=from_staff_id, to_staff_id=to_staff_id
        )
        return HandOverMembersSuccess.of(view)


# --------------------------------------------------------------------------------------------- queries

ORG_READ = f"At most {MAX_PAGE} a page, in creation order. Staff, operations and services with members:read."
ActiveArg = Annotated[bool | None, strawberry.argument(description="Only active (true) or inactive (false) ones.")]
RegionArg = Annotated[str | None, strawberry.argument(description="Only those of this region (code).")]


async def _page(
    info: MembersInfo, model: type[Any], keyset: Keyset, node: Any, where: OrganisationFilter, first: int, after: Any
) -> Any:
    limit, position = page_size(first), keyset.position(after)
    rows = await service.page(_uow(info), model, where, limit=limit + 1, after=position)
    return page_of(
        rows,
        limit,
        node=node,
        cursor=lambda v: keyset.cursor(v.created_at, v.id),
        counter=partial(service.count, _uow(info), model, where),
    )


@strawberry.type
class Query:
    @strawberry.field(description=f"Regions. {ORG_READ}", permission_classes=[Authorized])
    async def regions(
        self, info: MembersInfo, active: ActiveArg = None, first: PageSize = DEFAULT_PAGE, after: After = None
    ) -> Connection[Region]:
        return await _page(info, RegionRow, REGIONS, Region.of, OrganisationFilter(active=active), first, after)  # type: ignore[no-any-return]

    @strawberry.field(description=f"Stores. {ORG_READ}", permission_classes=[Authorized])
    async def stores(
        self,
        info: MembersInfo,
        region_code: RegionArg = None,
        active: ActiveArg = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Store]:
        where = OrganisationFilter(region_code=region_code, active=active)
        return await _page(info, StoreRow, STORES, Store.of, where, first, after)  # type: ignore[no-any-return]

    @strawberry.field(description=f"Warehouses. {ORG_READ}", permission_classes=[Authorized])
    async def warehouses(
        self,
        info: MembersInfo,
        region_code: RegionArg = None,
        active: ActiveArg = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Warehouse]:
        where = OrganisationFilter(region_code=region_code, active=active)
        return await _page(info, WarehouseRow, WAREHOUSES, Warehouse.of, where, first, after)  # type: ignore[no-any-return]

    @strawberry.field(description=f"Staff members. {ORG_READ}", permission_classes=[Authorized])
    async def staff(
        self,
        info: MembersInfo,
        store_code: Annotated[str | None, strawberry.argument(description="Only this store's staff.")] = None,
        region_code: Annotated[str | None, strawberry.argument(description="Only this region's staff.")] = None,
        role: Annotated[StaffRole | None, strawberry.argument(description="Only staff with this role.")] = None,
        active: ActiveArg = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Staff]:
        where = OrganisationFilter(region_code=region_code, store_code=store_code, role=role, active=active)
        return await _page(info, StaffRow, STAFF, Staff.of, where, first, after)  # type: ignore[no-any-return]

    @strawberry.field(
        description=f"Who moved which member from which guide to which in handovers (离职继承), oldest first, at "
        f"most {MAX_PAGE} a page; every given filter must hold. Operations only.",
        permission_classes=[Authorized],
    )
    async def member_handovers(
        self,
        info: MembersInfo,
        member_id: Annotated[uuid.UUID | None, strawberry.argument(description="Only this member's.")] = None,
        from_staff_id: Annotated[uuid.UUID | None, strawberry.argument(description="Only from this guide.")] = None,
        to_staff_id: Annotated[uuid.UUID | None, strawberry.argument(description="Only to this guide.")] = None,
        handover_id: Annotated[uuid.UUID | None, strawberry.argument(description="Only this handover.")] = None,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[MemberHandoverRecord]:
        limit, position = page_size(first), HANDOVERS.position(after)
        where = HandoverFilter(member_id, from_staff_id, to_staff_id, handover_id)
        rows = await service.handover_records(_uow(info), where, limit=limit + 1, after=position)
        return page_of(
            rows,
            limit,
            node=MemberHandoverRecord.of,
            cursor=lambda v: HANDOVERS.cursor(v.handed_over_at, v.id),
            counter=partial(service.handover_count, _uow(info), where),
        )
