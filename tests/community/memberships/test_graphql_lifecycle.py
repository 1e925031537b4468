"""attachJoinQr, setGroupRole, leaveGroup and WeCom's QR-join limit over HTTP: the success shapes, every refusal as
a typed union member with its code (that changes nothing), and callers without groups:write refused."""

import uuid
from typing import Any

import pytest

from tests.community.factories import create, join, known
from tests.support import SubgraphClient, Tokens

ATTACH = """
mutation($qr: String!, $g: UUID!) { attachJoinQr(qrCode: $qr, groupId: $g) {
  __typename ... on AttachJoinQrSuccess { qrCode groupIds }
  ... on GroupNotFoundError { code groupId } ... on QrCodeFullError { code qrCode }
  ... on GroupNotActiveError { code status } } }
"""
SUNSET = """
mutation($g: UUID!, $d: Date!) { sunsetBasicGroup(groupId: $g, asOf: $d) {
  __typename ... on SunsetBasicGroupSuccess { created week } } }
"""
DISSOLVE_TASK = (
    "query($g: UUID!) { tasks(first: 5, filter: {kind: DISSOLVE_GROUP, groupId: $g}) { edges { node { id } } } }"
)
COMPLETE = "mutation($t: UUID!) { completeTask(taskId: $t) { __typename } }"
ROLE = """
mutation($g: UUID!, $m: UUID!, $r: GroupRole!) { setGroupRole(groupId: $g, memberId: $m, role: $r) {
  __typename ... on SetGroupRoleSuccess { membership { role channel member { id } } }
  ... on GroupNotFoundError { code groupId } ... on NotAMemberError { code inGroup: groupId memberId } } }
"""
LEAVE = """
mutation($g: UUID!, $m: UUID!) { leaveGroup(groupId: $g, memberId: $m) {
  __typename ... on LeaveGroupSuccess { group { id memberCount stats { members joined quit } } }
  ... on GroupNotFoundError { code groupId } ... on NotAMemberError { code inGroup: groupId memberId } } }
"""
SYNC = """
mutation($chat: String!, $m: [UUID!]!) { syncGroupMembers(chatId: $chat, members: $m, channel: INVITE_LINK) {
  __typename ... on SyncGroupMembersSuccess { joined group { memberCount } } } }
"""
QR_JOIN = """
mutation($g: UUID!, $m: UUID!, $c: JoinChannel!) { joinGroup(groupId: $g, memberId: $m, channel: $c) {
  __typename ... on JoinGroupSuccess { group { memberCount } } ... on QrJoinsClosedError { code memberCount } } }
"""
MEMBERS = "query($id: UUID!) { group(id: $id) { memberCount members(first: 10) { edges { node { role } } } } }"


