"""Import historical orders from CSV: COPY of the raw file into staging, set-wise validation, one upsert.

Columns (header row, any order): external_id, store_code, channel, paid_fen, occurred_at, and one of member_id,
mobile, unionid per row; optional: discount_fen (0), guide, lines (a JSON array of {"sku", "name", "category",
"quantity", "unit_price_fen", "discounted"}; blank for orders without lines). Times without a zone are
Asia/Shanghai. Orders are keyed by (client, external_id): a re-run, or the same id twice in a file, adds nothing.
They are marked imported and earn no points unless `earn_points`; then each gets its order.paid event, otherwise
one `orders.imported` summary event is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console

from members.orders.models import SalesChannel
from members.orders.rules import CLOCK_SKEW
from members.pii import MobileVault
from members.registration.errors import InvalidMobile
from members.registration.rules import normalise_mobile
from yutang_dev.importer.common import (
    ImportReport,
    Meter,
    chunks,
    connect,
    copied,
    finish_first_load,
    first_load,
    header_of,
    staging_name,
    step,
    tune_session,
    uuid7_prefix,
    write_rejects,
)

COLUMNS = (
    "external_id",
    "member_id",
    "mobile",
    "unionid",
    "store_code",
    "guide",
    "channel",
    "paid_fen",
    "discount_fen",
    "occurred_at",
    "lines",
)
REQUIRED = ("external_id", "store_code", "channel", "paid_fen", "occurred_at")
_CHANNELS = ", ".join(f"'{c.value}'" for c in SalesChannel)
_SKEW = int(CLOCK_SKEW.total_seconds())

# Every expression below is evaluated once per row and kept cheap: regular expressions cost up to 1-4 µs a call in
# PostgreSQL when counted (`^[!-~]{1,64}$`, a UUID's 8-4-4-4-12; the DFA is rebuilt per call), so none is: a
# character class and a length (`[^!-~]`), digits with ltrim (`_only`), types with `pg_input_is_valid`.
# The JSON of `lines` is parsed once: optimistically with a plain cast (a file whose every `lines` is JSON, the
# usual case), and only when that cast refuses a value with `pg_input_is_valid` first (`careful`), which parses
# each value twice.


_DIGITS = "0123456789"


def _only(expr: str, chars: str, low: int, high: int) -> str:
    """SQL: `expr` is `low`-`high` bytes, each one of `chars` (false for NULL); `^[chars]{low,high}$` for
    single-byte `chars`, as an ltrim that costs a fraction of the regular expression."""
    value = f"coalesce({expr}, '')"
    return f"(octet_length({value}) BETWEEN {low} AND {high} AND ltrim({value}, '{chars}') = '')"


def _signed(expr: str, digits: int) -> str:
    """SQL: `expr` matches `^-?[0-9]{1,digits}$`."""
    return (
        f"CASE WHEN left({expr}, 1) = '-' THEN {_only(f'substr({expr}, 2)', _DIGITS, 1, digits)} "
        f"ELSE {_only(expr, _DIGITS, 1, digits)} END"
    )


def _lines_json(*, careful: bool) -> str:
    if careful:
        return (
            "CASE WHEN coalesce(st.lines, '') = '' THEN '[]'::jsonb "
            "WHEN pg_input_is_valid(st.lines, 'jsonb') THEN st.lines::jsonb END"
        )
    return "CASE WHEN coalesce(st.lines, '') = '' THEN '[]'::jsonb ELSE st.lines::jsonb END"


# A line is good when it is an object with a sku, a category, a whole quantity of 1-999999 and a whole unit price
# of at most 11 digits (a JSON number or a string of digits); `ok` is whether every line is, `gross` is
# sum(quantity × unit price) over the good ones.
#
# The same pass computes the order's line summary (the columns the trigger `members.summarise_order_lines` fills
# from `lines`: gross, discounted gross, gift lines, unit prices and amounts in line order), so the insert carries
# it and the trigger skips the row (migration 7d2b8e0c4f13). `plain` is whether every line's `discounted` is a
# JSON boolean, null or absent: only then is the summary filled here; otherwise its columns stay NULL and the
# trigger computes them with its own casts, as before (a test holds the two equal).
_QUANTITY, _PRICE = "e->>'quantity'", "e->>'unit_price_fen'"
_GOOD_LINE = (
    "jsonb_typeof(e) = 'object' AND coalesce(e->>'sku', '') <> '' AND coalesce(e->>'category', '') <> '' "
    f"AND {_only(_QUANTITY, _DIGITS, 1, 6)} AND ({_QUANTITY})::int > 0 AND {_only(_PRICE, _DIGITS, 1, 11)}"
)
_GIFTS = "('gift_card', 'gift_wrap')"  # the categories the trigger counts as gift lines
_LINES = f"""
    LEFT JOIN LATERAL (
        SELECT bool_and(good) AS ok, sum(amount) AS gross, bool_and(plain) AS plain,
               sum(amount) FILTER (WHERE discounted) AS discounted_gross, bool_or(gift) AS gift,
               array_agg(price) AS prices, array_agg(amount) AS amounts  -- in line order: the scan keeps it
        FROM (SELECT good, e->'discounted' = 'true'::jsonb AS discounted,
                     coalesce(jsonb_typeof(e->'discounted'), 'null') IN ('boolean', 'null') AS plain,
                     e->>'category' IN {_GIFTS} AS gift,
                     CASE WHEN good THEN ({_PRICE})::bigint END AS price,
                     CASE WHEN good THEN ({_QUANTITY})::bigint * ({_PRICE})::bigint END AS amount
              FROM (SELECT e, {_GOOD_LINE} AS good
                    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.lines_json) = 'array'
                                                   THEN s.lines_json ELSE '[]'::jsonb END) AS e
                    OFFSET 0) AS el  -- a fence: `good` is computed once per line
             ) AS typed
    ) AS l ON true
