"""The event backbone end to end: a member registered through the gateway reaches loyalty's and community's
member directories within a second (the relays and consumers of the stack's processes, on the session's NATS), and
can then get points and join groups; health shows the backlog and the consumers' lag."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.factories import ADJUST, CREATE_GROUP, JOIN, REGISTER
from tests.stack import Stack

IN_DIRECTORIES = text(
    "SELECT (SELECT count(*) FROM loyalty.member_directory WHERE member_id = :m AND status = 'active') "
    "+ (SELECT count(*) FROM community.member_directory WHERE member_id = :m AND status = 'active')"
)
UNKNOWN = """
mutation($id: UUID!) {
  adjustPoints(input: {memberId: $id, points: 5, reason: "开卡礼", idempotencyKey: "e2e-unknown"}) {
    __typename ... on LoyaltyUnknownMemberError { code memberId }
  }
}
"""


async def _until_in_both_directories(engine: AsyncEngine, member_id: str, within: float = 10.0) -> float:
    """Seconds until both directories hold the member as active."""
    began = time.perf_counter()
    async with engine.connect() as connection:
        while (await connection.execute(IN_DIRECTORIES, {"m": member_id})).scalar_one() < 2:
            assert time.perf_counter() - began < within, f"{member_id} not in both directories after {within} s"
            await asyncio.sleep(0.005)
            await connection.rollback()
    return time.perf_counter() - began


async def test_a_registered_member_reaches_both_directories_within_a_second_and_can_then_get_points(
    stack: Stack, ops: str, engine: AsyncEngine
) -> None:
    latencies = []
    member_id = ""
    for i in range(20):
        # when: a member registers through the gateway
        registered = stack.query(REGISTER, {"mobile": f"1370000{i:04d}"}, token=ops).json()
        member_id = registered["data"]["registerMember"]["member"]["id"]
        # then: loyalty and community learn of them (measured from the answer to registerMember)
        latencies.append(await _until_in_both_directories(engine, member_id))

    p50 = statistics.median(latencies)
    print(f"registration → both directories: p50 {p50 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    assert p50 < 1.0, latencies

    # and: the member can get points and join a group
    granted = stack.query(ADJUST, {"id": member_id, "points": 50, "key": f"e2e-{member_id}"}, token=ops).json()
    assert granted["data"]["adjustPoints"] == {"__typename": "AdjustPointsSuccess", "account": {"balance": 50}}
    group = stack.query(CREATE_GROUP, token=ops).json()["data"]["createGroup"]["group"]
    joined = stack.query(JOIN, {"group": group["id"], "member": member_id}, token=ops).json()
    assert joined["data"]["joinGroup"]["__typename"] == "JoinGroupSuccess"


def test_points_for_a_member_nobody_registered_are_refused(stack: Stack, ops: str) -> None:
    stranger = str(uuid.uuid4())

    result = stack.query(UNKNOWN, {"id": stranger}, token=ops).json()

    assert result["data"]["adjustPoints"] == {
        "__typename": "LoyaltyUnknownMemberError",
        "code": "LOYALTY_UNKNOWN_MEMBER",
        "memberId": stranger,
    }


def test_health_reports_the_outbox_backlog_and_each_consumers_lag(stack: Stack) -> None:
    loyalty = httpx.get(f"http://127.0.0.1:{stack.ports.loyalty}/health", timeout=5).json()
    members = httpx.get(f"http://127.0.0.1:{stack.ports.members}/health", timeout=5).json()

    assert set(members["outbox"]) == {"unpublished", "oldest_age_seconds"}
    assert loyalty["events"]["nats"] == "ok"
    assert set(loyalty["events"]["consumers"]["loyalty-directory"]) == {
        "num_pending",
        "num_ack_pending",
        "num_redelivered",
    }
