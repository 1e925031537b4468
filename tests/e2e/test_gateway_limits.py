"""Through the real gateway: depth, alias, token and cost limits and input coercion are refused with a code, and
the cost limit refuses before any subgraph is called."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.e2e.factories import make_group, make_member
from tests.stack import Stack

SUBGRAPHS = ("members", "loyalty", "community")
NESTED_PAGE = (
    "members(first: 100) { edges { node { groups { members(first: 100) "
    "{ edges { node { member { groups { name } } } } } } } } }"
)
PAGE_WITH_GROUPS = "{ members(first: 100) { edges { node { id nickname groups { name } } } } }"
ADJUST_LITERAL = """
mutation { adjustPoints(input: {memberId: "%s", points: 1.5, reason: "x", idempotencyKey: "k"}) { __typename } }
"""
ADJUST_VARIABLE = """
mutation($points: Int!) {
  adjustPoints(input: {memberId: "%s", points: $points, reason: "x", idempotencyKey: "k"}) { __typename }
}
"""


def error_code(body: dict[str, Any]) -> Any:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


def selection(*fields: str) -> str:
    return "{ " + " ".join(fields) + " }"


def test_depth_alias_and_token_limits_are_refused_with_their_codes(stack: Stack, ops: str) -> None:
    member_id = str(uuid.uuid4())
    nested = "id"
    for _ in range(3):  # depth 17 > 12
        nested = f"groups {{ members {{ edges {{ node {{ member {{ {nested} }} }} }} }} }}"
    deep = f'{{ member(id: "{member_id}") {{ {nested} }} }}'
    aliases = selection(*(f'a{i}: member(id: "{member_id}") {{ nickname }}' for i in range(31)))
    tokens = selection(*["__typename"] * 4001)

    too_deep = stack.query(deep, token=ops).json()
    too_many_aliases = stack.query(aliases, token=ops).json()
    too_many_tokens = stack.query(tokens, token=ops).json()

    assert error_code(too_deep) == "QUERY_TOO_DEEP"
    assert error_code(too_many_aliases) == "TOO_MANY_ALIASES"
    assert error_code(too_many_tokens) == "TOO_MANY_TOKENS"
    for body in (too_deep, too_many_aliases, too_many_tokens):
        assert body.get("data") is None


def test_input_coercion_errors_are_validation_failures_at_the_gateway(stack: Stack, ops: str) -> None:
    member_id = str(uuid.uuid4())

    literal = stack.query(ADJUST_LITERAL % member_id, token=ops).json()
    variable = stack.query(ADJUST_VARIABLE % member_id, {"points": 1.5}, token=ops).json()

    assert error_code(literal) == "GRAPHQL_VALIDATION_FAILED"
    assert error_code(variable) == "GRAPHQL_VALIDATION_FAILED"
    assert "serviceName" not in variable["errors"][0]["extensions"]  # refused by the gateway itself


def test_an_expensive_query_is_refused_before_any_subgraph_is_called(stack: Stack, ops: str) -> None:
    expensive = selection(*(f"a{i}: {NESTED_PAGE}" for i in range(10)))
    request_id = f"e2e-cost-{uuid.uuid4().hex}"

    response = stack.query(expensive, token=ops, **{"x-request-id": request_id})

    body = response.json()
    assert body.get("data") is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"]["max"] == 50_000
    assert error["extensions"]["cost"]["estimated"] > 50_000
    time.sleep(0.5)  # the services write their log lines in batches, at most 50 ms after each line
    for name in SUBGRAPHS:
        assert request_id not in (stack.logs / f"{name}.log").read_text(), name


def test_a_page_of_members_with_their_groups_is_within_the_cost_limit(stack: Stack, ops: str) -> None:
    member_id = make_member(stack, ops, "13500135000")
    group = make_group(stack, ops, member_id)

    result = stack.query(PAGE_WITH_GROUPS, token=ops).json()

    assert "errors" not in result, result
    assert result["data"]["members"]["edges"][0]["node"]["groups"] == [{"name": group["name"]}]


def test_the_cost_counts_the_page_size_given_in_a_variable(stack: Stack, ops: str) -> None:
    query = "query($n: Int!) { members(first: $n) { edges { node { groups { name } } } } }"

    small = stack.query(query, {"n": 100}, token=ops).json()
    huge = stack.query(query, {"n": 10_000}, token=ops).json()

    assert "errors" not in small, small
    assert error_code(huge) == "COST_ESTIMATED_TOO_EXPENSIVE"
