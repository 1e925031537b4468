"""The P9 baseline doing the refresh's whole work with Polars: extract the rows (COPY out), compute every column the
refresh writes to `members.member_insights` (RFM, segment, stage and its history, the audience facts, the extra
indicators, consumer types, expected repurchase date, by the rules of members/insights/sql.py), COPY the result into
a temporary table (the lighter baseline stops here: `FullTimes.light`), then merge it as the refresh does, in one
transaction: the changed rows upserted into a copy of `members.member_insights`, the stage transitions into a copy
of `members.stage_transitions` and a `member.stage-changed` event per new or changed transition into a copy of
`members.outbox` (`FullTimes.total`, the like-for-like baseline). The copies live in the schema `bench_polars`,
made by `prepare_scratch` before each timed run (untimed): the same columns, indexes, constraints and foreign keys
as the real tables, holding the real tables' rows, so the merge starts from the state the refresh starts from.

`compare` then counts, column by column, the members whose stored row differs from the merged copy, and the
transitions and events present on one side only.
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from members.insights.rules import DEFAULT_CONFIG, window_start
from members.insights.service import day_start
from members.insights.sql import CHANNELS

US = 1_000_000
DAY_US = 86_400 * US
LOCAL_OFFSET_US = 8 * 3600 * US  # Asia/Shanghai: UTC+8, no daylight saving since 1991
QS = (0.2, 0.4, 0.6, 0.8)
COLUMNS = [
    "member_id", "as_of", "stage", "stage_since", "previous_as_of", "previous_stage", "previous_stage_since",
    "recency_days", "frequency", "monetary_fen", "r_score", "f_score", "m_score", "segment", "largest_order_fen",
    "discount_share", "premium_share", "orders_total", "orders_two_years", "orders_without_refund",
    "total_spend_fen", "average_order_fen", "first_order_at", "first_order_channel", "last_order_at",
    "last_visit_at", "last_cart_at", "followed_at", "expected_repurchase_on", "consumer_types",
]  # fmt: skip
_EPOCH = "(date_part('epoch', {0}) * 1000000)::bigint"
_ORDERS = (
    f"SELECT member_id, {_EPOCH.format('occurred_at')}, array_position(ARRAY{list(CHANNELS)}::text[], channel::text), "  # noqa: S608
    "paid_fen - refunded_fen, refunded_fen, discount_fen, "
    "CASE WHEN occurred_at >= '{window_from}' THEN lines_gross_fen END, "
    "CASE WHEN occurred_at >= '{window_from}' THEN lines_discounted_fen END, gift_lines, "
    "CASE WHEN occurred_at >= '{window_from}' THEN line_prices_fen END, "
    "CASE WHEN occurred_at >= '{window_from}' THEN line_amounts_fen END "
    "FROM members.orders WHERE occurred_at < '{until}' AND refunded_fen < paid_fen"
)
_ORDER_NAMES = [
    "member_id", "at", "channel", "net", "refunded", "discount", "gross", "disc_gross", "gift", "prices", "amounts"
]  # fmt: skip
_MEMBERS = (
    "SELECT id, status, coalesce(consent, ''), source_channel FROM members.members WHERE registered_at < '{until}'"
)
_BEHAVIOUR = (
    f"SELECT member_id, kind, activity, page, {_EPOCH.format('occurred_at')} FROM members.behaviour_events "  # noqa: S608
    "WHERE occurred_at < '{until}'"
)
SCRATCH = "bench_polars"  # the copies of the tables the refresh writes, merged into by the Polars path
_CURRENT = (
    "SELECT member_id, as_of, stage, stage_since, previous_as_of, previous_stage, previous_stage_since "  # noqa: S608
    f"FROM {SCRATCH}.member_insights"  # the copy: the same rows as members.member_insights before the run
)


@dataclass(frozen=True, slots=True)
class FullTimes:
    """Seconds spent extracting, computing, writing back (COPY into a temporary table) and merging (upsert,
    transitions, events); the merge's counts."""

    extract: float
    compute: float
    write: float
    merge: float
    upserted: int
    transitions: int
    events: int

    @property
    def light(self) -> float:
        """The lighter baseline: extract, compute, COPY back (no merge, transitions nor events)."""
        return self.extract + self.compute + self.write

    @property
    def total(self) -> float:
        """The like-for-like baseline: the lighter one plus the merge the refresh also does."""
        return self.light + self.merge


