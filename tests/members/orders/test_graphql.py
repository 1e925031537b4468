"""Orders over HTTP: each refusal by __typename and code, batches, permissions, reads and statement counts."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.members.factories import register
from tests.queries import count_selects
from tests.support import SubgraphClient, Tokens

RECORD = """
mutation($i: RecordOrderInput!) { recordOrder(input: $i) {
  __typename
  ... on RecordOrderSuccess { replayed order { id externalId memberId paidFen refundedFen remainingFen channel
      lines { number sku quantity } member { id } } }
  ... on Error { message }
  ... on InvalidOrderError { code } ... on InvalidAmountError { code } ... on LinesMismatchError { code }
  ... on InvalidOccurredAtError { code } ... on UnknownStoreError { code } ... on UnknownMemberError { code }
  ... on MemberNotActiveError { code } ... on OrderConflictError { code }
} }
"""
RECORD_MANY = """
mutation($i: [RecordOrderInput!]!) { recordOrders(inputs: $i) {
  __typename ... on RecordOrderSuccess { replayed order { id } } ... on Error { message }
} }
"""
REFUND = """
mutation($i: RecordRefundInput!) { recordRefund(input: $i) {
  __typename
  ... on RecordRefundSuccess { replayed refund { refundId amountFen lines { line quantity } } order { remainingFen } }
  ... on Error { message }
  ... on InvalidRefundError { code } ... on UnknownOrderError { code } ... on RefundExceedsOrderError { code }
  ... on RefundConflictError { code } ... on InvalidOccurredAtError { code }
} }
"""
BEHAVIOUR = """
mutation($e: [RecordBehaviourInput!]!) { recordBehaviour(events: $e) {
  __typename ... on RecordBehaviourSuccess { replayed event { eventId kind } }
  ... on Error { message } ... on UnknownMemberError { code }
} }
"""
MEMBER_ORDERS = """
query($id: UUID!, $first: Int!, $after: Cursor) { member(id: $id) {
  orders(first: $first, after: $after) { totalCount edges { node { externalId occurredAt } }
    pageInfo { hasNextPage endCursor } }
  orderStats { orderCount totalSpentFen firstOrderAt lastOrderAt averageOrderFen }
} }
"""
ORDERS = """
query($first: Int!, $store: String, $member: UUID, $from: DateTime, $to: DateTime) {
  orders(first: $first, storeCode: $store, memberId: $member, from: $from, to: $to) {
    totalCount edges { node { externalId storeCode } } }
}
"""
ORDER = "query($id: UUID!) { order(id: $id) { externalId paidFen } }"
STATS = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id orderStats { orderCount } } } }
"""


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def order_input(member_id: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "externalId": f"POS-{uuid.uuid4().hex[:10]}",
        "memberId": member_id,
        "storeCode": "S001",
        "channel": "IN_STORE",
        "paidFen": 1200,
        "discountFen": 300,
        "occurredAt": ago(1),
        "lines": [
            {"sku": "A", "category": "tea", "quantity": 1, "unitPriceFen": 1000},
            {"sku": "B", "category": "snacks", "quantity": 1, "unitPriceFen": 500, "discounted": True},
        ],
    }
    values.update(overrides)
    return values


async def member(api: SubgraphClient, tokens: Tokens, mobile: str = "13800138000") -> str:
    member_id: str = (await register(api, tokens.ops(), mobile))["member"]["id"]
    return member_id


async def record(api: SubgraphClient, token: str, item: dict[str, Any]) -> dict[str, Any]:
    result = await api(RECORD, {"i": item}, token=token)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["recordOrder"]
    return payload


