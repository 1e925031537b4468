"""Reading members over HTTP: permissions, personal data, pages and cursors, entity loading, statement counts."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.members.factories import REGISTER, make_member_in, make_store, register
from tests.queries import count_selects, count_statements
from tests.support import SubgraphClient, Tokens
from yutang_shared.connections import Keyset, encode_cursor

MEMBER = "query($id: UUID!) { member(id: $id) { id nickname mobile sourceChannel } }"
MEMBERS = """
query($first: Int!, $after: Cursor) {
  members(first: $first, after: $after) { edges { cursor node { id nickname } } pageInfo { hasNextPage endCursor } }
}
"""
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id nickname } } }
"""
OPENIDS = "query($first: Int!) { members(first: $first) { edges { node { id wechatOpenids { appId openid } } } } }"
MEMBERS_COUNTED = "query($first: Int!) { members(first: $first) { totalCount edges { node { id mobile } } } }"


def engine_of(api: SubgraphClient) -> Any:
    """The engine of the app behind `api`, to count the statements a request runs."""
    return api.client._transport.app.state.engine  # type: ignore[attr-defined]


async def test_staff_see_the_mobile_masked(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    member_id = await make_member_in(members_api, tokens.ops(), "13800138000", "S1")

    read = await members_api(MEMBER, {"id": member_id}, token=tokens.staff_in("guide", stores=("S1",)))

    assert read["data"]["member"]["mobile"] == "138****8000"


async def test_a_staff_token_without_stores_or_roles_sees_no_member(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    member_id = await make_member_in(members_api, tokens.ops(), "13800138000", "S1")

    one = await members_api(MEMBER, {"id": member_id}, token=tokens.staff())
    listed = await members_api(MEMBERS, {"first": 5}, token=tokens.staff_in("guide"))

    assert one["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert listed["data"]["members"]["edges"] == []


async def test_a_member_reads_only_themself(members_api: SubgraphClient, tokens: Tokens) -> None:
    me = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]
    other = (await register(members_api, tokens.ops(), "13900139000"))["member"]["id"]

    mine = await members_api(MEMBER, {"id": me}, token=tokens.member(me))
    theirs = await members_api(MEMBER, {"id": other}, token=tokens.member(me))

    assert mine["data"]["member"]["mobile"] == "13800138000"
    assert theirs["data"]["member"] is None
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_members_cannot_list_and_partners_need_the_scope(members_api: SubgraphClient, tokens: Tokens) -> None:
    me = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]

    as_member = await members_api(MEMBERS, {"first": 5}, token=tokens.member(me))
    no_scope = await members_api(MEMBERS, {"first": 5}, token=tokens.partner("points:write"))
    with_scope = await members_api(MEMBERS, {"first": 5}, token=tokens.partner("members:read"))
    cannot_register = await members_api(
        REGISTER, {"input": {"mobile": "13700137000", "sourceChannel": "ADS"}}, token=tokens.partner("members:read")
    )

    assert as_member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert no_scope["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(with_scope["data"]["members"]["edges"]) == 1
    assert cannot_register["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_members_are_paged_in_registration_order(members_api: SubgraphClient, tokens: Tokens) -> None:
    ids = [(await register(members_api, tokens.ops(), f"1380013800{i}"))["member"]["id"] for i in range(5)]

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await members_api(MEMBERS, {"first": 2, "after": after}, token=tokens.ops()))["data"]["members"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ids
    assert pages == 3


async def test_a_forged_cursor_is_refused(members_api: SubgraphClient, tokens: Tokens) -> None:
    result = await members_api(MEMBERS, {"first": 2, "after": "not a cursor"}, token=tokens.ops())

    assert result["data"] is None
    assert "cursor" in result["errors"][0]["message"]


async def test_five_entities_cost_one_select(members_api: SubgraphClient, tokens: Tokens) -> None:
    ids = [(await register(members_api, tokens.ops(), f"1370013700{i}"))["member"]["id"] for i in range(5)]
    reps = [{"__typename": "Member", "id": member_id} for member_id in ids]
    engine = members_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await members_api(ENTITIES, {"reps": reps}, token=tokens.ops())

    assert [e["id"] for e in result["data"]["_entities"]] == ids
    assert len(selects) == 1


async def test_unknown_entities_resolve_to_null(members_api: SubgraphClient, tokens: Tokens) -> None:
    reps = [{"__typename": "Member", "id": str(uuid.uuid4())}, {"__typename": "Member", "id": "nope"}]

    result = await members_api(ENTITIES, {"reps": reps}, token=tokens.ops())

    assert result["data"]["_entities"] == [None, None]


async def test_services_see_the_mobile_in_full_and_partners_masked(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]

    as_service = await members_api(MEMBER, {"id": member_id}, token=tokens.service("members:read"))
    as_partner = await members_api(MEMBER, {"id": member_id}, token=tokens.partner("members:read"))

    assert as_service["data"]["member"]["mobile"] == "13800138000"
    assert as_partner["data"]["member"]["mobile"] == "138****8000"


async def test_the_list_counts_every_member_the_caller_reaches(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    await make_store(members_api, tokens.ops(), "S2")
    for i in range(3):
        await make_member_in(members_api, tokens.ops(), f"1380013800{i}", "S1")
    await make_member_in(members_api, tokens.ops(), "13900139000", "S2")

    guide = tokens.staff_in("guide", stores=("S1",))
    page = (await members_api(MEMBERS_COUNTED, {"first": 2}, token=guide))["data"]["members"]

    assert page["totalCount"] == 3
    assert [edge["node"]["mobile"] for edge in page["edges"]] == ["138****8000", "138****8001"]


async def test_a_page_of_five_members_costs_one_select(members_api: SubgraphClient, tokens: Tokens) -> None:
    for i in range(5):
        await register(members_api, tokens.ops(), f"1360013600{i}")

    with count_selects(engine_of(members_api)) as selects:
        result = await members_api(MEMBERS, {"first": 5}, token=tokens.ops())
    with count_selects(engine_of(members_api)) as counted:
        await members_api(MEMBERS_COUNTED, {"first": 5}, token=tokens.ops())

    assert len(result["data"]["members"]["edges"]) == 5
    assert len(selects) == 1
    assert len(counted) == 2


async def test_five_members_wechat_openids_cost_one_more_select(
    members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    ids = [(await register(members_api, tokens.ops(), f"1360013601{i}"))["member"]["id"] for i in range(5)]
    async with engine.begin() as connection:
        for number, member_id in enumerate(ids):
            await connection.execute(
                text("INSERT INTO members.member_wechat_ids (app_id, openid, member_id) VALUES ('wx1', :o, :m)"),
                {"o": f"o-{number}", "m": member_id},
            )

    with count_selects(engine_of(members_api)) as selects:
        result = await members_api(OPENIDS, {"first": 5}, token=tokens.ops())

    openids = [edge["node"]["wechatOpenids"] for edge in result["data"]["members"]["edges"]]
    assert sorted(o[0]["openid"] for o in openids) == [f"o-{n}" for n in range(5)]
    assert len(selects) == 2


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_a_page_size_outside_1_to_100_is_refused_before_any_sql(
    members_api: SubgraphClient, tokens: Tokens, first: int
) -> None:
    await register(members_api, tokens.ops(), "13800138000")

    with count_statements(engine_of(members_api), "") as statements:
        result = await members_api(MEMBERS, {"first": first}, token=tokens.ops())

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert statements == []


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor(*Keyset("groups").cursor(datetime.now(UTC), uuid.uuid4())),
        encode_cursor("members", "0001-01-01T00:00:00+00:00", str(uuid.uuid4())),
        encode_cursor("members", "2026-12-01T00:00:00", str(uuid.uuid4())),
        encode_cursor("members", "2026-12-01T00:00:00+00:00", "not-a-uuid"),
    ],
    ids=["another list", "year 1", "no time zone", "not a uuid"],
)
async def test_a_cursor_not_of_this_list_is_refused_before_any_sql(
    members_api: SubgraphClient, tokens: Tokens, cursor: str
) -> None:
    with count_statements(engine_of(members_api), "") as statements:
        result = await members_api(MEMBERS, {"first": 2, "after": cursor}, token=tokens.ops())

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert statements == []
