"""The community subgraph over HTTP: groups, joining, typed errors, permissions, paging, Member entities."""

import asyncio
import uuid
from typing import Any

from tests.queries import count_selects, count_statements
from tests.support import SubgraphClient, Tokens

CREATE = """
mutation Create($input: CreateGroupInput!) {
  createGroup(input: $input) {
    __typename
    ... on CreateGroupSuccess { group { id name type scopeKind scopeName sequence capacity memberCount createdAt } }
    ... on Error { message }
    ... on InvalidGroupError { code }
  }
}
"""
JOIN = """
mutation Join($groupId: UUID!, $memberId: UUID!, $channel: JoinChannel!) {
  joinGroup(groupId: $groupId, memberId: $memberId, channel: $channel) {
    __typename
    ... on JoinGroupSuccess {
      alreadyMember
      group { id memberCount }
      membership { role channel joinedAt member { id } }
    }
    ... on Error { message }
    ... on GroupFullError { code capacity }
    ... on GroupNotFoundError { code groupId }
  }
}
"""
GROUP = "query($id: UUID!) { group(id: $id) { id name memberCount } }"
GROUPS = """
query($first: Int!, $after: Cursor, $type: GroupType) {
  groups(first: $first, after: $after, type: $type) {
    edges { cursor node { id type sequence } } pageInfo { hasNextPage endCursor }
  }
}
"""
GROUP_MEMBERS = """
query($id: UUID!, $first: Int!, $after: Cursor) {
  group(id: $id) {
    members(first: $first, after: $after) {
      edges { cursor node { member { id } role channel joinedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id groups { id name } } } }
"""


async def create(api: SubgraphClient, token: str, **overrides: Any) -> dict[str, Any]:
    group_input = {"type": "BASIC", "scopeKind": "COMMUNITY", "scopeName": "翠湖小区", **overrides}
    result = await api(CREATE, {"input": group_input}, token=token)
    payload: dict[str, Any] = result["data"]["createGroup"]
    return payload


async def join(
    api: SubgraphClient, token: str, group_id: str, member_id: str | None = None, channel: str = "STORE_QR"
) -> dict[str, Any]:
    variables = {"groupId": group_id, "memberId": member_id or str(uuid.uuid4()), "channel": channel}
    result = await api(JOIN, variables, token=token)
    payload: dict[str, Any] = result["data"]["joinGroup"]
    return payload


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


