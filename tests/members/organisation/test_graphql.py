"""The organisation over HTTP: regions, stores, warehouses and staff, immutable codes, typed errors, lists with
filters, the guide handover (离职继承) and the staff claims identity mints tokens from."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from members.config import MembersSettings
from members.organisation.service import staff_claims
from members.uow import MembersUnitOfWork
from tests.members.factories import make_member_in, make_store
from tests.members.profile.test_graphql import engine_of
from tests.queries import count_selects
from tests.support import SubgraphClient, Tokens
from yutang_shared.db import create_engine, session_factory

UPDATE_STORE = """
mutation($input: UpdateStoreInput!) {
  updateStore(input: $input) {
    __typename ... on StoreSuccess { store { code name regionCode } } ... on Error { message }
    ... on CodeImmutableError { code } ... on UnknownRegionError { code }
  }
}
"""
CREATE_STORE = """
mutation($code: String!, $region: String!) {
  createStore(input: {code: $code, name: "店", regionCode: $region}) {
    __typename ... on DuplicateCodeError { code } ... on UnknownRegionError { code }
    ... on InvalidOrganisationInputError { code }
  }
}
"""
CREATE_STAFF = """
mutation($input: CreateStaffInput!) {
  createStaff(input: $input) {
    __typename ... on StaffSuccess { staff { id roles storeCode regionCode active } }
    ... on DuplicateWecomUseridError { code } ... on InvalidOrganisationInputError { code }
    ... on StoreNotFoundError { code }
  }
}
"""
DEACTIVATE_STAFF = "mutation($id: UUID!) { deactivateStaff(id: $id) { __typename } }"
ASSIGN = """
mutation($member: UUID!, $guide: UUID) {
  assignGuide(memberId: $member, guideId: $guide) {
    __typename ... on MemberSuccess { member { guideId } } ... on StaffInactiveError { code }
    ... on NotAGuideError { code }
  }
}
"""
HANDOVER = """
mutation($from: UUID!, $to: UUID!) {
  handOverMembers(fromStaffId: $from, toStaffId: $to) {
    __typename ... on HandOverMembersSuccess { handoverId moved memberIds toStaff { id } }
    ... on StaffInactiveError { code } ... on NotAGuideError { code } ... on InvalidOrganisationInputError { code }
  }
}
"""
STAFF_LIST = """
query($store: String, $role: StaffRole, $active: Boolean, $after: Cursor) {
  staff(storeCode: $store, role: $role, active: $active, first: 1, after: $after) {
    totalCount edges { node { name } } pageInfo { hasNextPage endCursor }
  }
}
"""
STORES = "query($region: String) { stores(regionCode: $region) { totalCount edges { node { code } } } }"
WAREHOUSE = """
mutation { createWarehouse(input: {
  code: "W1", name: "一号仓", regionCode: "R1", communities: ["翠湖小区", "翠湖小区", "绿地"]}) {
  __typename ... on WarehouseSuccess { warehouse { code regionCode communities } } } }
