"""Factories for end-to-end tests: members, points and groups made through the real gateway."""

from __future__ import annotations

import time

import httpx

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
    """A member registered through the gateway, known to loyalty and community, with `points` granted."""
    result = stack.query(REGISTER, {"mobile": mobile}, token=ops).json()
    member_id: str = result["data"]["registerMember"]["member"]["id"]
    wait_for_events(stack)
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


ORGANISATION = """
mutation {
  r1: createRegion(input: {code: "R1", name: "华东"}) { __typename }
  r2: createRegion(input: {code: "R2", name: "华南"}) { __typename }
  s1: createStore(input: {code: "S1", name: "一号店", regionCode: "R1"}) { __typename }
  s2: createStore(input: {code: "S2", name: "二号店", regionCode: "R1"}) { __typename }
  s3: createStore(input: {code: "S3", name: "三号店", regionCode: "R2"}) { __typename }
}
"""
HOME_STORE = """
mutation($id: UUID!, $store: String!) {
  updateMemberProfile(input: {memberId: $id, homeStoreCode: $store}) { __typename }
}
"""
# The organisation make_organisation builds: store → region.
REGION_OF = {"S1": "R1", "S2": "R1", "S3": "R2"}


def make_organisation(stack: Stack, ops: str) -> None:
    """Regions R1 (stores S1, S2) and R2 (store S3)."""
    result = stack.query(ORGANISATION, token=ops).json()
    assert all(v["__typename"].endswith("Success") for v in result["data"].values()), result


def make_member_at(stack: Stack, ops: str, mobile: str, store: str | None) -> str:
    """A member registered through the gateway whose home store is `store` (None: no home store)."""
    member_id = make_member(stack, ops, mobile)
    if store is not None:
        moved = stack.query(HOME_STORE, {"id": member_id, "store": store}, token=ops).json()
        assert moved["data"]["updateMemberProfile"]["__typename"] == "MemberSuccess", moved
    return member_id


DIRECTORIES = {"loyalty-directory", "community-directory"}


def wait_for_events(stack: Stack, within: float = 10.0, consumers: frozenset[str] | set[str] = DIRECTORIES) -> None:
    """Wait until every member event written so far has reached the member directories: members' outbox is empty
    and neither directory consumer has messages pending or unacknowledged (each service's /health reports both)."""
    deadline = time.monotonic() + within
    while not _settled(stack, consumers):
        if time.monotonic() > deadline:
            raise AssertionError(f"events not applied within {within} s")
        time.sleep(0.02)


def _settled(stack: Stack, wanted: frozenset[str] | set[str]) -> bool:
    reports = {
        name: httpx.get(f"http://127.0.0.1:{stack.ports.subgraph(name)}/health", timeout=5).json()
        for name in ("members", "loyalty", "community")
    }
    if any(report.get("outbox", {}).get("unpublished") for report in reports.values()):
        return False
    consumers = {name: c for r in reports.values() for name, c in r.get("events", {}).get("consumers", {}).items()}
    # Only the consumers asked for (the member directories by default): another consumer may still be retrying an
    # event of an earlier test whose rows were truncated since (loyalty-earning backs off for about a minute).
    return consumers.keys() >= wanted and all(
        consumers[name].get("num_pending") == 0 and consumers[name].get("num_ack_pending") == 0 for name in wanted
    )