async def test_joining_then_rejoining_is_idempotent(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    member_id = str(uuid.uuid4())

    joined = await join(community_api, tokens.staff(), group_id, member_id, channel="FRIEND_INVITE")
    again = await join(community_api, tokens.staff(), group_id, member_id, channel="ADS")

    assert joined["__typename"] == "JoinGroupSuccess"
    assert joined["alreadyMember"] is False
    assert joined["group"]["memberCount"] == 1
    assert joined["membership"]["member"] == {"id": member_id}
    assert (joined["membership"]["role"], joined["membership"]["channel"]) == ("MEMBER", "FRIEND_INVITE")
    assert again["alreadyMember"] is True
    assert again["group"]["memberCount"] == 1
    assert again["membership"] == joined["membership"]


async def test_a_full_group_and_an_unknown_group_are_typed_errors(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    group_id = (await create(community_api, tokens.staff(), capacity=1))["group"]["id"]
    await join(community_api, tokens.staff(), group_id)
    unknown = str(uuid.uuid4())

    full = await join(community_api, tokens.staff(), group_id)
    missing = await join(community_api, tokens.staff(), unknown)

    assert full == {
        "__typename": "GroupFullError",
        "message": full["message"],
        "code": "COMMUNITY_GROUP_FULL",
        "capacity": 1,
    }
    assert missing["__typename"] == "GroupNotFoundError"
    assert (missing["code"], missing["groupId"]) == ("COMMUNITY_GROUP_NOT_FOUND", unknown)


async def test_concurrent_joins_over_http_fill_the_group_exactly(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff(), capacity=3))["group"]["id"]

    outcomes = await asyncio.gather(*(join(community_api, tokens.staff(), group_id) for _ in range(6)))

    assert sorted(o["__typename"] for o in outcomes) == ["GroupFullError"] * 3 + ["JoinGroupSuccess"] * 3
    read = await community_api(GROUP, {"id": group_id}, token=tokens.staff())
    assert read["data"]["group"]["memberCount"] == 3


async def test_group_members_are_paged_in_joining_order(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for member_id in ids:
        await join(community_api, tokens.staff(), group_id, member_id)

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        variables = {"id": group_id, "first": 2, "after": after}
        page = (await community_api(GROUP_MEMBERS, variables, token=tokens.service("groups:read")))["data"]
        members = page["group"]["members"]
        seen += [edge["node"]["member"]["id"] for edge in members["edges"]]
        pages += 1
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]

    assert seen == ids
    assert pages == 3


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


async def test_a_forged_cursor_is_refused(community_api: SubgraphClient, tokens: Tokens) -> None:
    result = await community_api(GROUPS, {"first": 2, "after": "not a cursor"}, token=tokens.staff())

    assert result["data"] is None
    assert "cursor" in result["errors"][0]["message"]


async def test_a_member_reads_only_their_own_groups(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    await join(community_api, tokens.staff(), group_id, me)
    await join(community_api, tokens.staff(), group_id, other)

    mine = await community_api(ENTITIES, {"reps": [{"__typename": "Member", "id": me}]}, token=tokens.member(me))
    theirs = await community_api(ENTITIES, {"reps": [{"__typename": "Member", "id": other}]}, token=tokens.member(me))
    listing = await community_api(GROUPS, {"first": 5}, token=tokens.member(me))

    assert mine["data"]["_entities"][0]["groups"][0]["id"] == group_id
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


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


async def test_five_member_entities_with_groups_cost_one_select(community_api: SubgraphClient, tokens: Tokens) -> None:
    groups = [(await create(community_api, tokens.staff()))["group"]["id"] for _ in range(2)]
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for i, member_id in enumerate(ids):
        await join(community_api, tokens.staff(), groups[i % 2], member_id)
    await join(community_api, tokens.staff(), groups[1], ids[0])
    reps = [{"__typename": "Member", "id": member_id} for member_id in ids]
    engine = community_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await community_api(ENTITIES, {"reps": reps}, token=tokens.ops())

    entities = result["data"]["_entities"]
    assert [e["id"] for e in entities] == ids
    assert [[g["id"] for g in e["groups"]] for e in entities] == [
        groups,
        [groups[1]],
        [groups[0]],
        [groups[1]],
        [groups[0]],
    ]
    assert len(selects) == 1


async def test_members_of_every_listed_group_cost_one_select(community_api: SubgraphClient, tokens: Tokens) -> None:
    groups = [(await create(community_api, tokens.staff()))["group"]["id"] for _ in range(4)]
    for group_id in groups:
        await join(community_api, tokens.staff(), group_id)
    query = "{ groups(first: 10) { edges { node { id members(first: 5) { edges { node { member { id } } } } } } } }"
    engine = community_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await community_api(query, token=tokens.ops())

    assert [len(e["node"]["members"]["edges"]) for e in result["data"]["groups"]["edges"]] == [1, 1, 1, 1]
    assert len(selects) == 2


async def test_unknown_and_malformed_member_entities(community_api: SubgraphClient, tokens: Tokens) -> None:
    unknown = str(uuid.uuid4())
    reps = [{"__typename": "Member", "id": unknown}, {"__typename": "Member", "id": "nope"}]

    result = await community_api(ENTITIES, {"reps": reps}, token=tokens.ops())

    assert result["data"]["_entities"] == [{"id": unknown, "groups": []}, None]


async def test_a_join_counts_the_member_in_one_update(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    engine = community_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_statements(engine, "UPDATE") as updates, count_selects(engine) as selects:
        joined = await join(community_api, tokens.staff(), group_id)

    assert joined["group"]["memberCount"] == 1
    assert len(updates) == 1, updates
    assert len(selects) == 2, selects  # the group lock and the membership lookup
