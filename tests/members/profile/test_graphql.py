"""The members subgraph over HTTP: registration, reads, permissions, pagination, entity loading."""

import uuid
from typing import Any

from tests.queries import count_selects
from tests.support import SubgraphClient, Tokens

REGISTER = """
mutation Register($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename
    ... on RegisterMemberSuccess { created member { id nickname mobile sourceChannel status registeredAt } }
    ... on Error { message }
    ... on InvalidMobileError { code }
    ... on InvalidNicknameError { code }
  }
}
"""
MEMBER = "query($id: UUID!) { member(id: $id) { id nickname mobile sourceChannel } }"
MEMBERS = """
query($first: Int!, $after: Cursor) {
  members(first: $first, after: $after) { edges { cursor node { id nickname } } pageInfo { hasNextPage endCursor } }
}
"""
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id nickname } } }
"""


async def register(api: SubgraphClient, token: str, mobile: str, nickname: str | None = "小鱼") -> dict[str, Any]:
    variables = {"input": {"mobile": mobile, "nickname": nickname, "sourceChannel": "STORE_QR"}}
    result = await api(REGISTER, variables, token=token)
    payload: dict[str, Any] = result["data"]["registerMember"]
    return payload


async def test_ops_registers_and_reads_a_member_in_full(members_api: SubgraphClient, tokens: Tokens) -> None:
    created = await register(members_api, tokens.ops(), "138 0013 8000")

    assert created["__typename"] == "RegisterMemberSuccess"
    assert created["created"] is True
    member = created["member"]
    assert member["mobile"] == "13800138000"
    assert member["sourceChannel"] == "STORE_QR"
    assert member["status"] == "ACTIVE"

    read = await members_api(MEMBER, {"id": member["id"]}, token=tokens.ops())
    assert read["data"]["member"]["nickname"] == "小鱼"


async def test_registering_the_same_mobile_returns_the_existing_member(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    first = await register(members_api, tokens.ops(), "13800138000")

    again = await register(members_api, tokens.ops(), "+8613800138000", nickname="other")

    assert again["created"] is False
    assert again["member"]["id"] == first["member"]["id"]


async def test_invalid_input_is_a_typed_error(members_api: SubgraphClient, tokens: Tokens) -> None:
    bad_mobile = await register(members_api, tokens.ops(), "12345")
    bad_nickname = await register(members_api, tokens.ops(), "13800138000", nickname="x" * 40)

    assert bad_mobile == {
        "__typename": "InvalidMobileError",
        "message": bad_mobile["message"],
        "code": "MEMBERS_INVALID_MOBILE",
    }
    assert bad_nickname["code"] == "MEMBERS_INVALID_NICKNAME"
    listing = await members_api(MEMBERS, {"first": 10}, token=tokens.ops())
    assert listing["data"]["members"]["edges"] == []


async def test_staff_see_the_mobile_masked(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = (await register(members_api, tokens.ops(), "13800138000"))["member"]["id"]

    read = await members_api(MEMBER, {"id": member_id}, token=tokens.staff())

    assert read["data"]["member"]["mobile"] == "138****8000"


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


async def test_registering_a_new_mobile_needs_no_select(members_api: SubgraphClient, tokens: Tokens) -> None:
    engine = members_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as new:
        await register(members_api, tokens.ops(), "13500135000")
    with count_selects(engine) as again:
        await register(members_api, tokens.ops(), "13500135000")

    assert new == []
    assert len(again) == 1
