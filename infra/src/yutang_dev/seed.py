"""A realistic brand for development and benchmarks: `python -m yutang_dev seed --members N --orders M`.

Regions and stores; members registered over three years through the source channels; orders across the sales
channels with seasonal peaks (11.11 and the weeks before the Spring Festival), a long tail of heavy buyers,
discount shoppers (most lines discounted), refunds (full and partial), lapsed members (no order after a date),
and behaviour (visits, carts, follows, activities). Columns are generated vectorised with Polars, written as
CSV and loaded with COPY (no per-row Python, no per-row SQL). Mobiles are not real: members get a random
fingerprint and no mobile ciphertext. Deterministic for a given --seed.
"""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from yutang_dev.importer.common import connect

ZONE = ZoneInfo("Asia/Shanghai")
REGIONS = ("EAST", "SOUTH", "NORTH", "WEST")
STORES_PER_REGION = 5
SOURCES = (
    "street_promotion",
    "store_qr",
    "delivery_platform",
    "local_life",
    "short_video_live",
    "referral_campaign",
    "pay_to_follow",
    "ads",
    "official_account_menu",
    "friend_invite",
    "other",
)
SOURCE_WEIGHTS = (8, 30, 10, 5, 10, 8, 10, 6, 5, 5, 3)
CHANNELS = ("in_store", "mini_program", "delivery_platform", "live_stream", "community_group", "e_commerce", "other")
CHANNEL_WEIGHTS = (50, 20, 10, 5, 8, 6, 1)
CATEGORIES = ("tea", "snacks", "teaware", "gift_card", "gift_wrap", "new_product")
CATEGORY_WEIGHTS = (45, 30, 12, 4, 2, 7)
ACTIVITIES = ("contest_spring", "quiz_tea", "feedback_survey", "course_brewing", "health_talk", "bring_friend")
YEARS = 3


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the seed wrote and how long it took."""

    members: int
    orders: int
    behaviour: int
    seconds: float


def _pick(values: tuple[str, ...], weights: tuple[int, ...], u: pl.Expr) -> pl.Expr:
    """The value whose cumulative weight band holds u ∈ [0, 1)."""
    total = sum(weights)
    edges = [sum(weights[: k + 1]) / total for k in range(len(weights))]
    expr: pl.Expr = pl.lit(values[-1])
    for value, edge in reversed(list(zip(values[:-1], edges[:-1], strict=True))):
        expr = pl.when(u < edge).then(pl.lit(value)).otherwise(expr)
    return expr


def _uniform(n: int, seed: int) -> pl.Series:
    return pl.Series(pl.int_range(0, n, eager=True).hash(seed) % 1_000_000) / 1_000_000


def members_frame(n: int, as_of: date, seed: int) -> pl.DataFrame:
    """Members registered over YEARS years before `as_of`; 30 % lapse (buy nothing after a date), 15 % are
    discount shoppers, 5 % withdrew marketing consent, 1 % are closed."""
    start = datetime.combine(as_of - timedelta(days=365 * YEARS), datetime.min.time(), ZONE)
    span = 365 * YEARS * 86_400
    frame = pl.DataFrame({"i": pl.int_range(0, n, eager=True)}).with_columns(
        u1=_uniform(n, seed + 1), u2=_uniform(n, seed + 2), u3=_uniform(n, seed + 3), u4=_uniform(n, seed + 4)
    )
    stores = [f"{r[0]}{k:02d}" for r in REGIONS for k in range(1, STORES_PER_REGION + 1)]
    return frame.with_columns(
        id=pl.concat_str(
            pl.lit("00000000-0000-4000-8"),
            (pl.col("i") // 1_000_000_000_000).cast(pl.Utf8).str.zfill(3),
            pl.lit("-"),
            (pl.col("i") % 1_000_000_000_000).cast(pl.Utf8).str.zfill(12),
        ),
        fingerprint=pl.concat_str(pl.lit(f"seed{seed}-"), pl.col("i").cast(pl.Utf8)),
        source_channel=_pick(SOURCES, SOURCE_WEIGHTS, pl.col("u1")),
        registered_at=pl.lit(start) + pl.duration(seconds=(pl.col("u2") ** 0.7 * span).cast(pl.Int64)),
        home_store=pl.Series([stores[k % len(stores)] for k in range(n)]) if n else pl.Series([], dtype=pl.Utf8),
        lapsed=pl.col("u3") < 0.30,
        discount_shopper=(pl.col("u3") >= 0.30) & (pl.col("u3") < 0.45),
        status=pl.when(pl.col("u4") < 0.01).then(pl.lit("closed")).otherwise(pl.lit("active")),
        consent=pl.when(pl.col("u4") < 0.06).then(pl.lit("withdrawn")).otherwise(pl.lit("given")),
    )


def _line(sku: pl.Expr, category: pl.Expr, quantity: pl.Expr, price: pl.Expr, discounted: pl.Expr) -> pl.Expr:
    """One order line as the JSON text orders store."""
    return pl.concat_str(
        pl.lit('{"sku":"'),
        sku,
        pl.lit('","name":null,"category":"'),
        category,
        pl.lit('","quantity":'),
        quantity.cast(pl.Utf8),
        pl.lit(',"unit_price_fen":'),
        price.cast(pl.Utf8),
        pl.lit(',"discounted":'),
        pl.when(discounted).then(pl.lit("true")).otherwise(pl.lit("false")),
        pl.lit("}"),
    )


def orders_frame(members: pl.DataFrame, n: int, as_of: date, seed: int) -> pl.DataFrame:
    """Orders spread over members with a long tail (a few buy often), in each member's active span, with seasonal
    peaks, 1–2 lines, channel mix, discounts for discount shoppers and 8 % refunds (half of them full)."""
    m = members.height
    end = datetime.combine(as_of, datetime.min.time(), ZONE) + timedelta(hours=20)
    lapse_cut = end - timedelta(days=400)
    frame = pl.DataFrame({"k": pl.int_range(0, n, eager=True)}).with_columns(
        **{f"u{j}": _uniform(n, seed * 31 + j) for j in range(1, 9)}
    )
    frame = frame.with_columns(i=(pl.col("u1") ** 2.2 * m).cast(pl.Int64).clip(0, m - 1))
    frame = frame.join(
        members.select("i", "id", "registered_at", "lapsed", "discount_shopper", "home_store"), on="i", how="left"
    )
    until = pl.when(pl.col("lapsed")).then(pl.lit(lapse_cut)).otherwise(pl.lit(end))
    span_s = (until - pl.col("registered_at")).dt.total_seconds().clip(lower_bound=3600)
    occurred = pl.col("registered_at") + pl.duration(seconds=(pl.col("u2") * span_s).cast(pl.Int64))
    frame = frame.with_columns(occurred_at=occurred)
    # seasonal peaks: 25 % of orders move to 1–11 November or to the three weeks before the Spring Festival
    peak_day = (
        pl.when(pl.col("u3") < 0.5)
        .then(pl.date(pl.col("occurred_at").dt.year(), 11, 1) + pl.duration(days=(pl.col("u4") * 11).cast(pl.Int64)))
        .otherwise(
            pl.date(pl.col("occurred_at").dt.year(), 1, 10) + pl.duration(days=(pl.col("u4") * 21).cast(pl.Int64))
        )
    )
    moved = peak_day.cast(pl.Datetime("us")).dt.replace_time_zone("Asia/Shanghai") + pl.duration(hours=12)
    frame = frame.with_columns(
        occurred_at=pl.when((pl.col("u5") < 0.25) & (moved > pl.col("registered_at")) & (moved < until))
        .then(moved)
        .otherwise(pl.col("occurred_at"))
    )
    price1 = (pl.col("u6") ** 2 * 60 + 2).cast(pl.Int64) * 500
    price2 = (pl.col("u7") ** 2 * 30 + 1).cast(pl.Int64) * 500
    two = pl.col("u8") < 0.4
    qty1 = (pl.col("u3") * 3).cast(pl.Int64) + 1
    disc_line = pl.when(pl.col("discount_shopper")).then(pl.col("u4") < 0.9).otherwise(pl.col("u4") < 0.15)
    gross = price1 * qty1 + pl.when(two).then(price2).otherwise(0)
    discount = pl.when(disc_line).then((gross * 0.1).cast(pl.Int64)).otherwise(0)
    refund_u = pl.col("u5")
    frame = frame.with_columns(
        channel=_pick(CHANNELS, CHANNEL_WEIGHTS, pl.col("u6")),
        category=_pick(CATEGORIES, CATEGORY_WEIGHTS, pl.col("u7")),
        price1=price1,
        price2=price2,
        two=two,
        qty1=qty1,
        disc_line=disc_line,
        gross=gross,
        discount_fen=discount,
    ).with_columns(paid_fen=pl.col("gross") - pl.col("discount_fen"))
    frame = frame.with_columns(
        refunded_fen=pl.when((refund_u > 0.92) & (refund_u <= 0.96))
        .then(pl.col("paid_fen"))
        .when(refund_u > 0.96)
        .then((pl.col("paid_fen") // 3).clip(lower_bound=1))
        .otherwise(0)
    )
    first = _line(
        pl.concat_str(pl.lit("SKU"), pl.col("price1").cast(pl.Utf8)),
        pl.col("category"),
        pl.col("qty1"),
        pl.col("price1"),
        pl.col("disc_line"),
    )
    second = _line(
        pl.concat_str(pl.lit("SKU"), pl.col("price2").cast(pl.Utf8)),
        pl.lit("tea"),
        pl.lit(1),
        pl.col("price2"),
        pl.col("disc_line"),
    )
    lines = pl.concat_str(
        pl.lit("["),
        first,
        pl.when(pl.col("two")).then(pl.concat_str(pl.lit(","), second)).otherwise(pl.lit("")),
        pl.lit("]"),
    )
    return frame.select(
        id=pl.concat_str(
            pl.lit("00000000-0000-4000-9"),
            (pl.col("k") // 1_000_000_000_000).cast(pl.Utf8).str.zfill(3),
            pl.lit("-"),
            (pl.col("k") % 1_000_000_000_000).cast(pl.Utf8).str.zfill(12),
        ),
        client=pl.lit("seed"),
        external_id=pl.concat_str(pl.lit(f"S{seed}-"), pl.col("k").cast(pl.Utf8)),
        member_id=pl.col("id"),
        store_code=pl.col("home_store"),
        channel=pl.col("channel"),
        paid_fen=pl.col("paid_fen"),
        discount_fen=pl.col("discount_fen"),
        refunded_fen=pl.col("refunded_fen"),
        lines=lines,
        occurred_at=pl.col("occurred_at"),
        earns_points=pl.lit(False),
        imported=pl.lit(True),
        content_hash=pl.lit("seed"),
    )


def behaviour_frame(members: pl.DataFrame, n: int, as_of: date, seed: int) -> pl.DataFrame:
    """Visits, carts, follows (one or two official accounts) and activities in the last year."""
    m = members.height
    end = datetime.combine(as_of, datetime.min.time(), ZONE) + timedelta(hours=20)
    frame = pl.DataFrame({"k": pl.int_range(0, n, eager=True)}).with_columns(
        **{f"u{j}": _uniform(n, seed * 57 + j) for j in range(1, 5)}
    )
    kinds = ("visit", "add_to_cart", "follow_official_account", "activity_participation", "message_click")
    return frame.select(
        id=pl.concat_str(
            pl.lit("00000000-0000-4000-a"),
            (pl.col("k") // 1_000_000_000_000).cast(pl.Utf8).str.zfill(3),
            pl.lit("-"),
            (pl.col("k") % 1_000_000_000_000).cast(pl.Utf8).str.zfill(12),
        ),
        client=pl.lit("seed"),
        external_id=pl.concat_str(pl.lit(f"B{seed}-"), pl.col("k").cast(pl.Utf8)),
        member_id=pl.concat_str(
            pl.lit("00000000-0000-4000-8"),
            ((pl.col("u1") * m).cast(pl.Int64) // 1_000_000_000_000).cast(pl.Utf8).str.zfill(3),
            pl.lit("-"),
            ((pl.col("u1") * m).cast(pl.Int64) % 1_000_000_000_000).cast(pl.Utf8).str.zfill(12),
        ),
        kind=_pick(kinds, (50, 20, 10, 10, 10), pl.col("u2")),
        activity=pl.lit(None, dtype=pl.Utf8),
        page=pl.when(pl.col("u3") < 0.2).then(pl.lit("gh_club")).otherwise(pl.lit("gh_brand")),
        occurred_at=pl.lit(end) - pl.duration(seconds=(pl.col("u4") * 365 * 86_400).cast(pl.Int64)),
        content_hash=pl.lit("seed"),
    ).with_columns(
        activity=pl.when(pl.col("kind") == "activity_participation")
        .then(_pick(ACTIVITIES, (1, 1, 1, 1, 1, 1), pl.col("occurred_at").dt.second() / 60))
        .otherwise(None)
    )


async def _copy(connection: object, table: str, frame: pl.DataFrame, columns: list[str]) -> None:
    buffer = io.BytesIO()
    frame.select(columns).write_csv(
        buffer, include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z", null_value=""
    )
    buffer.seek(0)
    await connection.copy_to_table(  # type: ignore[attr-defined]
        table, schema_name="members", source=buffer, columns=columns, format="csv", null=""
    )


async def seed(
    database_url: str, *, members: int, orders: int, as_of: date, seed_value: int = 7, behaviour: int | None = None
) -> Seeded:
    """Write the brand into the members schema of a migrated database (in one transaction)."""
    started = time.perf_counter()
    people = members_frame(members, as_of, seed_value)
    bought = orders_frame(people, orders, as_of, seed_value) if members else people.clear()
    events = behaviour_frame(people, members * 2 if behaviour is None else behaviour, as_of, seed_value)
    connection = await connect(database_url)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL synchronous_commit = off")
            await connection.execute(
                "INSERT INTO members.regions (id, code, name) SELECT gen_random_uuid(), r, r FROM unnest($1::text[]) r "
                "ON CONFLICT (code) DO NOTHING",
                list(REGIONS),
            )
            await connection.execute(
                "INSERT INTO members.stores (id, code, name, region_id) "
                "SELECT gen_random_uuid(), left(r.code, 1) || lpad(k::text, 2, '0'), left(r.code, 1) || k, r.id "
                "FROM members.regions r, generate_series(1, $1) k WHERE r.code = ANY($2::text[]) "
                "ON CONFLICT (code) DO NOTHING",
                STORES_PER_REGION,
                list(REGIONS),
            )
            people_rows = people.select(
                "id",
                pl.when(pl.col("status") == "closed")
                .then(None)
                .otherwise(pl.col("fingerprint"))
                .alias("mobile_fingerprint"),
                "source_channel",
                "status",
                "registered_at",
                pl.col("home_store").alias("home_store_code"),
                "consent",
                pl.lit("unknown").alias("gender"),
            )
            await _copy(connection, "members", people_rows, people_rows.columns)
            if members:
                await _copy(connection, "orders", bought, bought.columns)
                await _copy(connection, "behaviour_events", events, events.columns)
    finally:
        await connection.close()
    return Seeded(people.height, bought.height if members else 0, events.height, time.perf_counter() - started)


def run(database_url: str, *, members: int, orders: int, as_of: date | None, seed_value: int) -> Seeded:
    """The seed, synchronously (the CLI)."""
    day = as_of or datetime.now(ZONE).date()
    return asyncio.run(seed(database_url, members=members, orders=orders, as_of=day, seed_value=seed_value))
