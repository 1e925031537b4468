"""The shard's facts can be computed by parallel workers: a statement that writes never is in PostgreSQL 16, so
they are a read-only statement of their own (sql.FACTS), and nothing in it may be parallel-restricted (a CTE or a
correlated subquery referenced row by row would keep the whole aggregate of the orders in one process)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.insights import sql
from members.insights.service import refresh_params
from tests.members.insights.builders import AS_OF


async def _plan(engine: AsyncEngine, statement: str, shards: int) -> str:
    """The plan with `debug_parallel_query`: a Gather on top exactly when the whole plan is parallel-safe."""
    params = {**refresh_params(AS_OF, 0, shards), "premium_unit_fen": 1000}
    async with engine.connect() as connection, connection.begin():
        await connection.execute(text("SET LOCAL debug_parallel_query = on"))
        rows = await connection.execute(text(f"EXPLAIN (COSTS OFF) {statement}"), params)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("shards", [1, 4])
async def test_the_shards_facts_are_parallel_safe(engine: AsyncEngine, shards: int) -> None:
    # when
    plan = await _plan(engine, sql.FACTS, shards)
    # then
    assert plan.splitlines()[0].startswith("Gather"), plan


async def test_a_correlated_subquery_would_not_be(engine: AsyncEngine) -> None:
    # given the facts with the premium amount of every order summed by a subquery over its lines (as before)
    subquery = "(SELECT coalesce(sum(x.a), 0)::bigint FROM unnest(o.line_prices_fen, o.line_amounts_fen) AS x(u, a))"
    statement = sql.FACTS.replace("sum(o.lines_gross_fen)", f"sum({subquery})")
    assert statement != sql.FACTS
    # when
    plan = await _plan(engine, statement, 1)
    # then
    assert not plan.splitlines()[0].startswith("Gather"), plan