async def ask(api: SubgraphClient, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The one mutation's payload; the call must not fail outside the union."""
    result = await api(document, variables, token=token)
    assert "errors" not in result, result
    (payload,) = result["data"].values()
    assert isinstance(payload, dict)
    return payload


async def group_with_member(api: SubgraphClient, tokens: Tokens) -> tuple[str, str]:
    group_id = (await create(api, tokens.staff()))["group"]["id"]
    member_id = await known(api)
    await join(api, tokens.staff(), group_id, member_id)
    return group_id, member_id


# ------------------------------------------------------------------------------------------- attachJoinQr


async def test_a_join_qr_serves_five_groups_then_refuses_a_sixth(community_api: SubgraphClient, tokens: Tokens) -> None:
    # given five groups served by one code
    groups = [(await create(community_api, tokens.staff(), scopeName=f"小区{i}"))["group"]["id"] for i in range(6)]
    served = [await ask(community_api, tokens.staff(), ATTACH, {"qr": "qr-a", "g": g}) for g in groups[:5]]

    # when a sixth group asks for it, and a served group asks again
    sixth = await ask(community_api, tokens.staff(), ATTACH, {"qr": "qr-a", "g": groups[5]})
    again = await ask(community_api, tokens.staff(), ATTACH, {"qr": "qr-a", "g": groups[0]})

    # then the sixth is refused and the code still serves the same five
    assert [s["__typename"] for s in served] == ["AttachJoinQrSuccess"] * 5
    assert served[-1] == {"__typename": "AttachJoinQrSuccess", "qrCode": "qr-a", "groupIds": sorted(groups[:5])}
    assert sixth == {"__typename": "QrCodeFullError", "code": "COMMUNITY_QR_CODE_FULL", "qrCode": "qr-a"}
    assert again["__typename"] == "AttachJoinQrSuccess"
    assert again["groupIds"] == sorted(groups[:5])
    other = await ask(community_api, tokens.staff(), ATTACH, {"qr": "qr-b", "g": groups[5]})
    assert other["groupIds"] == [groups[5]]  # another code is not affected


async def test_attaching_a_qr_to_an_unknown_group_is_a_typed_error(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    unknown = str(uuid.uuid4())

    missing = await ask(community_api, tokens.staff(), ATTACH, {"qr": "qr-x", "g": unknown})

    assert missing == {"__typename": "GroupNotFoundError", "code": "COMMUNITY_GROUP_NOT_FOUND", "groupId": unknown}


async def test_a_dissolved_group_frees_its_qr_place_and_cannot_be_attached(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    # given a QR code serving five groups, one a basic group in the last week of its month 8
    staff = tokens.staff()
    await create(community_api, staff, type="BUFFER", scopeKind="WAREHOUSE", scopeName="四号仓", chatId="buf-4")
    basic = await create(community_api, staff, warehouse="四号仓", chatId="basic-4", openedOn="2026-01-05")
    others = [(await create(community_api, staff, scopeName=f"小区{i}"))["group"]["id"] for i in range(5)]
    for group_id in [basic["group"]["id"], *others[:4]]:
        await ask(community_api, staff, ATTACH, {"qr": "qr-d", "g": group_id})
    full = await ask(community_api, staff, ATTACH, {"qr": "qr-d", "g": others[4]})
    sunset = await ask(community_api, staff, SUNSET, {"g": basic["group"]["id"], "d": "2026-09-26"})
    read = await community_api(DISSOLVE_TASK, {"g": basic["group"]["id"]}, token=staff)
    (dissolve,) = read["data"]["tasks"]["edges"]

    # when the steward confirms the dissolution
    done = await ask(community_api, staff, COMPLETE, {"t": dissolve["node"]["id"]})

    # then the fifth group finds a place, and the closed group is refused
    fifth = await ask(community_api, staff, ATTACH, {"qr": "qr-d", "g": others[4]})
    closed = await ask(community_api, staff, ATTACH, {"qr": "qr-d", "g": basic["group"]["id"]})
    assert full["__typename"] == "QrCodeFullError"
    assert (sunset["__typename"], sunset["week"]) == ("SunsetBasicGroupSuccess", 3)
    assert done == {"__typename": "TaskSuccess"}
    assert fifth["groupIds"] == sorted(others)
    assert closed == {"__typename": "GroupNotActiveError", "code": "COMMUNITY_GROUP_NOT_ACTIVE", "status": "CLOSED"}


@pytest.mark.parametrize("qr_code", ["", "x" * 65, "qr\n1"])
async def test_a_malformed_qr_code_is_bad_input(community_api: SubgraphClient, tokens: Tokens, qr_code: str) -> None:
    group_id = (await create(community_api, tokens.staff()))["group"]["id"]

    result = await community_api(ATTACH, {"qr": qr_code, "g": group_id}, token=tokens.staff())

    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result["data"] is None


# -------------------------------------------------------------------------------- QR joins stop at 200


async def test_qr_joins_are_refused_at_200_members_but_the_invite_link_still_works(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    # given a group with 200 members synced from WeCom
    group_id = (await create(community_api, tokens.staff(), chatId="chat-200"))["group"]["id"]
    members = [await known(community_api) for _ in range(200)]
    synced = await ask(community_api, tokens.staff(), SYNC, {"chat": "chat-200", "m": members})
    newcomer = await known(community_api)

    # when a member joins by a store QR code, then by the invite link
    by_qr = await ask(community_api, tokens.staff(), QR_JOIN, {"g": group_id, "m": newcomer, "c": "STORE_QR"})
    by_link = await ask(community_api, tokens.staff(), QR_JOIN, {"g": group_id, "m": newcomer, "c": "INVITE_LINK"})

    # then the QR join is refused with nothing changed, and the invite link lets them in
    assert synced == {"__typename": "SyncGroupMembersSuccess", "joined": 200, "group": {"memberCount": 200}}
    assert by_qr == {"__typename": "QrJoinsClosedError", "code": "COMMUNITY_QR_JOINS_CLOSED", "memberCount": 200}
    assert by_link == {"__typename": "JoinGroupSuccess", "group": {"memberCount": 201}}


# ------------------------------------------------------------------------------------------- setGroupRole


async def test_setting_a_role_changes_only_that_membership(community_api: SubgraphClient, tokens: Tokens) -> None:
    # given a group with two members
    group_id, member_id = await group_with_member(community_api, tokens)
    await join(community_api, tokens.staff(), group_id)

    # when one of them becomes the opinion leader
    set_role = await ask(community_api, tokens.staff(), ROLE, {"g": group_id, "m": member_id, "r": "OPINION_LEADER"})

    # then their membership says so and the other's does not
    assert set_role == {
        "__typename": "SetGroupRoleSuccess",
        "membership": {"role": "OPINION_LEADER", "channel": "STORE_QR", "member": {"id": member_id}},
    }
    read = await community_api(MEMBERS, {"id": group_id}, token=tokens.staff())
    roles = [e["node"]["role"] for e in read["data"]["group"]["members"]["edges"]]
    assert roles == ["OPINION_LEADER", "MEMBER"]


async def test_a_role_for_an_unknown_group_or_a_non_member_is_a_typed_error(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    group_id, member_id = await group_with_member(community_api, tokens)
    outsider, stranger, unknown_group = await known(community_api), str(uuid.uuid4()), str(uuid.uuid4())

    no_group = await ask(community_api, tokens.staff(), ROLE, {"g": unknown_group, "m": member_id, "r": "ADMIN"})
    not_in = await ask(community_api, tokens.staff(), ROLE, {"g": group_id, "m": outsider, "r": "ADMIN"})
    unknown = await ask(community_api, tokens.staff(), ROLE, {"g": group_id, "m": stranger, "r": "ADMIN"})

    assert no_group == {
        "__typename": "GroupNotFoundError",
        "code": "COMMUNITY_GROUP_NOT_FOUND",
        "groupId": unknown_group,
    }
    assert not_in == {
        "__typename": "NotAMemberError",
        "code": "COMMUNITY_NOT_A_MEMBER",
        "inGroup": group_id,
        "memberId": outsider,
    }
    assert (unknown["__typename"], unknown["code"], unknown["memberId"]) == (
        "NotAMemberError",
        "COMMUNITY_NOT_A_MEMBER",
        stranger,
    )
    read = await community_api(MEMBERS, {"id": group_id}, token=tokens.staff())
    assert [e["node"]["role"] for e in read["data"]["group"]["members"]["edges"]] == ["MEMBER"]


async def test_a_role_outside_the_enum_is_refused_by_validation(community_api: SubgraphClient, tokens: Tokens) -> None:
    group_id, member_id = await group_with_member(community_api, tokens)

    result = await community_api(ROLE, {"g": group_id, "m": member_id, "r": "KING"}, token=tokens.staff())

    assert result["data"] is None
    assert "GroupRole" in result["errors"][0]["message"]


# --------------------------------------------------------------------------------------------- leaveGroup


async def test_leaving_a_group_counts_the_quit_once(community_api: SubgraphClient, tokens: Tokens) -> None:
    # given a member in a group
    group_id, member_id = await group_with_member(community_api, tokens)

    # when they leave, then leave again
    left = await ask(community_api, tokens.staff(), LEAVE, {"g": group_id, "m": member_id})
    again = await ask(community_api, tokens.staff(), LEAVE, {"g": group_id, "m": member_id})

    # then the first leave counts one quit and the second is refused, changing nothing
    assert left == {
        "__typename": "LeaveGroupSuccess",
        "group": {"id": group_id, "memberCount": 0, "stats": {"members": 0, "joined": 1, "quit": 1}},
    }
    assert again == {
        "__typename": "NotAMemberError",
        "code": "COMMUNITY_NOT_A_MEMBER",
        "inGroup": group_id,
        "memberId": member_id,
    }
    read = await community_api(MEMBERS, {"id": group_id}, token=tokens.staff())
    assert read["data"]["group"]["memberCount"] == 0


async def test_leaving_an_unknown_group_or_one_never_joined_is_a_typed_error(
    community_api: SubgraphClient, tokens: Tokens
) -> None:
    group_id, member_id = await group_with_member(community_api, tokens)
    outsider, unknown_group = await known(community_api), str(uuid.uuid4())

    no_group = await ask(community_api, tokens.staff(), LEAVE, {"g": unknown_group, "m": member_id})
    not_in = await ask(community_api, tokens.staff(), LEAVE, {"g": group_id, "m": outsider})

    assert no_group == {
        "__typename": "GroupNotFoundError",
        "code": "COMMUNITY_GROUP_NOT_FOUND",
        "groupId": unknown_group,
    }
    assert (not_in["__typename"], not_in["code"], not_in["memberId"]) == (
        "NotAMemberError",
        "COMMUNITY_NOT_A_MEMBER",
        outsider,
    )
    read = await community_api(MEMBERS, {"id": group_id}, token=tokens.staff())
    assert read["data"]["group"]["memberCount"] == 1


# ---------------------------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("caller", ["member", "reader", "partner"])
async def test_callers_without_groups_write_are_refused_and_change_nothing(
    community_api: SubgraphClient, tokens: Tokens, caller: str
) -> None:
    # given a member in a group
    group_id, member_id = await group_with_member(community_api, tokens)
    token = {
        "member": tokens.member(member_id),
        "reader": tokens.service("groups:read"),
        "partner": tokens.partner("groups:read"),
    }[caller]

    # when a caller without groups:write attaches a QR code, sets a role and leaves
    calls = [
        await community_api(ATTACH, {"qr": "qr-p", "g": group_id}, token=token),
        await community_api(ROLE, {"g": group_id, "m": member_id, "r": "ADMIN"}, token=token),
        await community_api(LEAVE, {"g": group_id, "m": member_id}, token=token),
    ]

    # then each is forbidden and the group is as it was
    assert [c["errors"][0]["extensions"]["code"] for c in calls] == ["FORBIDDEN"] * 3
    assert [c["data"] for c in calls] == [None] * 3
    read = await community_api(MEMBERS, {"id": group_id}, token=tokens.staff())
    assert read["data"]["group"] == {"memberCount": 1, "members": {"edges": [{"node": {"role": "MEMBER"}}]}}
    attached = await ask(community_api, tokens.staff(), ATTACH, {"qr": "qr-p", "g": group_id})
    assert attached["groupIds"] == [group_id]  # the refused attachment took no slot