"""  # noqa: S608 (our own SQL)


def _valid_sql(staging: str, *, unionids: bool, careful: bool) -> str:
    """Each staged row once: its typed values, its member, and its first broken rule (`reason`, NULL if none)."""
    union_join = "LEFT JOIN members.members mu ON s.unionid <> '' AND mu.wechat_unionid = s.unionid" if unionids else ""
    union_id = "mu.id" if unionids else "NULL::uuid"
    union_status = "mu.status" if unionids else "NULL"
    return f"""
    SELECT s.line, s.external_id, s.store_code, nullif(s.guide, '') AS guide, lower(s.channel) AS channel,
           s.paid AS paid_fen, s.discount AS discount_fen, s.at AS occurred_at, s.lines_json AS lines,
           s.lines AS lines_text, coalesce(mi.id, mm.id, {union_id}) AS member_id,
           CASE WHEN l.plain IS NOT false THEN coalesce(l.gross, 0) END AS lines_gross_fen,
           CASE WHEN l.plain IS NOT false THEN coalesce(l.discounted_gross, 0) END AS lines_discounted_fen,
           CASE WHEN l.plain IS NOT false THEN coalesce(l.gift, false) END AS gift_lines,
           CASE WHEN l.plain IS NOT false THEN coalesce(l.prices, '{{}}') END AS line_prices_fen,
           CASE WHEN l.plain IS NOT false THEN coalesce(l.amounts, '{{}}') END AS line_amounts_fen,
           CASE
             WHEN octet_length(coalesce(s.external_id, '')) NOT BETWEEN 1 AND 64 OR s.external_id ~ '[^!-~]'
               THEN 'external_id must be 1-64 printable characters'
             WHEN s.refs <> 1 THEN 'give exactly one of member_id, mobile, unionid'
             WHEN coalesce(s.member_id, '') <> '' AND s.uid IS NULL THEN 'member_id is not a UUID'
             WHEN s.mobile <> '' AND f.fingerprint IS NULL THEN 'mobile is not a mainland China mobile'
             WHEN coalesce(mi.id, mm.id, {union_id}) IS NULL THEN 'unknown member'
             WHEN coalesce(mi.status, mm.status, {union_status}) <> 'active' THEN 'member is frozen or closed'
             WHEN octet_length(coalesce(s.store_code, '')) NOT BETWEEN 1 AND 32 OR s.store_code ~ '[^A-Za-z0-9_-]'
                  OR left(s.store_code, 1) IN ('_', '-')
               THEN 'store_code is malformed'
             WHEN store.code IS NULL THEN 'unknown store'
             WHEN char_length(coalesce(s.guide, '')) > 64 OR s.guide ~ '[[:cntrl:]]' THEN 'guide is too long'
             WHEN lower(coalesce(s.channel, '')) NOT IN ({_CHANNELS}) THEN 'unknown channel'
             WHEN s.paid IS NULL OR s.paid <= 0 THEN 'paid_fen must be a positive integer'
             WHEN s.discount IS NULL OR s.discount < 0 THEN 'discount_fen must be 0 or more'
             WHEN s.at IS NULL THEN 'occurred_at is not a time'
             WHEN s.at < TIMESTAMPTZ '2000-01-01 00:00:00+00' THEN 'occurred_at is before 2000-01-01'
             WHEN s.at > now() + make_interval(secs => {_SKEW}) THEN 'occurred_at is in the future'
             WHEN s.lines_json IS NULL OR jsonb_typeof(s.lines_json) <> 'array' THEN 'lines is not a JSON array'
             WHEN l.ok IS NOT NULL AND NOT l.ok THEN 'a line lacks sku, category or integers'
             WHEN l.ok AND l.gross - s.discount <> s.paid THEN 'lines do not add up to paid_fen + discount_fen'
           END AS reason
    FROM (
        SELECT st.*, {_lines_json(careful=careful)} AS lines_json,
               CASE WHEN pg_input_is_valid(st.occurred_at, 'timestamptz') THEN st.occurred_at::timestamptz END AS at,
               CASE WHEN octet_length(st.member_id) = 36 AND pg_input_is_valid(st.member_id, 'uuid')
                    THEN st.member_id::uuid END AS uid,
               CASE WHEN {_signed("st.paid_fen", 12)} THEN st.paid_fen::bigint END AS paid,
               CASE WHEN coalesce(st.discount_fen, '') = '' THEN 0
                    WHEN {_signed("st.discount_fen", 12)} THEN st.discount_fen::bigint END AS discount,
               (coalesce(st.member_id, '') <> '')::int + (coalesce(st.mobile, '') <> '')::int
                   + (coalesce(st.unionid, '') <> '')::int AS refs
        FROM {staging} st
        OFFSET 0  -- a fence: each expression above is computed once per row, not once per use below
    ) AS s
    {_LINES}
    LEFT JOIN members.members mi ON mi.id = s.uid
    LEFT JOIN {staging}_mobiles f ON s.mobile <> '' AND f.mobile = s.mobile
    LEFT JOIN members.members mm ON f.fingerprint IS NOT NULL AND mm.mobile_fingerprint = f.fingerprint
    LEFT JOIN members.stores store ON store.code = s.store_code
    {union_join}
    """  # noqa: S608 (identifiers are ours, values are parameters)


def _import_sql(staging: str, *, unionids: bool, careful: bool, earn_points: bool, first: bool = False) -> str:
    """One statement: validate every staged row once (materialised), keep the rejected ones in `<staging>_rejects`,
    insert the valid ones (ON CONFLICT (client, external_id) DO NOTHING, or on a `first` load the first line of each
    id) and, with `earn_points`, write each new order's order.paid event; its one row is the count of orders written.

    $1 client, $2 earns_points, $3 the first 22 hex digits of this run's UUIDv7s: a millisecond timestamp, the
    version, 34 random bits and the variant; the last 10 are the file's line number, a counter (RFC 9562 6.2,
    method 1) that makes the ids unique within the run and ascending, so they append to the primary key.
    """
    returning = (
        "RETURNING id, member_id, external_id, store_code, guide, channel, paid_fen, discount_fen, occurred_at, lines"
        if earn_points
        else "RETURNING 1"
    )
    events = f",\n    events AS ({_EVENTS_SQL})" if earn_points else ""
    return f"""
    WITH v AS MATERIALIZED ({_valid_sql(staging, unionids=unionids, careful=careful)}),
    rejected AS (
        INSERT INTO {staging}_rejects (line, external_id, reason)
        SELECT line, external_id, reason FROM v WHERE reason IS NOT NULL
    ),
    written AS (
        INSERT INTO members.orders (id, client, external_id, member_id, store_code, guide, channel, paid_fen,
            discount_fen, refunded_fen, lines, occurred_at, earns_points, imported, content_hash, lines_gross_fen,
            lines_discounted_fen, gift_lines, line_prices_fen, line_amounts_fen)
        SELECT ($3::text || lpad(to_hex(line), 10, '0'))::uuid, $1::text, external_id, member_id, store_code, guide,
               channel, paid_fen, discount_fen, 0, lines, occurred_at, $2::boolean, true,
               encode(sha256(convert_to(concat_ws('|', member_id, store_code, guide, channel, paid_fen, discount_fen,
                                                  lines_text, occurred_at, $2::boolean), 'UTF8')), 'hex'),
               lines_gross_fen, lines_discounted_fen, gift_lines, line_prices_fen, line_amounts_fen
        FROM v WHERE reason IS NULL {_FIRST_OF_ITS_ID if first else "ON CONFLICT (client, external_id) DO NOTHING"}
        {returning}
    ){events}
    SELECT count(*) FROM written
    """  # noqa: S608 (identifiers are ours, values are parameters)


# On a first load the table is empty and locked until the commit (`first_load`), so only the file itself can repeat
# an id: the first valid line of each id is inserted with a plain INSERT (ON CONFLICT's speculative insertion, a
# check of the unique index before and after each row, cost about a tenth of the statement's backend CPU), the same
# rows ON CONFLICT would keep. A repeat that slipped through would fail on the unique constraint, not be written.
_FIRST_OF_ITS_ID = """
          AND NOT EXISTS (SELECT 1 FROM v AS earlier WHERE earlier.reason IS NULL
                          AND earlier.external_id = v.external_id AND earlier.line < v.line)"""

# An order.paid event (v1, the fields of members.orders.service.paid_event) per new order.
_EVENTS_SQL = """
        INSERT INTO members.outbox (id, type, version, aggregate_id, occurred_at, data)
        SELECT gen_random_uuid(), 'order.paid', 1, w.id::text, w.occurred_at, jsonb_build_object(
            'order_id', w.id, 'client', $1::text, 'external_id', w.external_id, 'member_id', w.member_id,
            'store_code', w.store_code, 'guide', w.guide, 'channel', w.channel, 'paid_fen', w.paid_fen,
            'discount_fen', w.discount_fen, 'occurred_at', w.occurred_at, 'earns_points', true, 'imported', true,
            'categories', coalesce(c.categories, '[]'::jsonb), 'discounted_share', coalesce(c.share, 0),
            'item_count', coalesce(c.items, 0), 'line_count', jsonb_array_length(w.lines))
        FROM written w
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_object('category', cat, 'gross_fen', gross) ORDER BY cat) AS categories,
                   round(sum(disc)::numeric / nullif(sum(gross), 0), 4) AS share, sum(items) AS items
            FROM (SELECT e->>'category' AS cat,
                         sum((e->>'quantity')::bigint * (e->>'unit_price_fen')::bigint) AS gross,
                         sum(CASE WHEN (e->>'discounted')::boolean
                                  THEN (e->>'quantity')::bigint * (e->>'unit_price_fen')::bigint ELSE 0 END) AS disc,
                         sum((e->>'quantity')::bigint) AS items
                  FROM jsonb_array_elements(w.lines) AS e GROUP BY 1) AS per
        ) AS c ON true
        RETURNING 1"""


async def import_orders(
    path: Path,
    *,
    database_url: str,
    vault: MobileVault,
    rejects: Path | None = None,
    earn_points: bool = False,
    client: str = "import",
    console: Console | None = None,
) -> ImportReport:
    """Import an orders CSV (see the module's docstring); the report says what was written, skipped, rejected."""
    console = console or Console(stderr=True)
    header = header_of(path)
    _check_header(header)
    report = ImportReport("orders")
    staging = staging_name("orders")
    conn = await connect(database_url)
    try:
        await tune_session(conn)
        columns = ", ".join(f"{name} text" for name in COLUMNS)
        await conn.execute(f"CREATE UNLOGGED TABLE {staging} (line bigint GENERATED ALWAYS AS IDENTITY, {columns})")
        await conn.execute(f"CREATE UNLOGGED TABLE {staging}_mobiles (mobile text PRIMARY KEY, fingerprint text)")
        await conn.execute(f"CREATE UNLOGGED TABLE {staging}_rejects (line bigint, external_id text, reason text)")
        with (
            step(report, "copy", console),
            Meter(console, "orders", path.stat().st_size) as meter,  # noqa: ASYNC240 (one stat of the input file)
            path.open("rb") as f,
        ):
            status = await conn.copy_to_table(
                staging.split(".")[1],
                schema_name="members",
                source=chunks(f, meter),
                columns=header,
                format="csv",
                header=True,
            )
        report.read = copied(status)
        with step(report, "fingerprint mobiles", console):
            await _fingerprint(conn, staging, vault, has_mobiles="mobile" in header)
        unionids = "unionid" in header and await _has_unionids(conn)
        async with conn.transaction():
            secondary = await first_load(conn, "members.orders")
            if secondary:
                console.print(f"  {secondary.describe()}")
            with step(report, "validate and insert", console):
                args = (client, earn_points, uuid7_prefix())
                try:
                    async with conn.transaction():  # a savepoint: the careful statement runs in the same transaction
                        sql = _import_sql(
                            staging, unionids=unionids, careful=False, earn_points=earn_points, first=bool(secondary)
                        )
                        report.written = await conn.fetchval(sql, *args)
                except asyncpg.DataError:  # a `lines` value that is not JSON: the same statement, parsing with care
                    sql = _import_sql(
                        staging, unionids=unionids, careful=True, earn_points=earn_points, first=bool(secondary)
                    )
                    report.written = await conn.fetchval(sql, *args)
            await finish_first_load(conn, secondary, report, console)
        with step(report, "rejects", console):
            report.rejected = await write_rejects(
                conn,
                f"SELECT line + 1 AS line, external_id, reason FROM {staging}_rejects ORDER BY line",  # noqa: S608
                rejects,
            )
        report.skipped = report.read - report.rejected - report.written
        if not earn_points:
            await _summary_event(conn, report, path, client)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {staging}, {staging}_mobiles, {staging}_rejects")
        await conn.close()
    console.print(report.summary())
    return report


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or not {"member_id", "mobile", "unionid"} & set(header):
        raise ValueError(
            f"orders CSV columns: unknown {unknown or 'none'}, missing {missing or 'none'}; "
            f"expected {', '.join(COLUMNS)} with at least one of member_id, mobile, unionid"
        )


async def _fingerprint(conn: Any, staging: str, vault: MobileVault, *, has_mobiles: bool) -> None:
    """Fingerprint the file's distinct mobiles in Python (the key never reaches SQL) into `<staging>_mobiles`."""
    if not has_mobiles:
        return
    mobiles = [row[0] for row in await conn.fetch(f"SELECT DISTINCT mobile FROM {staging} WHERE mobile <> ''")]  # noqa: S608
    records: list[tuple[str, str | None]] = []
    for mobile in mobiles:
        try:
            records.append((mobile, vault.fingerprint(normalise_mobile(mobile))))
        except InvalidMobile:
            records.append((mobile, None))
    await conn.copy_records_to_table(staging.split(".")[1] + "_mobiles", schema_name="members", records=records)


async def _has_unionids(conn: Any) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'members' AND table_name = 'members' "
        "AND column_name = 'wechat_unionid'"
    )
    return found is not None


async def _summary_event(conn: Any, report: ImportReport, path: Path, client: str) -> None:
    """One `orders.imported` event instead of one per historical order (they earn nothing)."""
    data = {
        "client": client,
        "file": path.name,
        "written": report.written,
        "skipped": report.skipped,
        "rejected": report.rejected,
        "earns_points": False,
    }
    await conn.execute(
        "INSERT INTO members.outbox (id, type, version, aggregate_id, occurred_at, data) "
        "VALUES (gen_random_uuid(), 'orders.imported', 1, $1, now(), $2::jsonb)",
        client,
        json.dumps(data),
    )
