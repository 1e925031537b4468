"""A basic group from opening to dissolution, driven by the three lifecycle flows through Prefect and the real
gateway, with asOf stepped month by month over nine months; every flow run twice changes nothing the second time."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from community.groups.rules import add_months
from tests.e2e.factories import make_member, make_organisation, wait_for_events
from tests.stack import Stack
from yutang_dev.flows_client import FlowsClient
from yutang_flows.basic_group_sunset import basic_group_sunset
from yutang_flows.vip_graduation import vip_graduation
from yutang_flows.vip_monthly_review import vip_monthly_review

CREATE = """
mutation($i: CreateGroupInput!) { createGroup(input: $i) {
  __typename ... on CreateGroupSuccess { group { id name } } ... on Error { message } } }
"""
JOIN = """
mutation($g: UUID!, $m: UUID!) { joinGroup(groupId: $g, memberId: $m, channel: STORE_QR) { __typename } }
"""
ORDER = """
mutation($i: RecordOrderInput!) { recordOrder(input: $i) {
  __typename ... on RecordOrderSuccess { order { id } } ... on Error { message } } }
"""
REFUND = """
mutation($i: RecordRefundInput!) { recordRefund(input: $i) { __typename ... on Error { message } } }
"""
EXCEPTION = """
mutation($m: UUID!) { grantEntryException(memberId: $m, reason: INFLUENCER, note: "达人") { __typename } }
"""
OPEN_TASKS = """
query($after: Cursor) { tasks(first: 100, after: $after, filter: {status: OPEN}) {
  edges { node { id kind groupId memberId targetGroupId message } } pageInfo { hasNextPage endCursor } } }
"""
ALL_TASKS = "query { tasks(first: 100) { edges { node { id status } } } }"
COMPLETE = """
mutation($t: UUID!, $chat: String) { completeTask(taskId: $t, chatId: $chat, outcome: "done in WeCom") {
  __typename ... on Error { message } } }
"""
GROUP = """
query($id: UUID!, $asOf: Date!) { group(id: $id) {
  status memberCount phase(asOf: $asOf) stats { members joined quit vipCount }
  members(first: 100) { edges { node { member { id } } } } } }
