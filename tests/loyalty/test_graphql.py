"""The loyalty subgraph over HTTP: adjustments, typed errors, batches, permissions, entity loading."""

import uuid
from typing import Any

from tests.queries import count_selects
from tests.support import SubgraphClient, Tokens

ADJUST = """
mutation($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    __typename
    ... on AdjustPointsSuccess { replayed entry { points balanceAfter reason actor } account { balance } }
    ... on InsufficientPointsError { code balance requested }
    ... on IdempotencyKeyReusedError { code }
    ... on InvalidAdjustmentError { code }
  }
}
"""
BATCH = """
mutation($inputs: [AdjustPointsInput!]!) {
  adjustPointsBatch(inputs: $inputs) {
    __typename
    ... on AdjustPointsSuccess { replayed account { balance } }
    ... on Error { message }
  }
}
"""
ACCOUNT = """
query($id: UUID!) {
  loyaltyAccount(memberId: $id) { balance entries(first: 10) { edges { node { points reason } } } }
}
"""
ENTITIES = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Member { id loyalty { balance } } } }"


def adjustment(member: uuid.UUID | str, points: int, key: str, reason: str = "客服补偿") -> dict[str, Any]:
    return {"input": {"memberId": str(member), "points": points, "reason": reason, "idempotencyKey": key}}


async def test_adjusting_returns_the_entry_and_the_new_balance(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    member = uuid.uuid4()

    result = await loyalty_api(ADJUST, adjustment(member, 300, "k1"), token=tokens.ops())

    payload = result["data"]["adjustPoints"]
    assert payload["__typename"] == "AdjustPointsSuccess"
    assert payload["entry"] == {"points": 300, "balanceAfter": 300, "reason": "客服补偿", "actor": "ops-test"}
    assert payload["account"] == {"balance": 300}
    assert payload["replayed"] is False


async def test_replaying_a_key_applies_once(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    member = uuid.uuid4()
    await loyalty_api(ADJUST, adjustment(member, 300, "k1"), token=tokens.ops())

    again = (await loyalty_api(ADJUST, adjustment(member, 300, "k1"), token=tokens.ops()))["data"]["adjustPoints"]
    reused = (await loyalty_api(ADJUST, adjustment(member, 1, "k1"), token=tokens.ops()))["data"]["adjustPoints"]

    assert again["replayed"] is True
    assert again["account"] == {"balance": 300}
    assert reused == {"__typename": "IdempotencyKeyReusedError", "code": "LOYALTY_IDEMPOTENCY_KEY_REUSED"}


async def test_overdrawing_is_a_typed_error(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    member = uuid.uuid4()
    await loyalty_api(ADJUST, adjustment(member, 100, "k1"), token=tokens.ops())

    result = await loyalty_api(ADJUST, adjustment(member, -101, "k2"), token=tokens.ops())

    assert result["data"]["adjustPoints"] == {
        "__typename": "InsufficientPointsError",
        "code": "LOYALTY_INSUFFICIENT_POINTS",
        "balance": 100,
        "requested": -101,
    }


async def test_malformed_adjustments_are_typed_errors(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    zero = await loyalty_api(ADJUST, adjustment(uuid.uuid4(), 0, "k"), token=tokens.ops())
    blank = await loyalty_api(ADJUST, adjustment(uuid.uuid4(), 5, "k", reason=" "), token=tokens.ops())

    assert zero["data"]["adjustPoints"]["code"] == "LOYALTY_INVALID_ADJUSTMENT"
    assert blank["data"]["adjustPoints"]["code"] == "LOYALTY_INVALID_ADJUSTMENT"


async def test_batches_answer_per_item_and_retry_safely(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    rich, poor = uuid.uuid4(), uuid.uuid4()
    inputs = [adjustment(rich, 50, "b:rich")["input"], adjustment(poor, -5, "b:poor")["input"]]

    first = (await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.service("points:write")))["data"]
    retry = (await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.service("points:write")))["data"]

    assert [p["__typename"] for p in first["adjustPointsBatch"]] == ["AdjustPointsSuccess", "InsufficientPointsError"]
    assert retry["adjustPointsBatch"][0] == {
        "__typename": "AdjustPointsSuccess",
        "replayed": True,
        "account": {"balance": 50},
    }


async def test_batches_are_capped(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    inputs = [adjustment(uuid.uuid4(), 1, f"cap-{i}")["input"] for i in range(101)]

    result = await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.ops())

    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    balances = await loyalty_api(ACCOUNT, {"id": inputs[0]["memberId"]}, token=tokens.ops())
    assert balances["data"]["loyaltyAccount"]["balance"] == 0


async def test_who_may_read_and_write_points(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    await loyalty_api(ADJUST, adjustment(me, 10, "k1"), token=tokens.ops())

    mine = await loyalty_api(ACCOUNT, {"id": str(me)}, token=tokens.member(me))
    theirs = await loyalty_api(ACCOUNT, {"id": str(other)}, token=tokens.member(me))
    self_grant = await loyalty_api(ADJUST, adjustment(me, 1000, "k2"), token=tokens.member(me))
    staff_grant = await loyalty_api(ADJUST, adjustment(me, 1000, "k3"), token=tokens.staff())
    partner_read = await loyalty_api(ACCOUNT, {"id": str(me)}, token=tokens.partner("points:read"))

    assert mine["data"]["loyaltyAccount"]["balance"] == 10
    assert mine["data"]["loyaltyAccount"]["entries"]["edges"] == [{"node": {"points": 10, "reason": "客服补偿"}}]
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert self_grant["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert staff_grant["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert partner_read["data"]["loyaltyAccount"]["balance"] == 10


async def test_five_member_balances_cost_one_select(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    members = [uuid.uuid4() for _ in range(5)]
    for i, member in enumerate(members):
        await loyalty_api(ADJUST, adjustment(member, i + 1, f"q-{i}"), token=tokens.ops())
    reps = [{"__typename": "Member", "id": str(m)} for m in members]
    engine = loyalty_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await loyalty_api(ENTITIES, {"reps": reps}, token=tokens.ops())

    assert [e["loyalty"]["balance"] for e in result["data"]["_entities"]] == [1, 2, 3, 4, 5]
    assert len(selects) == 1


async def test_an_adjustment_reads_two_rows_and_no_more(loyalty_api: SubgraphClient, tokens: Tokens) -> None:
    member = uuid.uuid4()
    engine = loyalty_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await loyalty_api(ADJUST, adjustment(member, 40, "qc-1"), token=tokens.ops())

    assert result["data"]["adjustPoints"]["account"] == {"balance": 40}
    assert len(selects) == 2, selects  # the account lock and the key lookup; the new balance is not re-read
