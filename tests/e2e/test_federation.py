"""Through the real gateway: the federated member query, authentication, authorisation and the trust boundary."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from tests.e2e.factories import make_group, make_member
from tests.stack import Stack
from tests.support import Tokens

MEMBER = "query($id: UUID!) { member(id: $id) { nickname loyalty { balance } groups { name } } }"


def test_one_query_reads_a_member_across_three_services(stack: Stack, ops: str) -> None:
    member_id = make_member(stack, ops, "13800138000", points=500)
    group = make_group(stack, ops, member_id)

    result = stack.query(MEMBER, {"id": member_id}, token=ops).json()

    assert "errors" not in result, result
    assert result["data"]["member"] == {
        "nickname": "小鱼",
        "loyalty": {"balance": 500},
        "groups": [{"name": group["name"]}],
    }


def test_a_member_reads_themself_but_not_another_member(stack: Stack, ops: str, tokens: Tokens) -> None:
    me = make_member(stack, ops, "13900139000", points=20)
    other = make_member(stack, ops, "13700137000", points=30)

    mine = stack.query(MEMBER, {"id": me}, token=tokens.member(me)).json()
    theirs = stack.query(MEMBER, {"id": other}, token=tokens.member(me)).json()

    assert mine["data"]["member"]["loyalty"] == {"balance": 20}
    assert theirs["data"]["member"] is None
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_request_without_a_valid_token_is_rejected(stack: Stack) -> None:
    missing = stack.query(MEMBER, {"id": str(uuid.uuid4())}, token=None)
    forged = stack.query(MEMBER, {"id": str(uuid.uuid4())}, token="eyJhbGciOiJub25lIn0.e30.")

    for response in (missing, forged):
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_direct_call_to_a_subgraph_is_rejected(stack: Stack, ops: str) -> None:
    for name in ("members", "loyalty", "community"):
        response = httpx.post(
            stack.subgraph(name),
            json={"query": '{ _entities(representations: [{__typename: "Member", id: "x"}]) { __typename } }'},
            headers={"authorization": f"Bearer {ops}"},
        )

        assert response.status_code == 403, name
        assert response.json()["errors"][0]["extensions"]["code"] == "GATEWAY_SIGNATURE_REQUIRED"


def test_the_request_id_follows_a_request_into_every_subgraph(stack: Stack, ops: str) -> None:
    member_id = make_member(stack, ops, "13600136000", points=1)
    request_id = f"e2e-{uuid.uuid4().hex}"

    response = stack.query(MEMBER, {"id": member_id}, token=ops, **{"x-request-id": request_id})

    assert response.headers["x-request-id"] == request_id
    for name in ("members", "loyalty", "community"):
        # A subgraph writes its access line after sending the response: give a loaded machine a moment.
        assert _eventually_logged(stack.logs / f"{name}.log", request_id), name


def _eventually_logged(log: Path, text: str, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while text not in log.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_gateway_refuses_queries_past_the_depth_and_alias_limits(stack: Stack, ops: str) -> None:
    member_id = str(uuid.uuid4())
    aliases = " ".join(f'a{i}: member(id: "{member_id}") {{ nickname }}' for i in range(31))
    selection = "id"
    for _ in range(3):  # three member → groups → members → member hops: depth 17 > 12
        selection = f"groups {{ members {{ edges {{ node {{ member {{ {selection} }} }} }} }} }}"
    deep = f'{{ member(id: "{member_id}") {{ {selection} }} }}'

    too_many = stack.query(f"{{ {aliases} }}", token=ops).json()
    too_deep = stack.query(deep, token=ops).json()
    allowed = stack.query(f"{{ {aliases.rsplit(' a30:', 1)[0]} }}", token=ops).json()

    assert too_many.get("data") is None
    assert too_many["errors"]
    assert too_deep.get("data") is None
    assert "depth" in too_deep["errors"][0]["message"].lower()
    assert "errors" not in allowed
