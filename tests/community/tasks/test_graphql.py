"""The lifecycle over GraphQL: every refusal is a typed union member with its code and changes nothing; tasks are
listed for their assignee and completed once."""

import uuid
from datetime import date
from typing import Any

import jwt

from tests.community.factories import create, join, known
from tests.queries import count_selects
from tests.support import SubgraphClient, Tokens

PLAN = """
mutation($i: PlanGroupInput!) { planGroup(input: $i) {
  __typename ... on CreateGroupSuccess { group { id status name } } } }
"""
MY_TASKS = """
query { myTasks(first: 10) { edges { node { id kind message status dueOn groupId } } } }
"""
COMPLETE = """
mutation($t: UUID!, $chat: String) { completeTask(taskId: $t, chatId: $chat) {
  __typename ... on TaskSuccess { task { status closedBy } }
  ... on TaskNotFoundError { code taskId } ... on TaskClosedError { code status }
  ... on InvalidGroupError { code } ... on Error { message } } }
"""
SYNC = """
mutation($chat: String!, $m: [UUID!]!) { syncGroupMembers(chatId: $chat, members: $m) {
  __typename ... on SyncGroupMembersSuccess { joined left group { memberCount stats { members joined quit } } }
  ... on CommunityUnknownMemberError { code memberId } ... on GroupNotFoundError { code groupId } } }
"""
GRADUATE = """
mutation($g: UUID!, $d: Date!) { graduateVipMembers(groupId: $g, asOf: $d) {
  __typename ... on WrongPhaseError { code phase months } ... on LifecycleBatchSuccess { scanned } } }
"""
APPLY = """
mutation($m: UUID!) { applyForVip(memberId: $m, wechatId: "fish") {
  __typename ... on NotQualifiedError { code spentFen neededFen } ... on InvalidGroupError { code } } }
"""
PHASE = "query($id: UUID!, $d: Date!) { group(id: $id) { phase(asOf: $d) monthsOpen(asOf: $d) } }"


async def call(api: SubgraphClient, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await api(document, variables, token=token)
    assert "errors" not in result, result
    data: dict[str, Any] = result["data"]
    return data


async def test_a_planned_group_is_opened_by_completing_its_task_once(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    staff = tokens.staff()
    plan = {"type": "VIP", "scopeKind": "STORE", "scopeName": "一号店", "steward": tokens_subject(tokens)}
    group = (await call(community_api, staff, PLAN, {"i": plan}))["planGroup"]["group"]
    (task,) = [e["node"] for e in (await call(community_api, staff, MY_TASKS, {}))["myTasks"]["edges"]]
    refused_join = await join(community_api, staff, group["id"])

    no_chat = (await call(community_api, staff, COMPLETE, {"t": task["id"]}))["completeTask"]
    done = (await call(community_api, staff, COMPLETE, {"t": task["id"], "chat": "wr-1"}))["completeTask"]
    again = (await call(community_api, staff, COMPLETE, {"t": task["id"], "chat": "wr-1"}))["completeTask"]
    missing = (await call(community_api, staff, COMPLETE, {"t": str(uuid.uuid4())}))["completeTask"]

    assert group["status"] == "PLANNED"
    assert task["kind"] == "CREATE_GROUP"
    assert group["name"] in task["message"]
    assert refused_join["__typename"] == "GroupNotActiveError"
    assert no_chat["code"] == "COMMUNITY_INVALID_GROUP"
    assert done["task"]["status"] == "DONE"
    assert (again["code"], again["status"]) == ("COMMUNITY_TASK_CLOSED", "DONE")
    assert missing["code"] == "COMMUNITY_TASK_NOT_FOUND"


def tokens_subject(tokens: Tokens) -> str:
    subject: str = jwt.decode(tokens.staff(), options={"verify_signature": False})["sub"]
    return subject


async def test_sync_joins_and_quits_and_refuses_unknown_members(community_api: SubgraphClient, tokens: Tokens) -> None:
    staff = tokens.staff()
    await create(community_api, staff, chatId="wr-sync")
    a, b = await known(community_api), await known(community_api)

    first = (await call(community_api, staff, SYNC, {"chat": "wr-sync", "m": [a, b]}))["syncGroupMembers"]
    second = (await call(community_api, staff, SYNC, {"chat": "wr-sync", "m": [b]}))["syncGroupMembers"]
    unknown = await call(community_api, staff, SYNC, {"chat": "wr-sync", "m": [b, str(uuid.uuid4())]})
    no_chat = (await call(community_api, staff, SYNC, {"chat": "wr-none", "m": [a]}))["syncGroupMembers"]

    assert (first["joined"], first["left"]) == (2, 0)
    assert (second["joined"], second["left"], second["group"]["stats"]) == (
        0,
        1,
        {"members": 1, "joined": 2, "quit": 1},
    )
    assert unknown["syncGroupMembers"]["code"] == "COMMUNITY_UNKNOWN_MEMBER"
    assert (no_chat["code"], no_chat["groupId"]) == ("COMMUNITY_GROUP_NOT_FOUND", None)


async def test_wrong_phase_and_non_qualifying_applications_are_typed(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    staff = tokens.staff()
    group = (await create(community_api, staff, openedOn="2026-10-01"))["group"]
    member = await known(community_api)
    await join(community_api, staff, group["id"], member)

    early = (await call(community_api, staff, GRADUATE, {"g": group["id"], "d": "2026-12-01"}))["graduateVipMembers"]
    phase = (await call(community_api, staff, PHASE, {"id": group["id"], "d": str(date(2027, 6, 1))}))["group"]
    refused = (await call(community_api, staff, APPLY, {"m": member}))["applyForVip"]

    assert (early["code"], early["phase"], early["months"]) == ("COMMUNITY_WRONG_PHASE", "BUILD", 2)
    assert phase == {"phase": "DISSOLVE", "monthsOpen": 8}
    assert (refused["code"], refused["spentFen"], refused["neededFen"]) == ("COMMUNITY_NOT_QUALIFIED", 0, 50_000)


STATS = "query { groups(first: 10) { edges { node { stats { members joined quit vipCount } } } } }"


async def test_group_stats_for_a_page_of_groups_cost_one_select(community_api: SubgraphClient, tokens: Tokens) -> None:
    staff = tokens.staff()
    vip = (await create(community_api, staff, type="VIP"))["group"]["id"]
    basics = [(await create(community_api, staff, scopeName=f"小区{i}"))["group"]["id"] for i in range(4)]
    member = await known(community_api)
    await join(community_api, staff, vip, member)
    for group_id in basics[:2]:
        await join(community_api, staff, group_id, member)

    engine = community_api.client._transport.app.state.engine  # type: ignore[attr-defined]
    with count_selects(engine) as selects:
        result = await call(community_api, staff, STATS, {})

    stats = [edge["node"]["stats"] for edge in result["groups"]["edges"]]
    assert [s["vipCount"] for s in stats] == [1, 1, 1, 0, 0]
    assert stats[1] == {"members": 1, "joined": 1, "quit": 0, "vipCount": 1}
    assert len(selects) == 2  # the page of groups, and one for every group's VIP count