async def test_a_partner_records_an_order_and_a_replay(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    item = order_input(member_id)
    pos = tokens.partner("orders:write")

    first = await record(members_api, pos, item)
    again = await record(members_api, pos, {**item, "memberId": None, "mobile": "138 0013 8000"})

    assert first["__typename"] == "RecordOrderSuccess"
    assert first["replayed"] is False
    assert first["order"]["remainingFen"] == 1200
    assert [line["number"] for line in first["order"]["lines"]] == [1, 2]
    assert first["order"]["member"]["id"] == member_id
    assert again["replayed"] is True
    assert again["order"]["id"] == first["order"]["id"]


@pytest.mark.parametrize(
    ("overrides", "typename", "code"),
    [
        ({"paidFen": 0}, "InvalidAmountError", "MEMBERS_INVALID_AMOUNT"),
        ({"paidFen": 1300}, "LinesMismatchError", "MEMBERS_LINES_MISMATCH"),
        ({"occurredAt": "2999-01-01T00:00:00+00:00"}, "InvalidOccurredAtError", "MEMBERS_INVALID_OCCURRED_AT"),
        ({"occurredAt": "1999-12-31T00:00:00+00:00"}, "InvalidOccurredAtError", "MEMBERS_INVALID_OCCURRED_AT"),
        ({"storeCode": "no such store!"}, "UnknownStoreError", "MEMBERS_UNKNOWN_STORE"),
        ({"storeCode": "S999"}, "UnknownStoreError", "MEMBERS_UNKNOWN_STORE"),
        ({"memberId": str(uuid.uuid4())}, "UnknownMemberError", "MEMBERS_UNKNOWN_MEMBER"),
        ({"memberId": None, "mobile": "13900139000"}, "UnknownMemberError", "MEMBERS_UNKNOWN_MEMBER"),
        ({"mobile": "13800138000"}, "InvalidOrderError", "MEMBERS_INVALID_ORDER"),
        ({"lines": []}, "InvalidOrderError", "MEMBERS_INVALID_ORDER"),
    ],
)
async def test_each_refusal_has_its_type_and_code_and_writes_nothing(
    members_api: SubgraphClient, tokens: Tokens, overrides: dict[str, Any], typename: str, code: str
) -> None:
    member_id = await member(members_api, tokens)

    payload = await record(members_api, tokens.ops(), order_input(member_id, **overrides))
    page = await members_api(ORDERS, {"first": 10}, token=tokens.ops())

    assert (payload["__typename"], payload["code"]) == (typename, code)
    assert page["data"]["orders"]["totalCount"] == 0


async def test_a_nul_byte_is_refused_before_anything_runs(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)

    result = await members_api(RECORD, {"i": order_input(member_id, externalId="x\u0000y")}, token=tokens.ops())
    page = await members_api(ORDERS, {"first": 10}, token=tokens.ops())

    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
    assert page["data"]["orders"]["totalCount"] == 0


async def test_a_conflicting_reuse_and_a_closed_member_are_refused(
    members_api: SubgraphClient, tokens: Tokens, engine: Any
) -> None:
    member_id = await member(members_api, tokens)
    item = order_input(member_id)
    await record(members_api, tokens.ops(), item)

    conflict = await record(members_api, tokens.ops(), {**item, "guide": "other"})
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.members SET status = 'closed'"))
    closed = await record(members_api, tokens.ops(), order_input(member_id))

    assert (conflict["__typename"], conflict["code"]) == ("OrderConflictError", "MEMBERS_ORDER_CONFLICT")
    assert (closed["__typename"], closed["code"]) == ("MemberNotActiveError", "MEMBERS_MEMBER_NOT_ACTIVE")


async def test_batches_answer_each_item_and_are_capped(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    good = order_input(member_id)

    batch = await members_api(RECORD_MANY, {"i": [good, order_input(member_id, paidFen=-1), good]}, token=tokens.ops())
    too_many = await members_api(RECORD_MANY, {"i": [order_input(member_id)] * 101}, token=tokens.ops())
    empty = await members_api(RECORD_MANY, {"i": []}, token=tokens.ops())

    assert [p["__typename"] for p in batch["data"]["recordOrders"]] == [
        "RecordOrderSuccess",
        "InvalidAmountError",
        "RecordOrderSuccess",
    ]
    assert batch["data"]["recordOrders"][2]["replayed"] is True
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_permissions(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    item = order_input(member_id)

    reader = await members_api(RECORD, {"i": item}, token=tokens.partner("orders:read", "members:write"))
    as_member = await members_api(RECORD, {"i": item}, token=tokens.member(member_id))
    staff = await members_api(RECORD, {"i": item}, token=tokens.staff_in("guide", stores=("S001",)))
    behaviour_as_staff = await members_api(
        BEHAVIOUR,
        {"e": [{"eventId": "E1", "kind": "VISIT", "memberId": member_id, "occurredAt": ago(1)}]},
        token=tokens.staff_in("operations"),
    )
    list_as_pos = await members_api(ORDERS, {"first": 5}, token=tokens.partner("orders:write"))
    own = await members_api(MEMBER_ORDERS, {"id": member_id, "first": 5}, token=tokens.member(member_id))

    assert reader["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert staff["data"]["recordOrder"]["__typename"] == "RecordOrderSuccess"
    assert behaviour_as_staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert list_as_pos["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert own["data"]["member"]["orderStats"]["orderCount"] == 1


async def test_refunds_over_http(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    item = order_input(member_id)
    token = tokens.partner("orders:write")
    order_id = (await record(members_api, token, item))["order"]["id"]
    by_lines = {
        "refundId": "R1",
        "externalOrderId": item["externalId"],
        "occurredAt": ago(0.5),
        "lines": [{"line": 1, "quantity": 1}],
    }

    first = (await members_api(REFUND, {"i": by_lines}, token=token))["data"]["recordRefund"]
    again = (await members_api(REFUND, {"i": by_lines}, token=token))["data"]["recordRefund"]
    refusals = [
        (await members_api(REFUND, {"i": attempt}, token=token))["data"]["recordRefund"]
        for attempt in (
            {**by_lines, "lines": [{"line": 2, "quantity": 1}]},
            {"refundId": "R2", "orderId": order_id, "occurredAt": ago(0.5), "amountFen": 401},
            {"refundId": "R3", "orderId": str(uuid.uuid4()), "occurredAt": ago(0.5)},
            {"refundId": "R4", "orderId": order_id, "externalOrderId": "x", "occurredAt": ago(0.5)},
            {"refundId": "R5", "orderId": order_id, "occurredAt": "2999-01-01T00:00:00+00:00"},
        )
    ]

    assert first["__typename"] == "RecordRefundSuccess"
    assert (first["refund"]["amountFen"], first["order"]["remainingFen"]) == (800, 400)
    assert again["replayed"] is True
    assert [r["code"] for r in refusals] == [
        "MEMBERS_REFUND_CONFLICT",
        "MEMBERS_REFUND_EXCEEDS_ORDER",
        "MEMBERS_UNKNOWN_ORDER",
        "MEMBERS_INVALID_REFUND",
        "MEMBERS_INVALID_OCCURRED_AT",
    ]


async def test_behaviour_over_http_is_capped_at_500(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    token = tokens.partner("behaviour:write")
    events = [
        {"eventId": "E1", "kind": "ADD_TO_CART", "memberId": member_id, "sku": "A", "occurredAt": ago(1)},
        {"eventId": "E2", "kind": "FOLLOW_OFFICIAL_ACCOUNT", "mobile": "13800138000", "occurredAt": ago(1)},
        {"eventId": "E3", "kind": "VISIT", "memberId": str(uuid.uuid4()), "occurredAt": ago(1)},
    ]

    first = (await members_api(BEHAVIOUR, {"e": events}, token=token))["data"]["recordBehaviour"]
    again = (await members_api(BEHAVIOUR, {"e": events[:1]}, token=token))["data"]["recordBehaviour"]
    too_many = await members_api(BEHAVIOUR, {"e": [events[0]] * 501}, token=token)

    assert [p["__typename"] for p in first] == [
        "RecordBehaviourSuccess",
        "RecordBehaviourSuccess",
        "UnknownMemberError",
    ]
    assert again[0]["replayed"] is True
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_member_orders_page_newest_first_with_stats(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    for hours in (5, 3, 1):
        await record(members_api, tokens.ops(), order_input(member_id, externalId=f"H{hours}", occurredAt=ago(hours)))

    first = (await members_api(MEMBER_ORDERS, {"id": member_id, "first": 2}, token=tokens.staff_in("operations")))[
        "data"
    ]["member"]
    after = first["orders"]["pageInfo"]["endCursor"]
    second = await members_api(
        MEMBER_ORDERS, {"id": member_id, "first": 2, "after": after}, token=tokens.staff_in("operations")
    )
    foreign = await members_api(ORDERS, {"first": 2}, token=tokens.ops())

    assert [e["node"]["externalId"] for e in first["orders"]["edges"]] == ["H1", "H3"]
    assert [e["node"]["externalId"] for e in second["data"]["member"]["orders"]["edges"]] == ["H5"]
    assert first["orders"]["totalCount"] == 3
    stats = first["orderStats"]
    assert (stats["orderCount"], stats["totalSpentFen"], stats["averageOrderFen"]) == (3, 3600, 1200)
    assert foreign["data"]["orders"]["totalCount"] == 3


async def test_orders_filter_by_store_member_and_period(members_api: SubgraphClient, tokens: Tokens) -> None:
    one = await member(members_api, tokens)
    two = await member(members_api, tokens, "13900139000")
    await record(members_api, tokens.ops(), order_input(one, storeCode="S001", occurredAt=ago(30)))
    await record(members_api, tokens.ops(), order_input(one, storeCode="S002", occurredAt=ago(2)))
    await record(members_api, tokens.ops(), order_input(two, storeCode="S001", occurredAt=ago(1)))

    async def total(**variables: Any) -> int:
        result = await members_api(ORDERS, {"first": 10, **variables}, token=tokens.ops())
        count: int = result["data"]["orders"]["totalCount"]
        assert len(result["data"]["orders"]["edges"]) == count
        return count

    assert await total(store="S001") == 2
    assert await total(member=one) == 2
    assert await total(**{"from": ago(24)}) == 2
    assert await total(**{"from": ago(24), "to": ago(1.5), "member": one}) == 1
    naive = await members_api(ORDERS, {"first": 10, "from": "2026-01-01T00:00:00"}, token=tokens.ops())
    assert naive["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_order_by_id(members_api: SubgraphClient, tokens: Tokens) -> None:
    member_id = await member(members_api, tokens)
    order_id = (await record(members_api, tokens.ops(), order_input(member_id, externalId="X1")))["order"]["id"]

    guide = tokens.staff_in("guide", stores=("S001",))
    found = await members_api(ORDER, {"id": order_id}, token=guide)
    missing = await members_api(ORDER, {"id": str(uuid.uuid4())}, token=guide)

    assert found["data"]["order"] == {"externalId": "X1", "paidFen": 1200}
    assert missing["data"]["order"] is None


async def test_orders_are_scoped_by_the_store_that_sold_them(
    members_api: SubgraphClient, tokens: Tokens, engine: Any
) -> None:
    async with engine.begin() as connection:  # region R2 with store S003, beside R1's S001 and S002
        await connection.execute(
            text(
                "WITH r AS (INSERT INTO members.regions (id, code, name) VALUES (gen_random_uuid(), 'R2', 'R2') "
                "RETURNING id) INSERT INTO members.stores (id, code, name, region_id) "
                "SELECT gen_random_uuid(), 'S003', 'S003', id FROM r"
            )
        )
    buyer = await member(members_api, tokens)  # no home store: orders follow their store, not the buyer
    ids = {
        store: (await record(members_api, tokens.ops(), order_input(buyer, storeCode=store)))["order"]["id"]
        for store in ("S001", "S002", "S003")
    }
    guide = tokens.staff_in("guide", stores=("S001",))
    supervisor = tokens.staff_in("supervisor", regions=("R1",))
    partner = tokens.partner_for("orders:read", "orders:write", stores=("S002",))

    def listed(result: dict[str, Any]) -> list[str]:
        return sorted(edge["node"]["storeCode"] for edge in result["data"]["orders"]["edges"])

    lists = {
        name: await members_api(ORDERS, {"first": 10}, token=token)
        for name, token in (("guide", guide), ("supervisor", supervisor), ("partner", partner))
    }
    assert {name: listed(result) for name, result in lists.items()} == {
        "guide": ["S001"],
        "supervisor": ["S001", "S002"],
        "partner": ["S002"],
    }
    assert lists["supervisor"]["data"]["orders"]["totalCount"] == 2
    assert listed(await members_api(ORDERS, {"first": 10, "store": "S003"}, token=guide)) == []
    no_store = await members_api(ORDERS, {"first": 10}, token=tokens.staff_in("guide"))
    assert no_store["data"]["orders"]["totalCount"] == 0

    read = await members_api(ORDER, {"id": ids["S001"]}, token=guide)
    other = await members_api(ORDER, {"id": ids["S002"]}, token=guide)
    assert read["data"]["order"]["paidFen"] == 1200
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    here = await members_api(RECORD, {"i": order_input(buyer, storeCode="S001")}, token=guide)
    elsewhere = await members_api(RECORD, {"i": order_input(buyer, storeCode="S003")}, token=supervisor)
    mixed = await members_api(
        RECORD_MANY, {"i": [order_input(buyer, storeCode="S002"), order_input(buyer, storeCode="S003")]}, token=partner
    )
    assert here["data"]["recordOrder"]["__typename"] == "RecordOrderSuccess"
    assert elsewhere["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert mixed["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    refund = {"occurredAt": ago(0.5), "amountFen": 100}
    refused = await members_api(REFUND, {"i": {**refund, "refundId": "R1", "orderId": ids["S003"]}}, token=guide)
    refunded = await members_api(REFUND, {"i": {**refund, "refundId": "R2", "orderId": ids["S001"]}}, token=guide)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refunded["data"]["recordRefund"]["__typename"] == "RecordRefundSuccess"
    async with engine.connect() as connection:
        audited = (
            await connection.execute(
                text(
                    "SELECT action, target_type, outcome FROM members.audit_log "
                    "WHERE outcome = 'FORBIDDEN' ORDER BY action"
                )
            )
        ).all()
    assert [tuple(row) for row in audited] == [
        ("recordOrder", "order", "FORBIDDEN"),
        ("recordOrders", "order", "FORBIDDEN"),
        ("recordRefund", "order", "FORBIDDEN"),
    ]
    # A member's own history is a Member field: it follows the member (their home store), in every store.
    history = await members_api(MEMBER_ORDERS, {"id": buyer, "first": 10}, token=guide)
    assert history["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_behaviour_of_a_partner_reaches_the_members_of_its_stores(
    members_api: SubgraphClient, tokens: Tokens, engine: Any
) -> None:
    inside, outside = await member(members_api, tokens), await member(members_api, tokens, "13900139000")
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE members.members SET home_store_code = 'S001' WHERE id = :id"), {"id": inside}
        )
    events = [
        {"eventId": f"E-{who}", "kind": "VISIT", "memberId": who, "occurredAt": ago(1)} for who in (inside, outside)
    ]

    answered = await members_api(
        BEHAVIOUR, {"e": events}, token=tokens.partner_for("behaviour:write", stores=("S001",))
    )

    assert [item["__typename"] for item in answered["data"]["recordBehaviour"]] == [
        "RecordBehaviourSuccess",
        "UnknownMemberError",
    ]


async def test_order_stats_of_five_members_cost_one_select_of_orders(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    ids = [await member(members_api, tokens, f"1370013700{i}") for i in range(5)]
    for member_id in ids[:3]:
        await record(members_api, tokens.ops(), order_input(member_id))
    engine = members_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await members_api(
            STATS, {"reps": [{"__typename": "Member", "id": i} for i in ids]}, token=tokens.ops()
        )

    assert [e["orderStats"]["orderCount"] for e in result["data"]["_entities"]] == [1, 1, 1, 0, 0]
    assert len([s for s in selects if "members.orders" in s]) == 1
    assert len(selects) == 2  # the members, then their statistics