"""


async def staff(api: SubgraphClient, ops: str, name: str, roles: list[str], **place: str) -> str:
    variables = {"input": {"name": name, "wecomUserid": f"wx-{name}", "roles": roles, **place}}
    result = await api(CREATE_STAFF, variables, token=ops)
    assert result["data"]["createStaff"]["__typename"] == "StaffSuccess", result
    staff_id: str = result["data"]["createStaff"]["staff"]["id"]
    return staff_id


async def test_a_store_code_never_changes(members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    store = await make_store(members_api, tokens.ops(), "S1")

    changed = await members_api(UPDATE_STORE, {"input": {"id": store["id"], "code": "S9"}}, token=tokens.ops())
    renamed = await members_api(
        UPDATE_STORE, {"input": {"id": store["id"], "code": "S1", "name": "新名"}}, token=tokens.ops()
    )

    assert changed["data"]["updateStore"]["code"] == "MEMBERS_CODE_IMMUTABLE"
    assert renamed["data"]["updateStore"]["store"] == {"code": "S1", "name": "新名", "regionCode": "R1"}
    with pytest.raises(DBAPIError, match="immutable"):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE members.stores SET code = 'S9'"))


async def test_duplicate_unknown_and_malformed_codes_are_typed_errors(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    await make_store(members_api, tokens.ops(), "S1")

    outcomes = [
        (await members_api(CREATE_STORE, {"code": code, "region": region}, token=tokens.ops()))["data"]["createStore"]
        for code, region in (("S1", "R1"), ("S2", "NOPE"), ("bad code!", "R1"))
    ]

    assert [o["code"] for o in outcomes] == [
        "MEMBERS_DUPLICATE_CODE",
        "MEMBERS_UNKNOWN_REGION",
        "MEMBERS_INVALID_ORGANISATION_INPUT",
    ]
    assert (await members_api(STORES, {}, token=tokens.ops()))["data"]["stores"]["totalCount"] == 1


async def test_staff_need_the_right_place_and_a_unique_wecom_userid(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    await staff(members_api, tokens.ops(), "amy", ["GUIDE"], storeCode="S1")

    def create(**input: Any) -> Any:
        return members_api(CREATE_STAFF, {"input": {"name": "x", "wecomUserid": "wx-x", **input}}, token=tokens.ops())

    duplicate = await members_api(
        CREATE_STAFF,
        {"input": {"name": "amy2", "wecomUserid": "wx-amy", "roles": ["GUIDE"], "storeCode": "S1"}},
        token=tokens.ops(),
    )
    guide_without_store = await create(roles=["GUIDE"])
    supervisor_without_region = await create(roles=["SUPERVISOR"], storeCode="S1")
    unknown_store = await create(roles=["GUIDE"], storeCode="S404")

    assert duplicate["data"]["createStaff"]["code"] == "MEMBERS_DUPLICATE_WECOM_USERID"
    assert guide_without_store["data"]["createStaff"]["code"] == "MEMBERS_INVALID_ORGANISATION_INPUT"
    assert supervisor_without_region["data"]["createStaff"]["code"] == "MEMBERS_INVALID_ORGANISATION_INPUT"
    assert unknown_store["data"]["createStaff"]["code"] == "MEMBERS_UNKNOWN_STORE"


async def test_staff_lists_filter_and_page(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    await make_store(members_api, tokens.ops(), "S2")
    await staff(members_api, tokens.ops(), "amy", ["GUIDE"], storeCode="S1")
    bob = await staff(members_api, tokens.ops(), "bob", ["GUIDE", "STORE_MANAGER"], storeCode="S1")
    await staff(members_api, tokens.ops(), "cat", ["GUIDE"], storeCode="S2")
    await members_api(DEACTIVATE_STAFF, {"id": bob}, token=tokens.ops())

    first = (await members_api(STAFF_LIST, {"store": "S1"}, token=tokens.staff_in("guide")))["data"]["staff"]
    second = (
        await members_api(STAFF_LIST, {"store": "S1", "after": first["pageInfo"]["endCursor"]}, token=tokens.ops())
    )["data"]["staff"]
    managers = (await members_api(STAFF_LIST, {"role": "STORE_MANAGER"}, token=tokens.ops()))["data"]["staff"]
    active = (await members_api(STAFF_LIST, {"active": True}, token=tokens.ops()))["data"]["staff"]

    assert (first["totalCount"], first["edges"], first["pageInfo"]["hasNextPage"]) == (
        2,
        [{"node": {"name": "amy"}}],
        True,
    )
    assert second["edges"] == [{"node": {"name": "bob"}}]
    assert managers["edges"] == [{"node": {"name": "bob"}}]
    assert active["totalCount"] == 2


async def test_warehouses_keep_distinct_communities(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")

    created = (await members_api(WAREHOUSE, token=tokens.ops()))["data"]["createWarehouse"]

    assert created["warehouse"] == {"code": "W1", "regionCode": "R1", "communities": ["绿地", "翠湖小区"]}


async def test_a_leaving_guides_members_are_handed_over_in_one_go(
    members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    amy = await staff(members_api, tokens.ops(), "amy", ["GUIDE"], storeCode="S1")
    bob = await staff(members_api, tokens.ops(), "bob", ["GUIDE"], storeCode="S1")
    manager = await staff(members_api, tokens.ops(), "max", ["STORE_MANAGER"], storeCode="S1")
    members = [await make_member_in(members_api, tokens.ops(), f"1380013800{i}", "S1") for i in range(3)]
    for member_id in members[:2]:
        await members_api(ASSIGN, {"member": member_id, "guide": amy}, token=tokens.ops())

    to_manager = (await members_api(HANDOVER, {"from": amy, "to": manager}, token=tokens.ops()))["data"]
    to_self = (await members_api(HANDOVER, {"from": amy, "to": amy}, token=tokens.ops()))["data"]
    await members_api(DEACTIVATE_STAFF, {"id": amy}, token=tokens.ops())
    moved = (await members_api(HANDOVER, {"from": amy, "to": bob}, token=tokens.ops()))["data"]["handOverMembers"]
    to_leaver = (await members_api(ASSIGN, {"member": members[2], "guide": amy}, token=tokens.ops()))["data"]

    assert to_manager["handOverMembers"]["code"] == "MEMBERS_NOT_A_GUIDE"
    assert to_self["handOverMembers"]["code"] == "MEMBERS_INVALID_ORGANISATION_INPUT"
    assert (moved["moved"], sorted(moved["memberIds"])) == (2, sorted(members[:2]))
    assert to_leaver["assignGuide"]["code"] == "MEMBERS_STAFF_INACTIVE"
    async with engine.connect() as connection:
        handovers = (
            await connection.execute(
                text("SELECT count(*) FROM members.member_handovers WHERE to_staff_id = :b"), {"b": bob}
            )
        ).scalar_one()
        events = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM members.outbox WHERE type = 'member.updated' "
                    "AND data->'changed' = '[\"guide\"]'"
                )
            )
        ).scalar_one()
    assert handovers == 2
    assert events == 4  # two assignments, two handovers


HANDOVERS = """
query($member: UUID, $from: UUID, $to: UUID, $first: Int!) {
  memberHandovers(memberId: $member, fromStaffId: $from, toStaffId: $to, first: $first) {
    edges { node { memberId fromStaffId toStaffId actor handoverId } } pageInfo { hasNextPage endCursor }
  }
}
"""
HANDOVERS_COUNTED = "query($to: UUID) { memberHandovers(toStaffId: $to) { totalCount } }"


async def test_handover_records_are_read_by_member_and_guide_in_one_select(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    # given: amy's two members handed to bob, then one of them from bob to cat
    await make_store(members_api, tokens.ops(), "S1")
    amy, bob, cat = [
        await staff(members_api, tokens.ops(), n, ["GUIDE"], storeCode="S1") for n in ("amy", "bob", "cat")
    ]
    members = [await make_member_in(members_api, tokens.ops(), f"1380013801{i}", "S1") for i in range(2)]
    for member_id in members:
        await members_api(ASSIGN, {"member": member_id, "guide": amy}, token=tokens.ops())
    first = (await members_api(HANDOVER, {"from": amy, "to": bob}, token=tokens.ops()))["data"]["handOverMembers"]
    await members_api(ASSIGN, {"member": members[1], "guide": cat}, token=tokens.ops())  # not a handover
    await members_api(ASSIGN, {"member": members[0], "guide": bob}, token=tokens.ops())
    await members_api(HANDOVER, {"from": bob, "to": cat}, token=tokens.ops())

    # when
    with count_selects(engine_of(members_api)) as selects:
        history = await members_api(HANDOVERS, {"member": members[0], "first": 10}, token=tokens.ops())
    from_amy = await members_api(HANDOVERS, {"from": amy, "first": 1}, token=tokens.ops())
    counted = await members_api(HANDOVERS_COUNTED, {"to": cat}, token=tokens.ops())
    as_guide = await members_api(HANDOVERS, {"first": 1}, token=tokens.staff_in("guide", stores=("S1",)))

    # then: the member's history in order, with who did it; pages; only operations read it
    nodes = [edge["node"] for edge in history["data"]["memberHandovers"]["edges"]]
    assert [(n["fromStaffId"], n["toStaffId"]) for n in nodes] == [(amy, bob), (bob, cat)]
    assert nodes[0]["handoverId"] == first["handoverId"]
    assert nodes[0]["actor"]
    assert len(selects) == 1
    assert from_amy["data"]["memberHandovers"]["pageInfo"]["hasNextPage"] is True
    assert counted["data"]["memberHandovers"]["totalCount"] == 1
    assert [e["extensions"]["code"] for e in as_guide["errors"]] == ["FORBIDDEN"]


async def test_staff_claims_come_from_the_staff_record(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    guide = await staff(members_api, tokens.ops(), "amy", ["GUIDE"], storeCode="S1")
    await staff(members_api, tokens.ops(), "sue", ["SUPERVISOR"], regionCode="R1")
    await members_api(DEACTIVATE_STAFF, {"id": guide}, token=tokens.ops())
    engine = create_engine(MembersSettings().database_url, pool_size=0)
    uow = MembersUnitOfWork(session_factory(engine))

    amy = await staff_claims(uow, wecom_userid="wx-amy")
    sue = await staff_claims(uow, wecom_userid="wx-sue")
    await engine.dispose()

    assert (str(amy.staff_id), amy.roles, amy.stores, amy.regions, amy.active) == (
        guide,
        ("guide",),
        ("S1",),
        (),
        False,
    )
    assert (sue.roles, sue.stores, sue.regions, sue.active) == (("supervisor",), (), ("R1",), True)


async def test_only_operations_change_the_organisation(members_api: SubgraphClient, tokens: Tokens) -> None:
    manager = tokens.staff_in("store_manager", stores=("S1",))

    refused = await members_api(CREATE_STORE, {"code": "S1", "region": "R1"}, token=manager)
    by_operations = await members_api(
        'mutation { createRegion(input: {code: "R1", name: "华东"}) { __typename } }',
        token=tokens.staff_in("operations"),
    )

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_operations["data"]["createRegion"]["__typename"] == "RegionSuccess"
