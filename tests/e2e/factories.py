"""Factories for end-to-end tests: members, points and groups made through the real gateway."""

from __future__ import annotations

from tests.stack import Stack

REGISTER = """
mutation($mobile: String!) {
  registerMember(input: {mobile: $mobile, nickname: "小鱼", sourceChannel: STORE_QR}) {
    __typename ... on RegisterMemberSuccess { member { id } }
  }
}
"""
ADJUST = """
mutation($id: UUID!, $points: Int!, $key: String!) {
  adjustPoints(input: {memberId: $id, points: $points, reason: "开卡礼", idempotencyKey: $key}) {
    __typename ... on AdjustPointsSuccess { account { balance } }
  }
}
"""
CREATE_GROUP = """
mutation { createGroup(input: {type: BASIC, scopeKind: COMMUNITY, scopeName: "翠湖小区"}) {
  __typename ... on CreateGroupSuccess { group { id name } } } }
"""
JOIN = """
mutation($group: UUID!, $member: UUID!) {
  joinGroup(groupId: $group, memberId: $member, channel: STORE_QR) { __typename }
}
"""


def make_member(stack: Stack, ops: str, mobile: str, points: int = 0) -> str:
    """A member registered through the gateway, with `points` granted."""
    result = stack.query(REGISTER, {"mobile": mobile}, token=ops).json()
    member_id: str = result["data"]["registerMember"]["member"]["id"]
    if points:
        granted = stack.query(ADJUST, {"id": member_id, "points": points, "key": f"e2e-{member_id}"}, token=ops)
        assert granted.json()["data"]["adjustPoints"]["__typename"] == "AdjustPointsSuccess"
    return member_id


def make_group(stack: Stack, ops: str, *members: str) -> dict[str, str]:
    group: dict[str, str] = stack.query(CREATE_GROUP, token=ops).json()["data"]["createGroup"]["group"]
    for member_id in members:
        joined = stack.query(JOIN, {"group": group["id"], "member": member_id}, token=ops).json()
        assert joined["data"]["joinGroup"]["__typename"] == "JoinGroupSuccess"
    return group