"""
GROUPS = "query { groups(first: 100, type: VIP) { edges { node { id status memberCount capacity } } } }"


def gql(stack: Stack, token: str, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = stack.query(document, variables or {}, token=token).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def create_group(stack: Stack, ops: str, **fields: Any) -> str:
    result = gql(stack, ops, CREATE, {"i": fields})["createGroup"]
    assert result["__typename"] == "CreateGroupSuccess", result
    return str(result["group"]["id"])


def order(stack: Stack, ops: str, member_id: str, paid_fen: int, at: datetime) -> str:
    line = {"sku": "TEA-1", "category": "tea", "quantity": 1, "unitPriceFen": paid_fen}
    order_input = {
        "externalId": f"LC-{uuid.uuid4().hex[:12]}",
        "memberId": member_id,
        "storeCode": "S1",
        "channel": "IN_STORE",
        "paidFen": paid_fen,
        "lines": [line],
        "occurredAt": at.isoformat(),
    }
    result = gql(stack, ops, ORDER, {"i": order_input})["recordOrder"]
    assert result["__typename"] == "RecordOrderSuccess", result
    return str(result["order"]["id"])


def open_tasks(stack: Stack, ops: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(stack, ops, OPEN_TASKS, {"after": after})["tasks"]
        found += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def do_every_task(stack: Stack, ops: str) -> list[str]:
    """What diligent staff do: every open task in the order listed (a new group's create task comes before the
    invitations into it, made in the same transaction), done in WeCom and confirmed (a new group with a chat id)."""
    kinds = []
    for task in open_tasks(stack, ops):
        chat = f"chat-{task['groupId']}" if task["kind"] == "CREATE_GROUP" else None
        done = gql(stack, ops, COMPLETE, {"t": task["id"], "chat": chat})["completeTask"]
        if done["__typename"] == "TaskClosedError":  # closed by a dissolution that applied its open moves
            continue
        assert done["__typename"] == "TaskSuccess", (task, done)
        kinds.append(task["kind"])
    return kinds


def task_count(stack: Stack, ops: str) -> int:
    return len(gql(stack, ops, ALL_TASKS)["tasks"]["edges"])


def members_of(stack: Stack, ops: str, group_id: str, as_of: date) -> set[str]:
    group = gql(stack, ops, GROUP, {"id": group_id, "asOf": as_of.isoformat()})["group"]
    return {e["node"]["member"]["id"] for e in group["members"]["edges"]}


def run_twice(flow: Any, as_of: date, stack: Stack, ops: str) -> dict[str, int]:
    """Run the flow for `as_of`; a second run for the same day creates no task."""
    first: dict[str, int] = flow(as_of=as_of)
    before = task_count(stack, ops)
    second: dict[str, int] = flow(as_of=as_of)
    assert second["created"] == 0, (flow.name, as_of, second)
    assert task_count(stack, ops) == before
    return first


def test_a_basic_group_lives_nine_months_through_the_flows(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    # given: a basic group opened five months ago (so month 5 is today and orders can fall in the VIP window),
    # its warehouse's buffer group, and a VIP group of the same scope with two seats
    today = datetime.now(UTC).date()
    opened = add_months(today, -5)
    make_organisation(stack, ops)
    buffer = create_group(stack, ops, type="BUFFER", scopeKind="WAREHOUSE", scopeName="W1", chatId="chat-buffer")
    basic = create_group(
        stack,
        ops,
        type="BASIC",
        scopeKind="COMMUNITY",
        scopeName="翠湖小区",
        warehouse="W1",
        chatId="chat-basic",
        openedOn=opened.isoformat(),
    )
    vip = create_group(
        stack,
        ops,
        type="VIP",
        scopeKind="COMMUNITY",
        scopeName="翠湖小区",
        capacity=2,
        warehouse="W1",
        chatId="chat-vip",
    )
    a, b, c, d, e = (make_member(stack, ops, f"1380013{i:04d}") for i in range(5))
    for member in (a, b, c, d, e):
        assert gql(stack, ops, JOIN, {"g": basic, "m": member})["joinGroup"]["__typename"] == "JoinGroupSuccess"
    # a, b and c spend ¥600 each in month 4 (the rule: ¥500 in 90 days); d is an influencer (a logged exception)
    paid_at = datetime.combine(add_months(opened, 4), datetime.min.time(), UTC) + timedelta(days=5, hours=4)
    c_order = [order(stack, ops, m, 60_000, paid_at) for m in (a, b, c)][2]
    assert gql(stack, ops, EXCEPTION, {"m": d})["grantEntryException"]["__typename"] == "GrantEntryExceptionSuccess"
    wait_for_events(stack, consumers={"community-directory", "community-orders"})

    history: dict[int, dict[str, Any]] = {}
    for month in range(10):
        as_of = add_months(opened, month) + timedelta(days=7)
        if month == 5:  # c's order is refunded in full: c stops qualifying
            refund = {
                "refundId": f"RF-{uuid.uuid4().hex[:10]}",
                "orderId": c_order,
                "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            }
            assert gql(stack, ops, REFUND, {"i": refund})["recordRefund"]["__typename"] == "RecordRefundSuccess"
            wait_for_events(stack, consumers={"community-orders"})
        runs = {
            "graduation": run_twice(vip_graduation, as_of, stack, ops),
            "review": run_twice(vip_monthly_review, as_of, stack, ops),
            "sunset": run_twice(basic_group_sunset, as_of, stack, ops),
        }
        history[month] = {"runs": runs, "done": do_every_task(stack, ops), "vip": members_of(stack, ops, vip, as_of)}

    # then: months 0–3 do nothing; month 4 invites a, b, c and d: two into the VIP group, the rest into a second
    # VIP group planned (and created by staff) when the first filled
    assert all(history[m]["done"] == [] for m in range(4))
    assert sorted(history[4]["done"]) == ["CREATE_GROUP"] + ["INVITE_MEMBER"] * 4
    vips = gql(stack, ops, GROUPS)["groups"]["edges"]
    assert len(vips) == 2
    assert len(history[4]["vip"]) == 2
    # c, refunded, is warned in month 5 and removed after the 30-day grace, into the buffer group
    assert "WARN_MEMBER" in history[5]["done"]
    removed_c = next(m for m in range(6, 10) if "REMOVE_MEMBER" in history[m]["done"])
    assert removed_c <= 7
    # month 7: the notice; the basic group is dissolved by month 9 with every member in the buffer group
    assert "POST_NOTICE" in history[7]["done"]
    assert any("MOVE_TO_BUFFER" in history[m]["done"] for m in (8, 9))
    assert "DISSOLVE_GROUP" in history[9]["done"]
    end = add_months(opened, 9) + timedelta(days=7)
    final = gql(stack, ops, GROUP, {"id": basic, "asOf": end.isoformat()})["group"]
    assert (final["status"], final["memberCount"], final["phase"]) == ("CLOSED", 0, "DISSOLVE")
    assert final["stats"]["joined"] == 5
    assert final["stats"]["quit"] == 5
    assert members_of(stack, ops, buffer, end) == {a, b, c, d, e}
    # d, the influencer, is still a VIP; c is in no VIP group
    in_vip = set().union(*(members_of(stack, ops, g["node"]["id"], end) for g in vips))
    assert d in in_vip
    assert c not in in_vip
