"""A successful mutation leaves its audit entry (outcome ok) with actor, role, client, request id and target, and
no personal data: registerMember, recordOrder, recordOrders (one entry per order), recordRefund and
recordBehaviour (one entry per event)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.members.audit.test_audit_log import entries
from tests.members.factories import make_store, register
from tests.support import SubgraphClient, Tokens

MOBILE = "13800138000"
RECORD = "mutation($i: RecordOrderInput!) { recordOrder(input: $i) { ... on RecordOrderSuccess { order { id } } } }"
RECORD_MANY = """
mutation($i: [RecordOrderInput!]!) {
  recordOrders(inputs: $i) { __typename ... on RecordOrderSuccess { order { id } } }
}
"""
REFUND = """
mutation($i: RecordRefundInput!) { recordRefund(input: $i) { __typename ... on RecordRefundSuccess { order { id } } } }
"""
BEHAVIOUR = "mutation($e: [RecordBehaviourInput!]!) { recordBehaviour(events: $e) { __typename } }"


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def order(member_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "externalId": f"POS-{uuid.uuid4().hex[:10]}",
        "memberId": member_id,
        "storeCode": "S1",
        "channel": "IN_STORE",
        "paidFen": 1000,
        "occurredAt": ago(1),
        "lines": [{"sku": "A", "category": "tea", "quantity": 1, "unitPriceFen": 1000}],
        **overrides,
    }


def ok(entry: dict[str, Any], actor: str, role: str, client: str | None, action: str, kind: str, target: str) -> None:
    assert entry["requestId"]
    assert {k: v for k, v in entry.items() if k != "requestId"} == {
        "actor": actor,
        "role": role,
        "clientId": client,
        "action": action,
        "targetType": kind,
        "targetId": target,
        "outcome": "ok",
    }
    assert MOBILE not in str(entry)


async def setup(api: SubgraphClient, tokens: Tokens) -> str:
    await make_store(api, tokens.ops(), "S1")
    member_id: str = (await register(api, tokens.ops(), MOBILE))["member"]["id"]
    return member_id


async def test_register_member_is_audited_repeat_included(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await setup(members_api, tokens)
    await register(members_api, tokens.ops(), MOBILE)

    found = await entries(members_api, tokens, action="registerMember")

    assert len(found) == 2
    for entry in found:
        ok(entry, "ops-test", "ops", None, "registerMember", "member", member_id)


async def test_record_order_and_refund_are_audited(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await setup(members_api, tokens)
    pos = tokens.partner_for("orders:write", client_id="pos-1")

    recorded = await members_api(RECORD, {"i": order(member_id)}, token=pos)
    order_id = recorded["data"]["recordOrder"]["order"]["id"]
    refunded = await members_api(
        REFUND, {"i": {"refundId": "R1", "orderId": order_id, "occurredAt": ago(0.5), "amountFen": 100}}, token=pos
    )

    assert refunded["data"]["recordRefund"]["__typename"] == "RecordRefundSuccess"
    (orders,) = await entries(members_api, tokens, action="recordOrder")
    (refunds,) = await entries(members_api, tokens, action="recordRefund")
    ok(orders, "pos-1", "partner", "pos-1", "recordOrder", "order", order_id)
    ok(refunds, "pos-1", "partner", "pos-1", "recordRefund", "order", order_id)


async def test_a_refused_refund_is_audited_with_its_code(members_api: SubgraphClient, tokens: Tokens) -> None:
    await setup(members_api, tokens)

    refused = await members_api(
        REFUND, {"i": {"refundId": "R1", "orderId": str(uuid.uuid4()), "occurredAt": ago(0.5)}}, token=tokens.ops()
    )

    assert refused["data"]["recordRefund"]["__typename"] == "UnknownOrderError"
    found = await entries(members_api, tokens, action="recordRefund")
    assert [(e["targetType"], e["outcome"]) for e in found] == [("order", "MEMBERS_UNKNOWN_ORDER")]


async def test_a_batch_of_orders_leaves_one_entry_per_order(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await setup(members_api, tokens)
    batch = [order(member_id), order(member_id, paidFen=0), order(member_id)]

    result = await members_api(RECORD_MANY, {"i": batch}, token=tokens.service("orders:write"))

    payloads = result["data"]["recordOrders"]
    found = await entries(members_api, tokens, action="recordOrders")
    assert sorted((e["targetId"] or "", e["outcome"]) for e in found) == sorted(
        [(payloads[0]["order"]["id"], "ok"), (payloads[2]["order"]["id"], "ok"), ("", "MEMBERS_INVALID_AMOUNT")]
    )
    assert {(e["actor"], e["role"]) for e in found} == {("service-test", "service")}


async def test_record_behaviour_leaves_one_entry_per_event(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await setup(members_api, tokens)
    events = [
        {"eventId": "E1", "kind": "VISIT", "occurredAt": ago(1), "mobile": MOBILE},
        {"eventId": "E2", "kind": "VISIT", "occurredAt": ago(1), "memberId": str(uuid.uuid4())},
    ]

    result = await members_api(BEHAVIOUR, {"e": events}, token=tokens.partner_for("behaviour:write", client_id="mp"))

    assert [p["__typename"] for p in result["data"]["recordBehaviour"]] == [
        "RecordBehaviourSuccess",
        "UnknownMemberError",
    ]
    found = await entries(members_api, tokens, action="recordBehaviour")
    assert sorted(((e["targetId"] or ""), e["outcome"]) for e in found) == sorted(
        [(member_id, "ok"), ("", "MEMBERS_UNKNOWN_MEMBER")]
    )
    ok(next(e for e in found if e["outcome"] == "ok"), "mp", "partner", "mp", "recordBehaviour", "member", member_id)
