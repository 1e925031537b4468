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
    header_of,
    staging_name,
    step,
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
_UUID_TEXT = "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"
# ISO times a cast always accepts (days up to 28); anything else is checked with pg_input_is_valid.
_ISO_TIME = (
    r"'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[ T][0-2][0-9]:[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'"
)

# Each line of the JSON array must carry a sku and category and integer quantity and price; `ok` is false when a
# line does not, `gross` is sum(quantity × unit price) when every line does.
_LINES = """
    LEFT JOIN LATERAL (
        SELECT bool_and(jsonb_typeof(e) = 'object' AND coalesce(e->>'sku', '') <> ''
                        AND coalesce(e->>'category', '') <> ''
                        AND (e->>'quantity') ~ '^[0-9]{1,6}$' AND (e->>'quantity')::int > 0
                        AND (e->>'unit_price_fen') ~ '^[0-9]{1,11}$') AS ok,
               sum(CASE WHEN (e->>'quantity') ~ '^[0-9]{1,6}$' AND (e->>'unit_price_fen') ~ '^[0-9]{1,11}$'
                        THEN (e->>'quantity')::bigint * (e->>'unit_price_fen')::bigint END) AS gross
        FROM jsonb_array_elements(CASE WHEN s.lines_json IS NOT NULL AND jsonb_typeof(s.lines_json) = 'array'
                                       THEN s.lines_json ELSE '[]'::jsonb END) AS e
    ) AS l ON true
"""


def _checked_sql(staging: str, checked: str, *, unionids: bool) -> str:
    union_join = "LEFT JOIN members.members mu ON s.unionid <> '' AND mu.wechat_unionid = s.unionid" if unionids else ""
    union_id = "mu.id" if unionids else "NULL::uuid"
    union_status = "mu.status" if unionids else "NULL"
    return f"""
    CREATE UNLOGGED TABLE {checked} AS
    WITH s AS (
        SELECT st.*,
               CASE WHEN coalesce(st.lines, '') = '' THEN '[]'::jsonb
                    WHEN pg_input_is_valid(st.lines, 'jsonb') THEN st.lines::jsonb END AS lines_json,
               -- pg_input_is_valid parses its type name on every call: only rows a cast may refuse pay for it
               CASE WHEN st.occurred_at ~ {_ISO_TIME}
                      THEN st.occurred_at::timestamptz
                    WHEN pg_input_is_valid(st.occurred_at, 'timestamptz') THEN st.occurred_at::timestamptz END AS at,
               CASE WHEN st.paid_fen ~ '^-?[0-9]{{1,12}}$' THEN st.paid_fen::bigint END AS paid,
               CASE WHEN coalesce(st.discount_fen, '') = '' THEN 0
                    WHEN st.discount_fen ~ '^-?[0-9]{{1,12}}$' THEN st.discount_fen::bigint END AS discount,
               (coalesce(st.member_id, '') <> '')::int + (coalesce(st.mobile, '') <> '')::int
                   + (coalesce(st.unionid, '') <> '')::int AS refs
        FROM {staging} st
    )
    SELECT s.line, s.external_id, s.store_code, nullif(s.guide, '') AS guide, lower(s.channel) AS channel,
           s.paid AS paid_fen, s.discount AS discount_fen, s.at AS occurred_at, s.lines_json AS lines,
           coalesce(mi.id, mm.id, {union_id}) AS member_id,
           CASE
             WHEN coalesce(s.external_id, '') !~ '^[!-~]{{1,64}}$' THEN 'external_id must be 1-64 printable characters'
             WHEN s.refs <> 1 THEN 'give exactly one of member_id, mobile, unionid'
             WHEN coalesce(s.member_id, '') <> '' AND s.member_id !~ {_UUID_TEXT}
               THEN 'member_id is not a UUID'
             WHEN s.mobile <> '' AND f.fingerprint IS NULL THEN 'mobile is not a mainland China mobile'
             WHEN coalesce(mi.id, mm.id, {union_id}) IS NULL THEN 'unknown member'
             WHEN coalesce(mi.status, mm.status, {union_status}) <> 'active' THEN 'member is frozen or closed'
             WHEN coalesce(s.store_code, '') !~ '^[A-Za-z0-9][A-Za-z0-9_-]{{0,31}}$' THEN 'store_code is malformed'
             WHEN store.code IS NULL THEN 'unknown store'
             WHEN coalesce(s.guide, '') !~ '^[^[:cntrl:]]{{0,64}}$' THEN 'guide is too long'
             WHEN lower(coalesce(s.channel, '')) NOT IN ({_CHANNELS}) THEN 'unknown channel'
             WHEN s.paid IS NULL OR s.paid <= 0 THEN 'paid_fen must be a positive integer'
             WHEN s.discount IS NULL OR s.discount < 0 THEN 'discount_fen must be 0 or more'
             WHEN s.at IS NULL THEN 'occurred_at is not a time'
             WHEN s.at < TIMESTAMPTZ '2000-01-01 00:00:00+00' THEN 'occurred_at is before 2000-01-01'
             WHEN s.at > now() + make_interval(secs => {_SKEW}) THEN 'occurred_at is in the future'
             WHEN s.lines_json IS NULL OR jsonb_typeof(s.lines_json) <> 'array' THEN 'lines is not a JSON array'
             WHEN jsonb_array_length(s.lines_json) > 0 AND NOT l.ok THEN 'a line lacks sku, category or integers'
             WHEN jsonb_array_length(s.lines_json) > 0 AND l.gross - s.discount <> s.paid
               THEN 'lines do not add up to paid_fen + discount_fen'
           END AS reason
    FROM s
    {_LINES}
    LEFT JOIN members.members mi
      ON s.member_id ~ {_UUID_TEXT} AND mi.id = s.member_id::uuid
    LEFT JOIN {staging}_mobiles f ON s.mobile <> '' AND f.mobile = s.mobile
    LEFT JOIN members.members mm ON f.fingerprint IS NOT NULL AND mm.mobile_fingerprint = f.fingerprint
    LEFT JOIN members.stores store ON store.code = s.store_code
    {union_join}
    """  # noqa: S608 (identifiers are ours, values are parameters)