async def _copy_out(connection: Any, query: str) -> io.BytesIO:
    buffer = io.BytesIO()
    await connection.copy_from_query(query, output=buffer, format="csv")
    buffer.seek(0)
    return buffer


async def extract(connection: Any, as_of: date) -> dict[str, pl.DataFrame]:
    """The rows the refresh reads, as frames (orders, members, behaviour, current insights)."""
    until = day_start(as_of + timedelta(days=1)).isoformat()
    window_from = day_start(window_start(as_of)).isoformat()
    texts = {
        "orders": await _copy_out(connection, _ORDERS.format(until=until, window_from=window_from)),
        "members": await _copy_out(connection, _MEMBERS.format(until=until)),
        "behaviour": await _copy_out(connection, _BEHAVIOUR.format(until=until)),
        "current": await _copy_out(connection, _CURRENT),
    }
    array = pl.col("prices", "amounts").str.strip_chars("{}").str.split(",").cast(pl.List(pl.Int64))
    orders = pl.read_csv(
        texts["orders"],
        has_header=False,
        new_columns=_ORDER_NAMES,
        schema_overrides={"prices": pl.Utf8, "amounts": pl.Utf8, "gift": pl.Utf8},
    ).with_columns(array, gift=pl.col("gift") == "t")
    members = pl.read_csv(texts["members"], has_header=False, new_columns=["id", "status", "consent", "source"])
    behaviour = pl.read_csv(
        texts["behaviour"],
        has_header=False,
        new_columns=["member_id", "kind", "activity", "page", "at"],
        schema_overrides={"activity": pl.Utf8, "page": pl.Utf8},
    )
    current_names = ["member_id", "as_of", "stage", "since", "p_as_of", "p_stage", "p_since"]
    current_types: dict[str, Any] = {"member_id": pl.Utf8, "stage": pl.Utf8, "p_stage": pl.Utf8}
    current_types |= dict.fromkeys(("as_of", "since", "p_as_of", "p_since"), pl.Date)
    current = (
        pl.read_csv(texts["current"], has_header=False, new_columns=current_names, schema_overrides=current_types)
        if texts["current"].getbuffer().nbytes
        else pl.DataFrame(schema=current_types)  # no member refreshed yet
    )
    return {"orders": orders, "members": members, "behaviour": behaviour, "current": current}


def _disc(values: pl.Series, q: float) -> Any:
    """percentile_disc(q): the first sorted value whose cumulative share reaches q (None for no values)."""
    ordered = values.drop_nulls().sort()
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)] if len(ordered) else None  # float8, as PostgreSQL


