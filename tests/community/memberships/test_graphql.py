"""The memberships feature over HTTP: joining, typed errors, group members, Member entities, query counts."""

import asyncio
import uuid

import pytest

from tests.community.factories import create, join, known
from tests.queries import count_selects, count_statements
from tests.support import SubgraphClient, Tokens

GROUP = "query($id: UUID!) { group(id: $id) { id name memberCount } }"
GROUPS = "query($first: Int!) { groups(first: $first) { pageInfo { endCursor } } }"
GROUP_MEMBERS = """
query($id: UUID!, $first: Int!, $after: Cursor) {
  group(id: $id) {
    members(first: $first, after: $after) {
      totalCount
      edges { cursor node { member { id } role channel joinedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id groups { id name } } } }
"""


async def test_joining_then_rejoining_is_idempotent(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    member_id = await known(community_api)

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
    ids = [await known(community_api) for _ in range(5)]
    for member_id in ids:
        await join(community_api, tokens.staff(), group_id, member_id)

    seen: list[str] = []
    counts: list[int] = []
    after = None
    pages = 0
    while True:
        variables = {"id": group_id, "first": 2, "after": after}
        page = (await community_api(GROUP_MEMBERS, variables, token=tokens.service("groups:read")))["data"]
        members = page["group"]["members"]
        seen += [edge["node"]["member"]["id"] for edge in members["edges"]]
        counts.append(members["totalCount"])
        pages += 1
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]

    assert seen == ids
    assert pages == 3
    assert counts == [5, 5, 5]


@pytest.mark.parametrize("first", [0, 101])
async def test_a_member_page_size_outside_1_to_100_is_bad_input(
    community_api: SubgraphClient, tokens: Tokens, first: int
) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]

    result = await community_api(GROUP_MEMBERS, {"id": group_id, "first": first}, token=tokens.staff())

    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result["data"]["group"] is None


async def test_a_cursor_of_the_group_list_is_refused_by_group_members(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    await join(community_api, tokens.staff(), group_id)
    groups_cursor = (await community_api(GROUPS, {"first": 1}, token=tokens.staff()))["data"]["groups"]["pageInfo"][
        "endCursor"
    ]

    result = await community_api(
        GROUP_MEMBERS, {"id": group_id, "first": 5, "after": groups_cursor}, token=tokens.staff()
    )

    assert groups_cursor is not None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result["data"]["group"] is None


async def test_a_member_reads_only_their_own_groups(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]
    me, other = await known(community_api), await known(community_api)
    await join(community_api, tokens.staff(), group_id, me)
    await join(community_api, tokens.staff(), group_id, other)

    mine = await community_api(ENTITIES, {"reps": [{"__typename": "Member", "id": me}]}, token=tokens.member(me))
    theirs = await community_api(ENTITIES, {"reps": [{"__typename": "Member", "id": other}]}, token=tokens.member(me))
    listing = await community_api(GROUPS, {"first": 5}, token=tokens.member(me))

    assert mine["data"]["_entities"][0]["groups"][0]["id"] == group_id
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_five_member_entities_with_groups_cost_one_select(community_api: SubgraphClient, tokens: Tokens) -> None:
    groups = [(await create(community_api, tokens.staff()))["group"]["id"] for _ in range(2)]
    ids = [await known(community_api) for _ in range(5)]
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
    member_id = await known(community_api)
    engine = community_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_statements(engine, "UPDATE") as updates, count_selects(engine) as selects:
        joined = await join(community_api, tokens.staff(), group_id, member_id)

    assert joined["group"]["memberCount"] == 1
    assert len(updates) == 1, updates
    assert len(selects) == 3, selects  # the group lock, the member directory and the membership lookup
