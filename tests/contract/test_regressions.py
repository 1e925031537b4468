"""Inputs the contract runs once found, kept as explicit examples so they are tried on every run."""

from __future__ import annotations

import uuid

import pytest

from tests.support import SubgraphClient, Tokens
from yutang_shared.connections import encode_cursor

# schemathesis found that a cursor with a year-1 timestamp reached asyncpg and came back masked (a flaky
# "server error"); a position no row of ours can have is now refused as bad input before any SQL runs.
YEAR_ONE = "0001-01-01T00:00:00+00:00"

LISTS = {
    "members": ("members", "query($after: Cursor) { members(first: 5, after: $after) { edges { cursor } } }"),
    "community": ("groups", "query($after: Cursor) { groups(first: 5, after: $after) { edges { cursor } } }"),
    "loyalty": (
        "ledger",
        "query($after: Cursor, $m: UUID!) { loyaltyAccount(memberId: $m) "
        "{ entries(first: 5, after: $after) { edges { cursor } } } }",
    ),
}


@pytest.mark.parametrize("service", sorted(LISTS))
@pytest.mark.parametrize("position", [YEAR_ONE, "9999-12-31T23:59:59+14:00", "2026-01-01T00:00:00"])
async def test_an_impossible_cursor_position_is_bad_input(
    service: str,
    position: str,
    members_api: SubgraphClient,
    loyalty_api: SubgraphClient,
    community_api: SubgraphClient,
    tokens: Tokens,
) -> None:
    api = {"members": members_api, "loyalty": loyalty_api, "community": community_api}[service]
    name, query = LISTS[service]

    result = await api(
        query, {"after": encode_cursor(name, position, str(uuid.uuid4())), "m": str(uuid.uuid4())}, token=tokens.ops()
    )

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("service", sorted(LISTS))
async def test_a_cursor_of_another_list_is_bad_input(
    service: str,
    members_api: SubgraphClient,
    loyalty_api: SubgraphClient,
    community_api: SubgraphClient,
    tokens: Tokens,
) -> None:
    api = {"members": members_api, "loyalty": loyalty_api, "community": community_api}[service]
    _, query = LISTS[service]
    foreign = encode_cursor("some-other-list", "2026-01-01T00:00:00+00:00", str(uuid.uuid4()))

    result = await api(query, {"after": foreign, "m": str(uuid.uuid4())}, token=tokens.ops())

    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