def _day(column: str) -> pl.Expr:
    return ((pl.col(column) + LOCAL_OFFSET_US) // DAY_US).cast(pl.Int32)


def _per_member(orders: pl.DataFrame, today: int, premium: int) -> pl.DataFrame:
    """One row per buyer: the refresh's `agg` (counts, spends, first/last, window figures, line shares)."""
    c = DEFAULT_CONFIG
    o = orders.with_columns(day=_day("at"))
    win = pl.col("day") >= today - c.window_days + 1
    back = pl.col("day") >= today - c.won_back_days
    o = o.with_row_index("k")
    lines = o.filter(win).select("k", "prices", "amounts").explode("prices", "amounts")
    summed = lines.filter(pl.col("prices") >= premium).group_by("k").agg(prem=pl.col("amounts").sum())
    o = o.join(summed, on="k", how="left").with_columns(prem=pl.when(win).then(pl.col("prem").fill_null(0)))
    return o.group_by("member_id").agg(
        orders_total=pl.len(),
        orders_two_years=(pl.col("day") > today - 730).sum(),
        orders_without_refund=(pl.col("refunded") == 0).sum(),
        total_spend=pl.col("net").sum(),
        first_at=pl.col("at").min(),
        first_key=(pl.col("at") * 16 + pl.col("channel")).min(),
        last_at=pl.col("at").max(),
        first_day=pl.col("day").min(),
        last_day=pl.col("day").max(),
        orders_365=(pl.col("day") > today - 365).sum(),
        f=win.sum(),
        m=pl.col("net").filter(win).sum(),
        largest=pl.col("net").filter(win).max(),
        discounted_orders=(win & (pl.col("discount") > 0)).sum(),
        gross=pl.col("gross").sum(),
        has_gross=pl.col("gross").is_not_null().any(),
        disc_gross=pl.col("disc_gross").sum(),
        prem_gross=pl.col("prem").sum(),
        gift=(win & pl.col("gift")).any(),
        return_day=pl.col("day").filter(back).min(),
        before=pl.col("day").filter(~back).max(),
    )


def _behaviour(behaviour: pl.DataFrame) -> pl.DataFrame:
    follow = pl.col("kind") == "follow_official_account"
    act = pl.col("activity").fill_null("")
    pages = pl.col("page").filter(follow)
    return behaviour.group_by("member_id").agg(
        last_visit_at=pl.col("at").filter(pl.col("kind") == "visit").max(),
        last_cart_at=pl.col("at").filter(pl.col("kind") == "add_to_cart").max(),
        followed_at=pl.col("at").filter(follow).min(),
        two_accounts=pages.min() < pages.max(),
        contest=act.str.starts_with("contest").any(),
        quiz=(act.str.starts_with("quiz") | act.str.starts_with("new_product")).any(),
        feedback=act.str.starts_with("feedback").any(),
        course=(act.str.starts_with("course") | act.str.starts_with("health_talk")).any(),
        bring_friend=act.str.starts_with("bring_friend").any(),
    )


def _baseline(orders: pl.DataFrame, today: int) -> dict[str, Any]:
    """The date's brand-wide baseline: quintile bounds and averages among the window's buyers, the premium unit
    price and the average order value."""
    start = today - DEFAULT_CONFIG.window_days + 1
    win = orders.with_columns(day=_day("at")).filter(pl.col("day") >= start)
    per = win.group_by("member_id").agg(r=today - pl.col("day").max(), f=pl.len(), m=pl.col("net").sum())
    bounds = {k: [_disc(per[k], q) for q in QS] for k in ("r", "f", "m")}
    avg = {k: float(per[k].cast(pl.Float64).mean() or 0.0) for k in ("r", "f", "m")}  # type: ignore[arg-type]
    premium = _disc(win["prices"].explode(), 0.8) or 0
    total_f = int(per["f"].sum())
    return {"bounds": bounds, "avg": avg, "premium": premium, "aov": float(per["m"].sum()) / total_f if total_f else 0}


def _above(column: str, bounds: list[Any]) -> pl.Expr:
    count: pl.Expr = pl.lit(0, dtype=pl.Int32)
    for bound in bounds:
        count = count + (pl.col(column) > bound).cast(pl.Int32)
    return count


def _scores(base: dict[str, Any]) -> list[pl.Expr]:
    b, avg = base["bounds"], base["avg"]
    bought = pl.col("f") > 0
    recent, frequent = pl.col("recency") < avg["r"], pl.col("f") > avg["f"]
    kind = (
        pl.when(recent & frequent).then(pl.lit("value")).when(recent).then(pl.lit("develop"))
        .when(frequent).then(pl.lit("keep")).otherwise(pl.lit("retain"))
    )  # fmt: skip
    spend = pl.when(pl.col("m") > avg["m"]).then(pl.lit("important_")).otherwise(pl.lit("general_"))
    return [
        pl.when(bought).then(5 - _above("recency", b["r"])).alias("r_score"),
        pl.when(bought).then(1 + _above("f", b["f"])).alias("f_score"),
        pl.when(bought).then(1 + _above("m", b["m"])).alias("m_score"),
        pl.when(bought).then(pl.concat_str(spend, kind)).alias("segment"),
    ]


def _stage(base: dict[str, Any]) -> pl.Expr:
    c = DEFAULT_CONFIG
    loyal = pl.col("orders_365") >= c.loyal_orders
    return (
        pl.when((pl.col("status") == "closed") | (pl.col("consent") == "withdrawn")).then(pl.lit("closed"))
        .when(pl.col("return_day").is_not_null() & pl.col("before").is_not_null()
              & (pl.col("return_day") - pl.col("before") >= c.away_days)).then(pl.lit("won_back"))
        .when(pl.col("recency") > c.dormant_days).then(pl.lit("churned"))
        .when(pl.col("recency") > c.at_risk_days).then(pl.lit("dormant"))
        .when(pl.col("recency") > c.active_days).then(pl.lit("at_risk"))
        .when(loyal & (pl.col("f") > 0) & (pl.col("m") > base["bounds"]["m"][3])).then(pl.lit("high_value"))
        .when(loyal).then(pl.lit("loyal"))
        .when(pl.col("orders_total") >= 2).then(pl.lit("repeat"))
        .when(pl.col("orders_total") == 1).then(pl.lit("new"))
        .otherwise(pl.lit("prospect"))
    )  # fmt: skip


def _types(base: dict[str, Any], until_us: int) -> pl.Expr:
    """The consumer types, in the refresh's order."""
    c = DEFAULT_CONFIG
    gross, f, m = pl.col("gross"), pl.col("f"), pl.col("m")
    average = m.cast(pl.Float64) / f
    rules = {
        "discount": pl.col("has_gross") & (gross > 0) & (pl.col("disc_gross") > c.discount_share * gross),
        "stock_up": (f >= 1) & (f <= c.stock_up_orders) & (average >= c.stock_up_factor * base["aov"]),
        "campaign": (f > 0) & (pl.col("discounted_orders") >= c.campaign_share * f) & (average >= base["aov"]),
        "honour": pl.col("contest"),
        "curious": pl.col("quiz"),
        "undecided": (pl.col("last_cart_at") >= until_us - c.undecided_days * DAY_US) & (f <= 1),
        "seeded": pl.col("source") == "short_video_live",
        "gifting": pl.col("gift"),
        "circle": pl.col("feedback") | pl.col("two_accounts"),
        "anxious": pl.col("course"),
        "spreader": pl.col("bring_friend") | pl.col("source").is_in(["referral_campaign", "friend_invite"]),
    }
    flags = [pl.when(rule.fill_null(False)).then(pl.lit(name)) for name, rule in rules.items()]
    return pl.concat_list(flags).list.drop_nulls()


def _half_up(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """round(numerator / denominator) for non-negative values, as PostgreSQL rounds numerics (half away from 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def compute(frames: dict[str, pl.DataFrame], as_of: date) -> pl.DataFrame:
    """Every column the refresh writes, one row per member in scope (members refreshed later are left alone)."""
    today = (as_of - date(1970, 1, 1)).days
    until_us = int(day_start(as_of + timedelta(days=1)).timestamp()) * US
    base = _baseline(frames["orders"], today)
    per = _per_member(frames["orders"], today, base["premium"])
    zero = {k: pl.col(k).fill_null(0) for k in ("orders_total", "orders_two_years", "orders_without_refund", "f")}
    facts = (
        frames["members"].lazy()
        .join(per.lazy(), left_on="id", right_on="member_id", how="left")
        .join(_behaviour(frames["behaviour"]).lazy(), left_on="id", right_on="member_id", how="left")
        .join(frames["current"].lazy(), left_on="id", right_on="member_id", how="left")
        .filter(pl.col("as_of").is_null() | (pl.col("as_of") <= as_of))
        .with_columns(
            **zero, m=pl.col("m").fill_null(0), total_spend=pl.col("total_spend").fill_null(0),
            recency=today - pl.col("last_day"), gift=pl.col("gift").fill_null(False),
            has_gross=pl.col("has_gross").fill_null(False),
            **{k: pl.col(k).fill_null(False) for k in ("contest", "quiz", "feedback", "course", "bring_friend")},
            two_accounts=pl.col("two_accounts").fill_null(False),
        )
    )  # fmt: skip
    same = pl.col("as_of") == as_of
    staged = facts.with_columns(*_scores(base), _stage(base).alias("stage_new"), _types(base, until_us).alias("types"))
    staged = staged.with_columns(
        prev_as_of=pl.when(same).then(pl.col("p_as_of")).otherwise(pl.col("as_of")),
        prev_stage=pl.when(same).then(pl.col("p_stage")).otherwise(pl.col("stage")),
        prev_since=pl.when(same).then(pl.col("p_since")).otherwise(pl.col("since")),
    )
    return _rows(staged, as_of).collect()


def _rows(staged: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The member_insights columns, in COLUMNS order."""
    gross_ok = pl.col("has_gross") & (pl.col("gross") > 0)
    total = pl.col("orders_total")
    timestamp = {k: pl.col(k).cast(pl.Datetime("us", "UTC")) for k in ("last_visit_at", "last_cart_at", "followed_at")}
    return staged.select(
        member_id=pl.col("id"),
        as_of=pl.lit(as_of),
        stage=pl.col("stage_new"),
        stage_since=pl.when(pl.col("stage_new") == pl.col("prev_stage")).then(pl.col("prev_since"))
        .otherwise(pl.lit(as_of)),
        previous_as_of=pl.col("prev_as_of"),
        previous_stage=pl.col("prev_stage"),
        previous_stage_since=pl.col("prev_since"),
        recency_days=pl.col("recency"),
        frequency=pl.col("f"),
        monetary_fen=pl.col("m"),
        r_score=pl.col("r_score"), f_score=pl.col("f_score"), m_score=pl.col("m_score"), segment=pl.col("segment"),
        largest_order_fen=pl.col("largest"),
        discount_share=pl.when(gross_ok).then(pl.col("disc_gross").fill_null(0) / pl.col("gross")),
        premium_share=pl.when(gross_ok).then(pl.col("prem_gross").fill_null(0) / pl.col("gross")),
        orders_total=total,
        orders_two_years=pl.col("orders_two_years"),
        orders_without_refund=pl.col("orders_without_refund"),
        total_spend_fen=pl.col("total_spend"),
        average_order_fen=pl.when(total > 0).then(_half_up(pl.col("total_spend"), total)),
        first_order_at=pl.col("first_at").cast(pl.Datetime("us", "UTC")),
        first_order_channel=pl.col("first_key").mod(16).replace_strict(
            list(range(1, len(CHANNELS) + 1)), list(CHANNELS), default=None, return_dtype=pl.Utf8
        ),
        last_order_at=pl.col("last_at").cast(pl.Datetime("us", "UTC")),
        **timestamp,
        expected_repurchase_on=pl.when(total >= 2).then(
            (pl.col("last_day") + _half_up(pl.col("last_day") - pl.col("first_day"), total - 1)).cast(pl.Date)
        ),
        consumer_types=pl.concat_str(pl.lit("{"), pl.col("types").list.join(","), pl.lit("}")),
    )  # fmt: skip


async def prepare_scratch(connection: Any) -> None:
    """(Untimed.) The schema `bench_polars` anew: copies of members.member_insights, members.stage_transitions and
    members.outbox with their indexes, constraints, defaults, identity and foreign keys, holding the real tables'
    rows (dropped by `drop_scratch`)."""
    outbox = "id, type, version, aggregate_id, occurred_at, data, recorded_at, published_at"
    await connection.execute(
        f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE; CREATE SCHEMA {SCRATCH}; "  # noqa: S608
        f"CREATE TABLE {SCRATCH}.member_insights (LIKE members.member_insights INCLUDING ALL); "
        f"CREATE TABLE {SCRATCH}.stage_transitions (LIKE members.stage_transitions INCLUDING ALL); "
        f"CREATE TABLE {SCRATCH}.outbox (LIKE members.outbox INCLUDING ALL); "
        f"ALTER TABLE {SCRATCH}.member_insights ADD FOREIGN KEY (member_id) REFERENCES members.members (id) "
        "ON DELETE CASCADE; "
        f"ALTER TABLE {SCRATCH}.stage_transitions ADD FOREIGN KEY (member_id) REFERENCES members.members (id) "
        "ON DELETE CASCADE; "
        f"INSERT INTO {SCRATCH}.member_insights SELECT * FROM members.member_insights; "
        f"INSERT INTO {SCRATCH}.stage_transitions SELECT * FROM members.stage_transitions; "
        f"INSERT INTO {SCRATCH}.outbox ({outbox}) SELECT {outbox} FROM members.outbox ORDER BY seq; "
        f"ANALYZE {SCRATCH}.member_insights, {SCRATCH}.stage_transitions, {SCRATCH}.outbox"
    )  # fmt: skip


async def drop_scratch(connection: Any) -> None:
    await connection.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")


async def write_scratch(connection: Any, rows: pl.DataFrame) -> None:
    """COPY the computed rows into a temporary table shaped like members.member_insights, without its indexes
    (dropped on close)."""
    await connection.execute(
        "CREATE TEMP TABLE IF NOT EXISTS insights_scratch (LIKE members.member_insights); TRUNCATE insights_scratch"
    )
    buffer = io.BytesIO()
    rows.write_csv(buffer, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z", null_value="")
    buffer.seek(0)
    await connection.copy_to_table("insights_scratch", source=buffer, columns=list(COLUMNS), format="csv", null="")


_UPDATED = COLUMNS[1:]
# The refresh's merge (members/insights/sql.py: REFRESH from `upserted` on) over the copied rows: rows equal to the
# stored ones are left out before the INSERT (neither locked nor rewritten), the others upserted; a transition per
# member whose stage moved (a changed one replaces the date's, one that no longer holds is deleted) and an event
# per new or changed transition.
MERGE = f"""
WITH changed AS (
    SELECT c.*
    FROM insights_scratch c
    LEFT JOIN {SCRATCH}.member_insights cur ON cur.member_id = c.member_id
    WHERE cur.member_id IS NULL
       OR ({", ".join(f"cur.{n}" for n in _UPDATED)}) IS DISTINCT FROM ({", ".join(f"c.{n}" for n in _UPDATED)})
),
upserted AS (
    INSERT INTO {SCRATCH}.member_insights AS i ({", ".join(COLUMNS)})
    SELECT {", ".join(COLUMNS)} FROM changed
    ON CONFLICT (member_id) DO UPDATE SET {", ".join(f"{n} = excluded.{n}" for n in _UPDATED)}
    WHERE i.as_of <= excluded.as_of
      AND ({", ".join(f"i.{n}" for n in _UPDATED)}) IS DISTINCT FROM ({", ".join(f"excluded.{n}" for n in _UPDATED)})
    RETURNING i.member_id, i.stage, i.previous_stage
),
moved AS (
    INSERT INTO {SCRATCH}.stage_transitions AS t (member_id, as_of, from_stage, to_stage)
    SELECT u.member_id, $1::date, u.previous_stage, u.stage
    FROM upserted u
    WHERE u.stage IS DISTINCT FROM u.previous_stage
    ON CONFLICT (member_id, as_of) DO UPDATE SET from_stage = excluded.from_stage, to_stage = excluded.to_stage
    WHERE (t.from_stage, t.to_stage) IS DISTINCT FROM (excluded.from_stage, excluded.to_stage)
    RETURNING t.member_id, t.from_stage, t.to_stage
),
unmoved AS (
    DELETE FROM {SCRATCH}.stage_transitions t
    USING upserted u
    WHERE t.member_id = u.member_id AND t.as_of = $1::date AND u.stage IS NOT DISTINCT FROM u.previous_stage
    RETURNING t.member_id
),
events AS (
    INSERT INTO {SCRATCH}.outbox (id, type, version, aggregate_id, occurred_at, data)
    SELECT gen_random_uuid(), 'member.stage-changed', 1, mv.member_id::text, now(),
           jsonb_build_object('member_id', mv.member_id::text, 'from_stage', mv.from_stage,
                              'to_stage', mv.to_stage, 'as_of', $1::date::text)
    FROM moved mv
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) AS upserted, (SELECT count(*) FROM moved) AS moved,
       (SELECT count(*) FROM unmoved) AS unmoved, (SELECT count(*) FROM events) AS events
"""  # noqa: S608


async def full_path(connection: Any, as_of: date) -> tuple[pl.DataFrame, FullTimes]:
    """Extract, compute, write back, merge (after `prepare_scratch`); the rows, the durations and the counts."""
    started = time.perf_counter()
    frames = await extract(connection, as_of)
    extracted = time.perf_counter()
    rows = compute(frames, as_of)
    computed = time.perf_counter()
    async with connection.transaction():  # one transaction, as the refresh
        await write_scratch(connection, rows)
        written = time.perf_counter()
        merged = await connection.fetchrow(MERGE, as_of)
    done = time.perf_counter()
    times = FullTimes(
        extracted - started, computed - extracted, written - computed, done - written,
        upserted=merged["upserted"], transitions=merged["moved"], events=merged["events"],
    )  # fmt: skip
    return rows, times


async def compare(connection: Any) -> dict[str, int]:
    """Per column, how many members' stored row differs from the merged copy's (shares to 1e-9); `rows`: members
    present on one side only; `transitions`, `events`: transitions (every column) and `member.stage-changed` events
    (aggregate and data) present on one side only."""
    checks = ", ".join(
        f"count(*) FILTER (WHERE round(i.{c}::numeric, 9) IS DISTINCT FROM round(s.{c}::numeric, 9)) AS {c}"
        if c.endswith("_share")
        else f"count(*) FILTER (WHERE i.{c} IS DISTINCT FROM s.{c}) AS {c}"
        for c in COLUMNS[1:]
    )
    query = (
        f"SELECT count(*) FILTER (WHERE i.member_id IS NULL OR s.member_id IS NULL) AS rows, {checks} "  # noqa: S608
        f"FROM members.member_insights i FULL JOIN {SCRATCH}.member_insights s ON s.member_id = i.member_id"
    )
    row = dict(await connection.fetchrow(query))
    transitions = "SELECT member_id, as_of, from_stage, to_stage FROM {}.stage_transitions"
    events = "SELECT aggregate_id, data FROM {}.outbox WHERE type = 'member.stage-changed'"
    for key, select in (("transitions", transitions), ("events", events)):
        real, copy = select.format("members"), select.format(SCRATCH)
        one_side = "SELECT count(*) FROM ({} EXCEPT ALL {}) d"
        row[key] = await connection.fetchval(
            f"SELECT ({one_side.format(real, copy)}) + ({one_side.format(copy, real)})"
        )
    return {key: int(value) for key, value in row.items()}
