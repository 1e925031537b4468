"""Points from purchases through the gateway with a partner client's token: an order's points are pending within
a second, half refunded → half reversed, both re-sent → nothing changes; releasing makes them available."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.factories import make_member_at, make_organisation, wait_for_events
from tests.stack import Stack
from tests.support import Tokens

RECORD_ORDER = """
mutation($i: RecordOrderInput!) { recordOrder(input: $i) {
  __typename ... on RecordOrderSuccess { replayed order { id } } ... on Error { message } } }
"""
RECORD_REFUND = """
mutation($i: RecordRefundInput!) { recordRefund(input: $i) {
  __typename ... on RecordRefundSuccess { replayed } ... on Error { message } } }
"""
LOYALTY = """
query($id: UUID!) { member(id: $id) { loyalty {
  balance pending owed entries(first: 20) { totalCount edges { node { kind points orderId } } } } } }
"""
RELEASE = "mutation($d: Date!) { releasePendingPoints(asOf: $d) { orders points } }"


def loyalty(stack: Stack, token: str, member_id: str) -> dict[str, Any]:
    body = stack.query(LOYALTY, {"id": member_id}, token=token).json()
    assert "errors" not in body, body
    account: dict[str, Any] = body["data"]["member"]["loyalty"]
    return account


def test_an_order_earns_pending_points_and_a_refund_reverses_half(stack: Stack, ops: str, tokens: Tokens) -> None:
    # given: a store, a member and a POS partner allowed at the store
    make_organisation(stack, ops)
    member_id = make_member_at(stack, ops, "13900000771", "S1")
    pos = tokens.partner_for("orders:write", "members:read", "points:read", stores=("S1",), client_id="pos-e2e")
    order = {
        "externalId": f"POS-{uuid.uuid4().hex[:10]}",
        "memberId": member_id,
        "storeCode": "S1",
        "channel": "IN_STORE",
        "paidFen": 10_000,
        "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 2, "unitPriceFen": 5_000}],
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }

    # when: the till records the order
    recorded = stack.query(RECORD_ORDER, {"i": order}, token=pos).json()["data"]["recordOrder"]
    assert recorded["__typename"] == "RecordOrderSuccess", recorded
    started = time.monotonic()
    while loyalty(stack, pos, member_id)["pending"] == 0 and time.monotonic() - started < 5:
        time.sleep(0.01)
    seen_after = time.monotonic() - started

    # then: the points are pending within a second, linked to the order
    account = loyalty(stack, pos, member_id)
    assert account["pending"] == 100
    assert account["balance"] == 0
    assert seen_after < 1.0, f"points visible after {seen_after:.2f} s"
    order_id = recorded["order"]["id"]
    assert [e["node"] for e in account["entries"]["edges"]] == [
        {"kind": "EARN_PENDING", "points": 100, "orderId": order_id}
    ]

    # when: half is refunded
    refund = {
        "refundId": f"RF-{uuid.uuid4().hex[:10]}",
        "orderId": order_id,
        "amountFen": 5_000,
        "occurredAt": datetime.now(UTC).isoformat(),
    }
    refunded = stack.query(RECORD_REFUND, {"i": refund}, token=pos).json()["data"]["recordRefund"]
    assert refunded["__typename"] == "RecordRefundSuccess", refunded
    wait_for_events(stack)

    # then: half the points are reversed
    account = loyalty(stack, pos, member_id)
    assert (account["pending"], account["balance"], account["owed"]) == (50, 0, 0)
    entries = account["entries"]["totalCount"]

    # when: both are sent again
    again = stack.query(RECORD_ORDER, {"i": order}, token=pos).json()["data"]["recordOrder"]
    refund_again = stack.query(RECORD_REFUND, {"i": refund}, token=pos).json()["data"]["recordRefund"]
    wait_for_events(stack)

    # then: both are replays and nothing changes
    assert again["replayed"] is True
    assert refund_again["replayed"] is True
    account = loyalty(stack, pos, member_id)
    assert (account["pending"], account["balance"], account["entries"]["totalCount"]) == (50, 0, entries)

    # when: operations release the points after the lock period
    as_of = (datetime.now(UTC) + timedelta(days=8)).date().isoformat()
    released = stack.query(RELEASE, {"d": as_of}, token=ops).json()["data"]["releasePendingPoints"]

    # then: the 50 points left are available
    assert released["points"] >= 50
    account = loyalty(stack, pos, member_id)
    assert (account["pending"], account["balance"]) == (0, 50)


def test_a_partner_cannot_release_pending_points(stack: Stack, tokens: Tokens) -> None:
    pos = tokens.partner_for("points:write", "points:read", client_id="pos-e2e")
    body = stack.query(RELEASE, {"d": "2030-01-01"}, token=pos).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
