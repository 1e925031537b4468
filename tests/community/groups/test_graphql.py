"""The groups feature over HTTP: opening groups, typed errors, the app's settings, permissions, paging, cursors."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from community.app import create_app
from community.config import CommunitySettings
from tests.community.factories import CREATE, JOIN, create
from tests.support import SubgraphClient, Tokens
from yutang_shared.connections import encode_cursor

GROUP = "query($id: UUID!) { group(id: $id) { id name memberCount } }"
GROUPS = """
query($first: Int!, $after: Cursor, $type: GroupType) {
  groups(first: $first, after: $after, type: $type) {
    edges { cursor node { id type sequence } } pageInfo { hasNextPage endCursor }
  }
}
"""
GROUPS_COUNTED = "query($type: GroupType) { groups(first: 1, type: $type) { totalCount edges { node { id } } } }"


@pytest.fixture
async def brandx_api(engine: AsyncEngine, database_url: str, tokens: Tokens) -> AsyncIterator[SubgraphClient]:
    """A community app built with its own settings: brand BrandX, basic groups of 10."""
    app = create_app(CommunitySettings(brand_name="BrandX", capacity_basic=10, database_url=database_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        yield SubgraphClient(client, tokens)
    await app.state.engine.dispose()


async def test_staff_create_a_numbered_group(community_api: SubgraphClient, tokens: Tokens) -> None:
    first = await create(community_api, tokens.staff())
    second = await create(community_api, tokens.staff())

    assert first["__typename"] == "CreateGroupSuccess"
    group = first["group"]
    assert (group["name"], group["sequence"], group["capacity"], group["memberCount"]) == (
        "001·翠湖小区·Yutang",
        1,
        400,
        0,
    )
    assert (group["type"], group["scopeKind"]) == ("BASIC", "COMMUNITY")
    assert second["group"]["name"] == "002·翠湖小区·Yutang"
    read = await community_api(GROUP, {"id": group["id"]}, token=tokens.staff())
    assert read["data"]["group"]["name"] == "001·翠湖小区·Yutang"


async def test_groups_are_named_and_sized_by_the_settings_the_app_was_built_with(
    brandx_api: SubgraphClient, tokens: Tokens
) -> None:
    created = await create(brandx_api, tokens.staff())

    group = created["group"]
    assert (group["name"], group["capacity"]) == ("001·翠湖小区·BrandX", 10)


async def test_invalid_groups_are_typed_errors(community_api: SubgraphClient, tokens: Tokens) -> None:
    too_big = await create(community_api, tokens.ops(), capacity=501)
    blank_scope = await create(community_api, tokens.ops(), scopeName="  ")
    long_name = await create(community_api, tokens.ops(), name="x" * 65)

    assert too_big == {
        "__typename": "InvalidGroupError",
        "message": too_big["message"],
        "code": "COMMUNITY_INVALID_GROUP",
    }
    assert blank_scope["code"] == long_name["code"] == "COMMUNITY_INVALID_GROUP"
    listing = await community_api(GROUPS, {"first": 10}, token=tokens.ops())
    assert listing["data"]["groups"]["edges"] == []


async def test_groups_are_listed_in_creation_order_and_filtered_by_type(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    basic = [(await create(community_api, tokens.staff()))["group"]["id"] for _ in range(3)]
    vip = (await create(community_api, tokens.staff(), type="VIP"))["group"]["id"]

    first = (await community_api(GROUPS, {"first": 2}, token=tokens.staff()))["data"]["groups"]
    rest = await community_api(GROUPS, {"first": 10, "after": first["pageInfo"]["endCursor"]}, token=tokens.staff())
    only_vip = await community_api(GROUPS, {"first": 10, "type": "VIP"}, token=tokens.staff())

    listed = [e["node"]["id"] for e in first["edges"] + rest["data"]["groups"]["edges"]]
    assert listed == [*basic, vip]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in only_vip["data"]["groups"]["edges"]] == [vip]


async def test_the_group_list_counts_every_page(community_api: SubgraphClient, tokens: Tokens) -> None:
    for _ in range(3):
        await create(community_api, tokens.staff())
    await create(community_api, tokens.staff(), type="VIP")

    every = (await community_api(GROUPS_COUNTED, token=tokens.staff()))["data"]["groups"]
    vip = (await community_api(GROUPS_COUNTED, {"type": "VIP"}, token=tokens.staff()))["data"]["groups"]

    assert (every["totalCount"], len(every["edges"])) == (4, 1)
    assert vip["totalCount"] == 1


async def test_a_forged_cursor_is_refused(community_api: SubgraphClient, tokens: Tokens) -> None:
    result = await community_api(GROUPS, {"first": 2, "after": "not a cursor"}, token=tokens.staff())

    assert result["data"] is None
    assert "cursor" in result["errors"][0]["message"]


@pytest.mark.parametrize("first", [0, 101])
async def test_a_page_size_outside_1_to_100_is_bad_input(
    community_api: SubgraphClient, tokens: Tokens, first: int
) -> None:
    result = await community_api(GROUPS, {"first": first}, token=tokens.staff())

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_cursor_outside_the_years_rows_are_written_in_is_bad_input(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    year_one = encode_cursor("groups", "0001-01-01T00:00:00+00:00", str(uuid.uuid4()))

    result = await community_api(GROUPS, {"first": 2, "after": year_one}, token=tokens.staff())

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_partners_need_groups_write_to_create_or_join(community_api: SubgraphClient, tokens: Tokens) -> None:
    reader = tokens.partner("groups:read")
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    group_input = {"type": "VIP", "scopeKind": "STORE", "scopeName": "望京店"}
    join_vars = {"groupId": group_id, "memberId": str(uuid.uuid4()), "channel": "ADS"}

    cannot_create = await community_api(CREATE, {"input": group_input}, token=reader)
    cannot_join = await community_api(JOIN, join_vars, token=reader)
    can_create = await community_api(CREATE, {"input": group_input}, token=tokens.partner("groups:write"))

    assert cannot_create["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert cannot_join["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert can_create["data"]["createGroup"]["__typename"] == "CreateGroupSuccess"