# A time-ordered UUID (version 7) from the clock, like members.orders.rules.uuid7.
_UUID7 = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), "
    "52, 1), 53, 1), 'hex')::uuid"
)


def _insert_sql(checked: str) -> str:
    return f"""
    INSERT INTO members.orders (id, client, external_id, member_id, store_code, guide, channel, paid_fen,
        discount_fen, refunded_fen, lines, occurred_at, earns_points, imported, content_hash)
    SELECT {_UUID7}, $1::text, external_id, member_id, store_code, guide, channel, paid_fen, discount_fen, 0, lines,
           occurred_at, $2::boolean, true,
           encode(sha256(convert_to(concat_ws('|', member_id, store_code, guide, channel, paid_fen, discount_fen,
                                              lines::text, occurred_at, $2::boolean), 'UTF8')), 'hex')
    FROM {checked} WHERE reason IS NULL
    ON CONFLICT (client, external_id) DO NOTHING
    RETURNING id, member_id, external_id, store_code, guide, channel, paid_fen, discount_fen, occurred_at, lines
    """  # noqa: S608 (identifiers are ours, values are parameters)


def _with_events_sql(checked: str) -> str:
    """The upsert, and an order.paid event (v1, the fields of members.orders.service.paid_event) per new order."""
    return f"""
    WITH written AS ({_insert_sql(checked)}),
    events AS (
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
        RETURNING 1
    )
    SELECT count(*) FROM written
    """  # noqa: S608 (identifiers are ours, values are parameters)


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
    staging, checked = staging_name("orders"), staging_name("orders_checked")
    conn = await connect(database_url)
    try:
        await conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        columns = ", ".join(f"{name} text" for name in COLUMNS)
        await conn.execute(f"CREATE UNLOGGED TABLE {staging} (line bigint GENERATED ALWAYS AS IDENTITY, {columns})")
        await conn.execute(f"CREATE UNLOGGED TABLE {staging}_mobiles (mobile text PRIMARY KEY, fingerprint text)")
        with (
            step(report, "copy", console),
            Meter(console, "orders", path.stat().st_size) as meter,  # noqa: ASYNC240 (one stat of the input file)
            path.open("rb") as f,
        ):
            await conn.copy_to_table(
                staging.split(".")[1],
                schema_name="members",
                source=chunks(f, meter),
                columns=header,
                format="csv",
                header=True,
            )
        report.read = await conn.fetchval(f"SELECT count(*) FROM {staging}")  # noqa: S608
        await conn.execute(f"ANALYZE {staging}")  # the planner's row counts: joins by hash, not by loop
        with step(report, "fingerprint mobiles", console):
            await _fingerprint(conn, staging, vault, has_mobiles="mobile" in header)
        unionids = "unionid" in header and await _has_unionids(conn)
        with step(report, "validate", console):
            await conn.execute(_checked_sql(staging, checked, unionids=unionids))
        await conn.execute(f"ANALYZE {checked}")
        with step(report, "upsert", console):
            insert = (
                _with_events_sql(checked)
                if earn_points
                else f"WITH w AS ({_insert_sql(checked)}) SELECT count(*) FROM w"  # noqa: S608 (identifiers are ours, values are parameters)
            )
            report.written = await conn.fetchval(insert, client, earn_points)
        with step(report, "rejects", console):
            report.rejected = await write_rejects(
                conn,
                f"SELECT line + 1 AS line, external_id, reason FROM {checked} WHERE reason IS NOT NULL ORDER BY line",  # noqa: S608
                rejects,
            )
        report.skipped = report.read - report.rejected - report.written
        if not earn_points:
            await _summary_event(conn, report, path, client)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {staging}, {staging}_mobiles, {checked}")
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
