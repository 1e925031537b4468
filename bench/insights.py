"""P9 member intelligence: `refreshInsights` (RFM, the ten stages, history, audience facts, consumer types and
stage events, set-based in PostgreSQL) beside Polars on the same generated brand (`yutang_dev.seed`), and
`previewAudience` p50 for three typical rules.

Three baselines, measured in the same run: Polars doing the refresh's whole work (bench/insights_full.py: extract,
compute every column the refresh writes, COPY the rows back, merge them into copies of the refresh's tables with
the transitions and events), which is the goal's baseline; the same without the merge (the lighter baseline,
kept so that the earlier ratios stay comparable); and the oldest, smallest one (extract and compute RFM and stages
only). The refresh runs through the service function (one transaction, the SQL the mutation runs). Results are
compared member by member (every column, the transitions and the events for the full baseline): a mismatch is
reported, since a fast wrong answer is no answer.

python -m bench --only insights [--insights-members 100000 --insights-orders 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import statistics
import time
from datetime import date, timedelta
from typing import Any

import polars as pl

from bench.insights_full import COLUMNS, FullTimes, compare, drop_scratch, full_path, prepare_scratch
from members.audiences.service import preview_audience
from members.insights.rules import DEFAULT_CONFIG
from members.insights.service import day_start, refresh_insights
from members.uow import MembersUnitOfWork
from yutang_dev.importer.common import connect
from yutang_dev.seed import seed
from yutang_shared.db import create_engine, session_factory

AS_OF = date(2026, 11, 30)
RULES: dict[str, dict[str, Any]] = {
    "win back big spenders (stage ∈ at risk/dormant ∧ spend ≥ 500 元)": {
        "all": [
            {"condition": "lifecycle_stage", "in": ["at_risk", "dormant"]},
            {"condition": "total_spend_fen", "min": 50_000},
        ]
    },
    "VIP care (segment important value/keep ∨ 4+ orders in 2 years, bought in 90 days)": {
        "all": [
            {
                "any": [
                    {"condition": "rfm_segment", "in": ["important_value", "important_keep"]},
                    {"condition": "orders_two_years", "min": 4},
                ]
            },
            {"condition": "bought_within", "days": 90},
        ]
    },
    "discount push (discount type ∧ carted in 30 days ∧ not bought in 30 days)": {
        "all": [
            {"condition": "consumer_type", "in": ["discount"]},
            {"condition": "carted_within", "days": 30},
            {"condition": "bought_within", "days": 30, "negate": True},
        ]
    },
}

_ORDERS = (
    "SELECT member_id, extract(epoch FROM occurred_at)::bigint, paid_fen - refunded_fen FROM members.orders "
    "WHERE occurred_at < '{until}' AND refunded_fen < paid_fen"
)
_MEMBERS = "SELECT id, status, coalesce(consent, '') FROM members.members WHERE registered_at < '{until}'"


def _disc(values: pl.Series, q: float) -> float:
    """percentile_disc(q) of sorted values: the first whose cumulative share reaches q."""
    found: float = values.cast(pl.Float64).to_list()[max(math.ceil(q * len(values)) - 1, 0)]
    return found


def polars_rfm(members: pl.DataFrame, orders: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """RFM scores, segments and stages by the rules of members/insights/sql.py."""
    c = DEFAULT_CONFIG
    today = (as_of - date(1970, 1, 1)).days
    o = orders.with_columns(day=((pl.col("epoch") + 8 * 3600) // 86_400).cast(pl.Int32))
    start = today - c.window_days + 1
    per = (
        o.group_by("member_id")
        .agg(
            orders_total=pl.len(),
            last_day=pl.col("day").max(),
            f=(pl.col("day") >= start).sum(),
            m=pl.col("net").filter(pl.col("day") >= start).sum(),
            orders_365=(pl.col("day") > today - 365).sum(),
            return_day=pl.col("day").filter(pl.col("day") >= today - c.won_back_days).min(),
            before=pl.col("day").filter(pl.col("day") < today - c.won_back_days).max(),
        )
        .with_columns(r=today - pl.col("last_day"))
    )
    buyers = per.filter(pl.col("f") > 0)
    qs = (0.2, 0.4, 0.6, 0.8)
    bounds = {k: [_disc(buyers[k].sort(), q) for q in qs] for k in ("r", "f", "m")}
    avg = {k: float(buyers[k].cast(pl.Float64).mean() or 0.0) for k in ("r", "f", "m")}  # type: ignore[arg-type]

    def above(column: str) -> pl.Expr:
        return sum((pl.col(column) > b).cast(pl.Int32) for b in bounds[column])  # type: ignore[return-value]

    bought = pl.col("f") > 0
    frame = members.join(per, left_on="id", right_on="member_id", how="left").with_columns(
        r_score=pl.when(bought).then(5 - above("r")),
        f_score=pl.when(bought).then(1 + above("f")),
        m_score=pl.when(bought).then(1 + above("m")),
        segment=pl.when(bought).then(
            pl.concat_str(
                pl.when(pl.col("m") > avg["m"]).then(pl.lit("important_")).otherwise(pl.lit("general_")),
                pl.when((pl.col("r") < avg["r"]) & (pl.col("f") > avg["f"]))
                .then(pl.lit("value"))
                .when(pl.col("r") < avg["r"])
                .then(pl.lit("develop"))
                .when(pl.col("f") > avg["f"])
                .then(pl.lit("keep"))
                .otherwise(pl.lit("retain")),
            )
        ),
    )
    total = pl.col("orders_total").fill_null(0)
    stage = (
        pl.when((pl.col("status") == "closed") | (pl.col("consent") == "withdrawn"))
        .then(pl.lit("closed"))
        .when(
            pl.col("return_day").is_not_null()
            & pl.col("before").is_not_null()
            & (pl.col("return_day") - pl.col("before") >= c.away_days)
        )
        .then(pl.lit("won_back"))
        .when(pl.col("r") > c.dormant_days)
        .then(pl.lit("churned"))
        .when(pl.col("r") > c.at_risk_days)
        .then(pl.lit("dormant"))
        .when(pl.col("r") > c.active_days)
        .then(pl.lit("at_risk"))
        .when((pl.col("orders_365") >= c.loyal_orders) & bought & (pl.col("m") > bounds["m"][3]))
        .then(pl.lit("high_value"))
        .when(pl.col("orders_365") >= c.loyal_orders)
        .then(pl.lit("loyal"))
        .when(total >= 2)
        .then(pl.lit("repeat"))
        .when(total == 1)
        .then(pl.lit("new"))
        .otherwise(pl.lit("prospect"))
    )
    scores = [pl.col(k).cast(pl.Int32) for k in ("r_score", "f_score", "m_score")]
    return frame.select(pl.col("id").cast(pl.Utf8), stage.alias("stage"), "segment", *scores)


async def _copy_out(connection: Any, query: str) -> io.BytesIO:
    buffer = io.BytesIO()
    await connection.copy_from_query(query, output=buffer, format="csv")
    buffer.seek(0)
    return buffer


async def polars_path(database_url: str, as_of: date) -> tuple[pl.DataFrame, float, float]:
    """The baseline: extract, compute; (result, extract seconds, compute seconds)."""
    until = day_start(as_of + timedelta(days=1)).isoformat()
    started = time.perf_counter()
    connection = await connect(database_url)
    try:
        orders_csv = await _copy_out(connection, _ORDERS.format(until=until))
        members_csv = await _copy_out(connection, _MEMBERS.format(until=until))
    finally:
        await connection.close()
    orders = pl.read_csv(orders_csv, has_header=False, new_columns=["member_id", "epoch", "net"])
    members = pl.read_csv(members_csv, has_header=False, new_columns=["id", "status", "consent"])
    extracted = time.perf_counter()
    result = polars_rfm(members, orders, as_of)
    return result, extracted - started, time.perf_counter() - extracted


async def database_result(database_url: str) -> pl.DataFrame:
    query = "SELECT member_id, stage, segment, r_score, f_score, m_score FROM members.member_insights"
    connection = await connect(database_url)
    try:
        buffer = await _copy_out(connection, query)
    finally:
        await connection.close()
    names = ["id", "stage", "segment", "r_score", "f_score", "m_score"]
    types = {"id": pl.Utf8, "stage": pl.Utf8, "segment": pl.Utf8, "r_score": pl.Int32, "f_score": pl.Int32}
    return pl.read_csv(buffer, has_header=False, new_columns=names, schema_overrides={**types, "m_score": pl.Int32})


async def _polars_full(database_url: str) -> FullTimes:
    """The same work as the refresh with Polars (bench/insights_full.py), from copies of the refresh's tables as
    they are now (made untimed)."""
    connection = await connect(database_url)
    try:
        await prepare_scratch(connection)
        _, times = await full_path(connection, AS_OF)
        return times
    finally:
        await connection.close()


async def _compare(database_url: str, *, drop: bool = False) -> dict[str, int]:
    """Per-column mismatches of the stored rows against the Polars path's merged copies, transitions and events
    on one side only (`drop`: then drop the copies)."""
    connection = await connect(database_url)
    try:
        found = await compare(connection)
        if drop:
            await drop_scratch(connection)
        return found
    finally:
        await connection.close()


async def _previews(sessions: Any, previews: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for name, rule in RULES.items():
        for _ in range(previews):
            t0 = time.perf_counter()
            size = await preview_audience(MembersUnitOfWork(sessions), rule=json.loads(json.dumps(rule)), scope=None)
            timings.setdefault(name, []).append(time.perf_counter() - t0)
        timings[name + f" → {size:,} members"] = timings.pop(name)
    return timings


async def measure_insights(database_url: str, *, members: int, orders: int, previews: int = 15) -> dict[str, float]:
    """Seed, then `measure_seeded`."""
    print(f"P9 member intelligence: seeding {members:,} members / {orders:,} orders…", flush=True)
    seeded = await seed(database_url, members=members, orders=orders, as_of=AS_OF)
    print(f"    seeded in {seeded.seconds:.1f} s ({seeded.behaviour:,} behaviour events)", flush=True)
    return await measure_seeded(database_url, previews=previews)


# What the refresh wrote, so that a kept database measures a first run again (`--reset`).
_RESET = (
    "DELETE FROM members.outbox WHERE type = 'member.stage-changed'; DELETE FROM members.stage_transitions; "
    "DELETE FROM members.member_insights; DELETE FROM members.insight_baselines"
)


async def measure_seeded(database_url: str, *, previews: int = 15, reset: bool = False) -> dict[str, float]:
    """On a seeded database (`reset`: forget every refresh first), side by side: Polars doing the same work (before
    the refresh: the first run's state), the refresh, its re-run, Polars RFM and stages only (the old baseline),
    Polars doing the same work again (the re-run's state), the comparisons, the previews; prints and returns the
    figures."""
    if reset:
        connection = await connect(database_url)
        await connection.execute(_RESET)
        await connection.close()
    engine = create_engine(database_url, pool_size=2)
    sessions = session_factory(engine)
    try:
        connection = await connect(database_url)
        await connection.execute("VACUUM ANALYZE")
        await connection.close()
        loads = [os.getloadavg()[0]]
        full_first = await _polars_full(database_url)
        started = time.perf_counter()
        first = await refresh_insights(MembersUnitOfWork(sessions), as_of=AS_OF)
        refresh_s = time.perf_counter() - started
        columns_first = await _compare(database_url)
        started = time.perf_counter()
        again = await refresh_insights(MembersUnitOfWork(sessions), as_of=AS_OF)
        rerun_s = time.perf_counter() - started
        result, extract_s, compute_s = await polars_path(database_url, AS_OF)
        polars_s = extract_s + compute_s
        full_again = await _polars_full(database_url)
        columns = await _compare(database_url, drop=True)
        loads.append(os.getloadavg()[0])
        stored = await database_result(database_url)
        joined = stored.join(result, on="id", how="full", suffix="_pl")
        mismatches = joined.filter(
            pl.any_horizontal(
                pl.col(k).ne_missing(pl.col(f"{k}_pl")) for k in ("stage", "segment", "r_score", "f_score", "m_score")
            )
        ).height
        timings = await _previews(sessions, previews)
    finally:
        await engine.dispose()
    stages = result.group_by("stage").len().sort("stage")
    full_s, full_rerun_s = full_first.total, full_again.total
    counts = {  # the refresh's transitions and events against the Polars merge's, first run and re-run
        "first run": (first.transitions, full_first.transitions, full_first.events),
        "re-run": (again.transitions, full_again.transitions, full_again.events),
    }
    count_mismatches = sum(ours != theirs for ours, *polars in counts.values() for theirs in polars)
    differing = {
        f"{label}: {k}": v
        for label, found in (("first run", columns_first), ("re-run", columns))
        for k, v in found.items()
        if v
    }
    print(
        f"    refreshInsights (1 shard): {refresh_s:.2f} s for {first.members:,} members, {first.transitions:,} "
        f"transitions / events (the date's baseline included); re-run of the same date {rerun_s:.2f} s "
        f"({again.transitions} transitions)"
    )
    for label, times in (("before the refresh", full_first), ("after the re-run", full_again)):
        print(
            f"    Polars, same work ({label}): {times.total:.2f} s (extract {times.extract:.2f} s, compute "
            f"{times.compute:.2f} s, COPY back {times.write:.2f} s, merge {times.merge:.2f} s: {times.upserted:,} "
            f"rows, {times.transitions:,} transitions, {times.events:,} events); lighter baseline without the "
            f"merge {times.light:.2f} s"
        )
    print(
        f"    Polars, RFM and stages only (the old baseline): {polars_s:.2f} s (extract {extract_s:.2f} s, "
        f"compute {compute_s:.2f} s)"
    )
    print(
        f"    ratio refresh / Polars same work with the merge (the goal, ≤ 1.0×): first run {refresh_s / full_s:.2f}×, "
        f"re-run {rerun_s / full_rerun_s:.2f}×"
    )
    print(
        f"    ratio refresh / Polars without the merge (lighter baseline): first run "
        f"{refresh_s / full_first.light:.2f}×, re-run {rerun_s / full_again.light:.2f}×"
    )
    print(
        f"    ratio refresh / Polars RFM and stages only (old): first run {refresh_s / polars_s:.2f}×, "
        f"re-run {rerun_s / polars_s:.2f}×"
    )
    print(
        f"    mismatches: stage, segment, scores {mismatches}; all {len(COLUMNS) - 1} columns, transitions and "
        f"events, members differing {differing or 'none'}; transitions / events counted (refresh, Polars, Polars) "
        f"{counts}{' DIFFER' if count_mismatches else ''}; load average {loads[0]:.1f} → {loads[1]:.1f}"
    )
    print("    stages: " + ", ".join(f"{s} {n:,}" for s, n in stages.iter_rows()))
    for name, values in timings.items():
        print(f"    previewAudience p50 {statistics.median(values) * 1000:.0f} ms  {name}")
    return {
        "refresh_s": refresh_s,
        "rerun_s": rerun_s,
        "polars_full_s": full_s,
        "polars_full_rerun_s": full_rerun_s,
        "polars_s": polars_s,
        "ratio": refresh_s / full_s,
        "ratio_rerun": rerun_s / full_rerun_s,
        "polars_light_s": full_first.light,
        "ratio_light": refresh_s / full_first.light,
        "ratio_rfm_only": refresh_s / polars_s,
        "mismatches": mismatches + sum(columns_first.values()) + sum(columns.values()) + count_mismatches,
    }


def run(database_url: str, *, members: int, orders: int) -> dict[str, float]:
    return asyncio.run(measure_insights(database_url, members=members, orders=orders))


def main(argv: list[str] | None = None) -> int:
    """Measure again on a database seeded earlier (a kept bench database, or `yutang_dev seed`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.insights", description=main.__doc__)
    parser.add_argument("--database-url", required=True, help="postgresql+asyncpg://… of the seeded database")
    parser.add_argument("--reset", action="store_true", help="delete every refresh's rows first (a first run again)")
    args = parser.parse_args(argv)
    asyncio.run(measure_seeded(args.database_url, reset=args.reset))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
