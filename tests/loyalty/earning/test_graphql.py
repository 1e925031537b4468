"""releasePendingPoints over HTTP: paging with `limit`, and a limit out of range refused without releasing."""

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.earning.rules import local_date
from tests.loyalty.earning.factories import AN_HOUR_AGO, deliver, paid, totals
from tests.loyalty.factories import known_member
from tests.support import SubgraphClient, Tokens

RELEASE = "mutation($d: Date!, $l: Int) { releasePendingPoints(asOf: $d, limit: $l) { orders points more } }"


async def test_a_limited_call_says_whether_to_call_again(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    member = await known_member(engine)
    for paid_fen in (1_000, 2_000):
        await deliver(engine, paid(member, paid_fen))
    as_of = (local_date(AN_HOUR_AGO) + timedelta(days=7)).isoformat()

    calls = [
        (await loyalty_api(RELEASE, {"d": as_of, "l": 1}, token=tokens.ops()))["data"]["releasePendingPoints"]
        for _ in range(3)
    ]

    # Both orders are due the same day, so which goes first follows their (random) ids.
    assert [(call["orders"], call["more"]) for call in calls] == [(1, True), (1, True), (0, False)]
    assert sorted(call["points"] for call in calls) == [0, 10, 20]
    assert await totals(engine, member) == {"balance": 30, "pending": 0, "owed": 0}


@pytest.mark.parametrize("limit", [0, -1, 100_001])
async def test_a_limit_out_of_range_is_refused_and_releases_nothing(
    loyalty_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine, limit: int
) -> None:
    member = await known_member(engine)
    await deliver(engine, paid(member, 1_000))
    as_of = (local_date(AN_HOUR_AGO) + timedelta(days=7)).isoformat()

    result = await loyalty_api(RELEASE, {"d": as_of, "l": limit}, token=tokens.ops())

    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "limit must be between 1 and 100000" in result["errors"][0]["message"]
    assert await totals(engine, member) == {"balance": 0, "pending": 10, "owed": 0}
