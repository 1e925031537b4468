"""Points from purchases through the gateway with a partner client's token: an order's points are pending within
a second, half refunded → half reversed, both re-sent → nothing changes; releasing makes them available."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.factories import DIRECTORIES, make_member_at, make_organisation, wait_for_events
from tests.stack import Stack
from tests.support import Tokens
from yutang_dev.reconcile import reconcile_points

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

# The earning consumer too; it may first have to give up on an earlier test's events (about a minute of backoff).
EARNING = DIRECTORIES | {"loyalty-earning"}


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
    while loyalty(stack, pos, member_id)["pending"] == 0 and time.monotonic() - started < 20:
        time.sleep(0.01)

    # then: the points are pending, linked to the order (how fast is `make bench`'s P7, not a test's business)
    account = loyalty(stack, pos, member_id)
    assert account["pending"] == 100
    assert account["balance"] == 0
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
    wait_for_events(stack, within=90, consumers=EARNING)

    # then: half the points are reversed
    account = loyalty(stack, pos, member_id)
    assert (account["pending"], account["balance"], account["owed"]) == (50, 0, 0)
    entries = account["entries"]["totalCount"]

    # when: both are sent again
    again = stack.query(RECORD_ORDER, {"i": order}, token=pos).json()["data"]["recordOrder"]
    refund_again = stack.query(RECORD_REFUND, {"i": refund}, token=pos).json()["data"]["recordRefund"]
    wait_for_events(stack, within=90, consumers=EARNING)

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


def test_reconciliation_lists_a_deliberate_difference(
    stack: Stack, ops: str, tokens: Tokens, database_url: str
) -> None:
    # given: two orders whose points loyalty earned, one of them half refunded
    make_organisation(stack, ops)
    member_id = make_member_at(stack, ops, "13900000772", "S1")
    order_ids = []
    for paid_fen in (10_000, 2_550):
        order = {
            "externalId": f"POS-{uuid.uuid4().hex[:10]}",
            "memberId": member_id,
            "storeCode": "S1",
            "channel": "IN_STORE",
            "paidFen": paid_fen,
            "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 1, "unitPriceFen": paid_fen}],
            "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        }
        order_ids.append(
            stack.query(RECORD_ORDER, {"i": order}, token=ops).json()["data"]["recordOrder"]["order"]["id"]
        )
    refund = {
        "refundId": "RF-R1",
        "orderId": order_ids[0],
        "amountFen": 5_000,
        "occurredAt": datetime.now(UTC).isoformat(),
    }
    assert stack.query(RECORD_REFUND, {"i": refund}, token=ops).json()["data"]["recordRefund"]["__typename"] == (
        "RecordRefundSuccess"
    )
    wait_for_events(stack, within=90, consumers=EARNING)
    gateway = f"http://127.0.0.1:{stack.ports.gateway}/graphql"
    assert reconcile_points(gateway, ops) == []

    # when: someone writes entries behind the consumer's back: an extra earn on the second order, and an entry
    # naming an order members never recorded
    orphan = uuid.uuid4()
    asyncio.run(_tamper(database_url, member_id, [(order_ids[1], 7), (str(orphan), 5)]))

    # then: both differences are listed, and nothing else
    found = {(d.order_id, d.kind, d.expected, d.found) for d in reconcile_points(gateway, ops)}
    assert found == {(order_ids[1], "wrong amount", 25, 32), (str(orphan), "orphan entry", 0, 5)}

    # and: with an as-of date past the lock period, the pending points are due for release
    later = (datetime.now(UTC) + timedelta(days=8)).date()
    due = {(d.order_id, d.kind) for d in reconcile_points(gateway, ops, as_of=later)}
    assert (order_ids[0], "release due") in due


async def _tamper(database_url: str, member_id: str, entries: list[tuple[str, int]]) -> None:
    """Ledger entries written straight into the table, as no use case would (pending, kind earn_pending)."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        for order_id, points in entries:
            await connection.execute(
                text(
                    "INSERT INTO loyalty.ledger_entries (id, member_id, points, balance_after, kind, bucket, reason, "
                    "idempotency_key, actor, order_id) VALUES (gen_random_uuid(), :m, :p, :p, 'earn_pending', "
                    "'pending', 'tampered', :k, 'someone', :o)"
                ),
                {"m": member_id, "p": points, "k": f"tamper-{order_id}", "o": order_id},
            )
    await engine.dispose()
