"""The loyalty subgraph over HTTP: adjustments, typed errors, batches, permissions, entity loading."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.loyalty.factories import known_member, known_members
from tests.queries import count_selects, count_statements
from tests.support import SubgraphClient, Tokens
from yutang_shared.auth import Role

ADJUST = """
mutation($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    __typename
    ... on AdjustPointsSuccess { replayed entry { points balanceAfter reason actor } account { balance } }
    ... on InsufficientPointsError { code balance requested }
    ... on IdempotencyKeyReusedError { code }
    ... on InvalidAdjustmentError { code }
    ... on LoyaltyUnknownMemberError { code memberId }
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


async def test_adjusting_returns_the_entry_and_the_new_balance(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    member = await known_member(engine)

    result = await loyalty_api(ADJUST, adjustment(member, 300, "k1"), token=tokens.ops())

    payload = result["data"]["adjustPoints"]
    assert payload["__typename"] == "AdjustPointsSuccess"
    assert payload["entry"] == {"points": 300, "balanceAfter": 300, "reason": "客服补偿", "actor": "ops-test"}
    assert payload["account"] == {"balance": 300}
    assert payload["replayed"] is False


async def test_replaying_a_key_applies_once(loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await loyalty_api(ADJUST, adjustment(member, 300, "k1"), token=tokens.ops())

    again = (await loyalty_api(ADJUST, adjustment(member, 300, "k1"), token=tokens.ops()))["data"]["adjustPoints"]
    reused = (await loyalty_api(ADJUST, adjustment(member, 1, "k1"), token=tokens.ops()))["data"]["adjustPoints"]

    assert again["replayed"] is True
    assert again["account"] == {"balance": 300}
    assert reused == {"__typename": "IdempotencyKeyReusedError", "code": "LOYALTY_IDEMPOTENCY_KEY_REUSED"}


async def test_overdrawing_is_a_typed_error(loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    member = await known_member(engine)
    await loyalty_api(ADJUST, adjustment(member, 100, "k1"), token=tokens.ops())

    result = await loyalty_api(ADJUST, adjustment(member, -101, "k2"), token=tokens.ops())

    assert result["data"]["adjustPoints"] == {
        "__typename": "InsufficientPointsError",
        "code": "LOYALTY_INSUFFICIENT_POINTS",
        "balance": 100,
        "requested": -101,
    }


async def test_malformed_adjustments_are_typed_errors(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    zero = await loyalty_api(ADJUST, adjustment(uuid.uuid4(), 0, "k"), token=tokens.ops())
    blank = await loyalty_api(ADJUST, adjustment(uuid.uuid4(), 5, "k", reason=" "), token=tokens.ops())

    assert zero["data"]["adjustPoints"]["code"] == "LOYALTY_INVALID_ADJUSTMENT"
    assert blank["data"]["adjustPoints"]["code"] == "LOYALTY_INVALID_ADJUSTMENT"


async def test_batches_answer_per_item_and_retry_safely(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    rich, poor = await known_members(engine, 2)
    inputs = [adjustment(rich, 50, "b:rich")["input"], adjustment(poor, -5, "b:poor")["input"]]

    first = (await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.service("points:write")))["data"]
    retry = (await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.service("points:write")))["data"]

    assert [p["__typename"] for p in first["adjustPointsBatch"]] == ["AdjustPointsSuccess", "InsufficientPointsError"]
    assert retry["adjustPointsBatch"][0] == {
        "__typename": "AdjustPointsSuccess",
        "replayed": True,
        "account": {"balance": 50},
    }


async def test_batches_are_capped(loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    inputs = [adjustment(uuid.uuid4(), 1, f"cap-{i}")["input"] for i in range(101)]

    result = await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.ops())

    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    balances = await loyalty_api(ACCOUNT, {"id": inputs[0]["memberId"]}, token=tokens.ops())
    assert balances["data"]["loyaltyAccount"]["balance"] == 0


async def test_who_may_read_and_write_points(loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    me, other = await known_member(engine), uuid.uuid4()
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


async def test_five_member_balances_cost_one_select(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    members = await known_members(engine, 5)
    for i, member in enumerate(members):
        await loyalty_api(ADJUST, adjustment(member, i + 1, f"q-{i}"), token=tokens.ops())
    reps = [{"__typename": "Member", "id": str(m)} for m in members]
    engine = loyalty_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as selects:
        result = await loyalty_api(ENTITIES, {"reps": reps}, token=tokens.ops())

    assert [e["loyalty"]["balance"] for e in result["data"]["_entities"]] == [1, 2, 3, 4, 5]
    assert len(selects) == 1


async def test_an_adjustment_is_six_statements(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    member = await known_member(engine)
    engine = loyalty_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_statements(engine, "") as statements:
        result = await loyalty_api(ADJUST, adjustment(member, 40, "qc-1"), token=tokens.ops())

    assert result["data"]["adjustPoints"]["account"] == {"balance": 40}
    # The directory check, the account lock (created if new), the key lookup, the append that also moves the
    # balance and writes the lot, and the points.balance-changed event (the outbox insert and its NOTIFY);
    # nothing re-read.
    assert len(statements) == 6, statements


async def test_a_batch_of_a_hundred_is_six_statements(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    members = await known_members(engine, 10)
    inputs = [
        {"memberId": str(members[i % 10]), "points": 10, "reason": "batch", "idempotencyKey": f"qc-b-{i}"}
        for i in range(100)
    ]
    engine = loyalty_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_statements(engine, "") as statements:
        result = await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.ops())

    balances = [item["account"]["balance"] for item in result["data"]["adjustPointsBatch"]]
    assert balances == [10 * (i // 10 + 1) for i in range(100)]
    assert len(statements) == 6, statements  # the same six statements, whatever the batch size


async def test_each_batch_item_answers_the_balance_its_write_produced(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given one member credited +10, +20, +30 in one batch
    member = str(await known_member(engine))
    inputs = [{"memberId": member, "points": p, "reason": "r", "idempotencyKey": f"seq-{p}"} for p in (10, 20, 30)]

    # when
    result = await loyalty_api(BATCH, {"inputs": inputs}, token=tokens.ops())

    # then each item's account carries its own balance, not the first one's
    assert [item["account"]["balance"] for item in result["data"]["adjustPointsBatch"]] == [10, 30, 60]


ALIASED = """
mutation($m: UUID!) {
  a: adjustPoints(input: {memberId: $m, points: 10, reason: "r", idempotencyKey: "alias-a"}) {
    ... on AdjustPointsSuccess { entry { balanceAfter } account { balance } }
  }
  b: adjustPoints(input: {memberId: $m, points: 20, reason: "r", idempotencyKey: "alias-b"}) {
    ... on AdjustPointsSuccess { entry { balanceAfter } account { balance } }
  }
}
"""


async def test_aliased_adjustments_answer_their_own_balances(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    result = await loyalty_api(ALIASED, {"m": str(await known_member(engine))}, token=tokens.ops())

    data = result["data"]
    assert [data["a"]["account"]["balance"], data["b"]["account"]["balance"]] == [10, 30]
    assert [data["a"]["entry"]["balanceAfter"], data["b"]["entry"]["balanceAfter"]] == [10, 30]


async def test_idempotency_keys_belong_to_their_caller(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given two partners that both use their order id "order-1" as the key
    member = await known_member(engine)
    first = tokens._issue(Role.PARTNER, "partner-a", ("points:write",))
    second = tokens._issue(Role.PARTNER, "partner-b", ("points:write",))

    # when each adjusts with the same key (the second with a different amount)
    a = await loyalty_api(ADJUST, adjustment(member, 40, "order-1"), token=first)
    b = await loyalty_api(ADJUST, adjustment(member, 70, "order-1"), token=second)
    replay = await loyalty_api(ADJUST, adjustment(member, 40, "order-1"), token=second)

    # then both applied; the second partner cannot replay the first one's key to read its result
    assert a["data"]["adjustPoints"]["replayed"] is False
    assert b["data"]["adjustPoints"]["replayed"] is False
    assert b["data"]["adjustPoints"]["account"]["balance"] == 110
    assert replay["data"]["adjustPoints"]["__typename"] == "IdempotencyKeyReusedError"
