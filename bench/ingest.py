"""Ingest benchmarks: the bulk import of generated CSV files beside two baselines (goal ≥ 0.5×): a raw COPY of the
same files into a plain table without indexes, and a raw COPY of the same rows the import wrote into a table shaped
like the live target (its columns, defaults, checks, indexes, unique constraints, foreign keys and triggers; for
members also the member.registered outbox rows into a table like the outbox: the cheapest raw way to the same end
state); the ceiling (shaped COPY ÷ plain-file COPY: the fastest possible import reaching that end state, as a share
of the plain COPY); and batched order ingest through the gateway (recordOrders ×100) beside raw batched SQL inserts
of the same rows.

Standalone (the import half needs no stack): python -m bench.ingest [--members 100000] [--orders 1000000]
10M orders is `--orders 10000000` (minutes and several GB of disk); it is never the default.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console

from bench.api import Api, success
from bench.raw import asyncpg_dsn
from members.config import MembersSettings
from members.pii import MobileVault
from yutang_dev.importer import import_members, import_orders
from yutang_dev.keys import ensure_keys
from yutang_dev.migrate import upgrade
from yutang_dev.pg import EmbeddedPostgres

CATEGORIES = ("tea", "snacks", "fruit", "dairy", "bakery")
CHANNELS = ("in_store", "mini_program", "delivery_platform", "live_stream", "community_group")
RECORD_ORDERS = """mutation($i: [RecordOrderInput!]!) { recordOrders(inputs: $i) {
  __typename ... on Error { message } } }"""


# ------------------------------------------------------------------------------------------- CSV files


def write_members(path: Path, count: int) -> list[str]:
    """A members CSV of `count` distinct mobiles; the mobiles, for the orders file."""
    mobiles = [f"13{i:09d}" for i in range(count)]
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["mobile", "nickname", "source_channel", "registered_at"])
        for i, mobile in enumerate(mobiles):
            out.writerow([mobile, f"m{i}", "store_qr", "2024-01-01 10:00:00"])
    return mobiles


def order_lines(rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    lines: list[dict[str, Any]] = [
        {
            "sku": f"SKU{rng.randrange(5000)}",
            "category": rng.choice(CATEGORIES),
            "quantity": rng.randint(1, 3),
            "unit_price_fen": rng.randrange(100, 10000),
            "discounted": rng.random() < 0.3,
        }
        for _ in range(rng.randint(1, 4))
    ]
    return lines, sum(line["quantity"] * line["unit_price_fen"] for line in lines)


def write_orders(path: Path, member_ids: Sequence[str], count: int, seed: int = 7, prefix: str = "H") -> None:
    """An orders CSV by member id (external ids `<prefix><n>`): one to four lines each, a discount, the last three
    years."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["external_id", "member_id", "store_code", "channel", "paid_fen", "discount_fen", "occurred_at", "lines"]
        )
        for i in range(count):
            lines, gross = order_lines(rng)
            discount = gross // 10
            at = start + timedelta(seconds=rng.randrange(3 * 365 * 86400))
            out.writerow(
                [
                    f"{prefix}{i}",
                    rng.choice(member_ids),
                    f"S{rng.randrange(200):03d}",
                    rng.choice(CHANNELS),
                    gross - discount,
                    discount,
                    at.isoformat(),
                    json.dumps(lines, separators=(",", ":")),
                ]
            )


# --------------------------------------------------------------------------------------- import vs COPY


async def ensure_stores(conn: Any, count: int = 200) -> None:
    """Stores S000…S199 in one region: orders name existing stores."""
    region = await conn.fetchval(
        "INSERT INTO members.regions (id, code, name) VALUES (gen_random_uuid(), 'BENCH', 'Bench') "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id"
    )
    await conn.execute(
        "INSERT INTO members.stores (id, code, name, region_id) SELECT gen_random_uuid(), c, c, $1 "
        "FROM (SELECT 'S' || lpad(n::text, 3, '0') AS c FROM generate_series(0, $2 - 1) AS n) AS s "
        "ON CONFLICT (code) DO NOTHING",
        region,
        count,
    )


async def raw_copy(dsn: str, path: Path, repeat: int = 3) -> float:
    """Seconds to COPY the file into a plain text table with the file's columns (the baseline): the median of
    `repeat` runs, each into a new table (the machine is shared; one run can land on a busy moment)."""
    with path.open() as handle:
        columns = next(csv.reader(handle))
    conn = await asyncpg.connect(dsn)
    times = []
    try:
        for _ in range(repeat):
            await conn.execute("DROP TABLE IF EXISTS public.bench_raw_copy")
            await conn.execute(f"CREATE TABLE public.bench_raw_copy ({', '.join(f'{c} text' for c in columns)})")
            started = time.perf_counter()
            await conn.copy_to_table("bench_raw_copy", schema_name="public", source=path, format="csv", header=True)
            times.append(time.perf_counter() - started)
            await conn.execute("DROP TABLE public.bench_raw_copy")
    finally:
        await conn.close()
    return statistics.median(times)


async def snapshot_ids(dsn: str, table: str) -> str:
    """Remember the ids `table` holds now (in a bench table, whose name this returns), so the rows an import adds
    can be told from those it found."""
    seen = f"public.bench_seen_{table.split('.')[-1]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {seen}")
        await conn.execute(f"CREATE TABLE {seen} AS SELECT id FROM {table}")  # noqa: S608 (our own names)
        await conn.execute(f"ALTER TABLE {seen} ADD PRIMARY KEY (id)")
    finally:
        await conn.close()
    return seen


async def _shaped_table(conn: Any, table: str, name: str, *, secondary: bool) -> list[str]:
    """Create `name` like `table`: `LIKE … INCLUDING ALL` (columns, defaults, checks, the primary key, unique
    constraints and indexes) and the same triggers; the same foreign keys, pointing at the same live tables, unless
    `secondary` is false: then its non-unique indexes are dropped and the statements that add them and the foreign
    keys back are returned (to run after the COPY, as a first load does)."""
    await conn.execute(f"DROP TABLE IF EXISTS {name}")
    await conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING ALL)")
    triggers = await conn.fetch(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal", table
    )
    for (definition,) in triggers:
        await conn.execute(definition.replace(f" ON {table} ", f" ON {name} "))
    fks = [
        f"ALTER TABLE {name} ADD CONSTRAINT {name.split('.')[-1]}_fk{i} {row[0]}"
        for i, row in enumerate(
            await conn.fetch(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' "
                "ORDER BY conname",
                table,
            )
        )
    ]
    if secondary:
        for statement in fks:
            await conn.execute(statement)
        return []
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = $1::regclass AND NOT i.indisunique AND NOT i.indisprimary",
        name,
    )
    for index_name, _ in indexes:
        await conn.execute(f"DROP INDEX {index_name}")
    return [definition for _, definition in indexes] + fks


@dataclass(frozen=True)
class Target:
    """A table an import writes, the rows of this run in it and the rows it held before (queries), and the bench
    table shaped like it."""

    table: str
    rows: str
    before: str
    shaped: str


async def shaped_copy(
    dsn: str, targets: Sequence[Target], work: Path, *, prefill: bool, after: bool = False, repeat: int = 3
) -> float:
    """Seconds to COPY the rows the import added to each target (`Target.rows`, exported to CSV first, untimed) into
    a new table shaped like it (`_shaped_table`), pointing at the same live tables. With `prefill` the new table first
    holds the rows the target had before (untimed), as the import's ordinary path finds them. With `after`, the
    fastest raw first load: COPY into the table without its non-unique indexes and foreign keys, then build and add
    them (timed). Triggers are copied; the summary trigger on orders skips rows that carry their summary (these do),
    as it skips the import's. The median of `repeat` runs."""
    conn = await asyncpg.connect(dsn)
    times = []
    exports = [work / f"shaped-{t.shaped.split('.')[-1]}.csv" for t in targets]
    try:
        for target, export in zip(targets, exports, strict=True):
            await conn.copy_from_query(target.rows, output=str(export), format="csv")
        for _ in range(repeat):
            restore = {t.shaped: await _shaped_table(conn, t.table, t.shaped, secondary=not after) for t in targets}
            if prefill:
                for target in targets:
                    await conn.execute(f"INSERT INTO {target.shaped} OVERRIDING SYSTEM VALUE {target.before}")
            started = time.perf_counter()
            for target, export in zip(targets, exports, strict=True):
                schema, name = target.shaped.split(".")
                await conn.copy_to_table(name, schema_name=schema, source=export, format="csv")
                for statement in restore[target.shaped]:
                    await conn.execute(statement)
            times.append(time.perf_counter() - started)
            for target in targets:
                await conn.execute(f"DROP TABLE {target.shaped}")
    finally:
        await conn.close()
        for export in exports:
            export.unlink(missing_ok=True)
    return statistics.median(times)


def new_rows(table: str, seen: str, where: str = "") -> str:
    """The rows of `table` whose id is not in `seen` (see `snapshot_ids`)."""
    return f"SELECT * FROM {table} AS t WHERE NOT EXISTS (SELECT 1 FROM {seen} AS s WHERE s.id = t.id){where}"  # noqa: S608


def old_rows(table: str, seen: str) -> str:
    """The rows of `table` whose id is in `seen`."""
    return f"SELECT * FROM {table} AS t WHERE EXISTS (SELECT 1 FROM {seen} AS s WHERE s.id = t.id)"  # noqa: S608


async def drop(dsn: str, *tables: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for table in tables:
            await conn.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        await conn.close()


async def baselines(dsn: str, run: Run, targets: Sequence[Target], work: Path, repeat: int) -> None:
    """The shaped baselines of `run`: COPY into tables with their rows (prefilled) and every index; and, on a first
    load, also the fastest raw first load (indexes built and foreign keys added after the COPY). The plain COPY of
    its file is measured right after, so the ceiling compares two baselines taken at the same moment's load."""
    run.shaped = await shaped_copy(dsn, targets, work, prefill=True, repeat=repeat)
    if run.first_load:
        run.shaped_after = await shaped_copy(dsn, targets, work, prefill=True, after=True, repeat=repeat)
    run.raw = await raw_copy(dsn, run.file, repeat)


async def measure_import(database_url: str, work: Path, *, members: int, orders: int, once: bool = False) -> list[str]:
    """Generate the files, import them and COPY them raw (both baselines); report lines. Unless `once`: the same
    orders again (adds nothing) and a second file of new orders into the now filled table (the ordinary path: no
    index rebuild), and three raw COPYs each (the median)."""
    key = MembersSettings(database_url=database_url).pii_key_bytes()
    vault = MobileVault(key)
    dsn = asyncpg_dsn(database_url)
    repeat = 1 if once else 3
    quiet = Console(file=open("/dev/null", "w"))  # noqa: SIM115, ASYNC230 (a sink for the progress bar)
    print(f"generating {members:,} members and {orders:,} orders…", flush=True)
    started = time.perf_counter()
    write_members(work / "members.csv", members)
    print(f"  members.csv written in {time.perf_counter() - started:.0f} s; importing…", flush=True)
    seen, seen_events = await snapshot_ids(dsn, "members.members"), await snapshot_ids(dsn, "members.outbox")
    members_report = await import_members(
        work / "members.csv", database_url=database_url, vault=vault, key=key, console=quiet
    )
    print(f"  {members_report.summary()}", flush=True)
    runs: list[Run] = [
        Run(
            f"import members ×{members:,}",
            members_report,
            work / "members.csv",
            "members.members and its member.registered events",
            first_load="rebuild indexes" in members_report.seconds,
        ),
    ]
    targets = [
        Target(
            "members.members",
            new_rows("members.members", seen),
            old_rows("members.members", seen),
            "public.bench_shaped",
        ),
        Target(
            "members.outbox",
            new_rows("members.outbox", seen_events, " AND t.type = 'member.registered'"),
            old_rows("members.outbox", seen_events),
            "public.bench_shaped_outbox",
        ),
    ]
    await baselines(dsn, runs[0], targets, work, repeat)
    await drop(dsn, seen, seen_events)
    conn = await asyncpg.connect(dsn)
    await ensure_stores(conn)
    ids = [str(row[0]) for row in await conn.fetch("SELECT id FROM members.members")]
    await conn.close()
    started = time.perf_counter()
    write_orders(work / "orders.csv", ids, orders)
    print(f"  orders.csv written in {time.perf_counter() - started:.0f} s; importing…", flush=True)
    runs.append(await _orders_run(database_url, dsn, vault, work / "orders.csv", quiet, orders, repeat))
    if not once:
        rerun = await import_orders(work / "orders.csv", database_url=database_url, vault=vault, console=quiet)
        runs.append(Run(f"re-import orders ×{orders:,} (adds nothing)", rerun, work / "orders.csv", "members.orders"))
        write_orders(work / "more.csv", ids, orders, seed=8, prefix="J")
        runs.append(await _orders_run(database_url, dsn, vault, work / "more.csv", quiet, orders, repeat))
    raw: dict[Path, float] = {run.file: run.raw for run in runs if run.raw is not None}
    for run in runs:
        raw[run.file] = raw.get(run.file) or await raw_copy(dsn, run.file, repeat)
    return [line for run in runs for line in run.lines(run.raw or raw[run.file])]


@dataclass
class Run:
    """One import in the benchmark: its report, its file, its target table(s), the shaped baseline's seconds (None
    when the import added nothing: there is no end state to reach) and, on a first load, the seconds of the fastest
    raw first load (COPY, then indexes and foreign keys)."""

    label: str
    report: Any
    file: Path
    target: str
    shaped: float | None = None
    first_load: bool = False
    shaped_after: float | None = None
    raw: float | None = None

    def lines(self, raw_seconds: float) -> list[str]:
        """The import's rate, its ratios (each labelled with its baseline) and the ceiling."""
        done = self.report
        rate, raw_rate = done.read / done.total_seconds, done.read / raw_seconds
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in done.seconds.items())
        out = [
            f"  {self.label:<52} {rate:10,.0f} rows/s  [{steps}]",
            f"    vs raw COPY of the file into a plain table, no indexes   {raw_rate:10,.0f} rows/s  "
            f"{rate / raw_rate:5.2f}×  (goal ≥ 0.5×)",
        ]
        if self.shaped is None:
            out.append(f"    vs raw COPY of its rows into a table like {self.target}: –  (nothing added)")
            return out
        shaped_rate = done.written / self.shaped
        ratio = (done.written / done.total_seconds) / shaped_rate
        out.append(
            f"    vs raw COPY of its {done.written:,} rows into tables like {self.target} (same indexes, unique "
            f"constraints, FKs, triggers{', rows it held' if not self.first_load else ''}) "
            f"{shaped_rate:10,.0f} rows/s  {ratio:5.2f}× (rows written/s)"
        )
        if self.shaped_after is not None:
            after_rate = done.written / self.shaped_after
            out.append(
                f"    vs the fastest raw first load of the same rows (COPY without secondary indexes and FKs, then "
                f"build and add them) {after_rate:10,.0f} rows/s  {rate * done.written / done.read / after_rate:5.2f}×"
            )
        fastest = min(self.shaped, self.shaped_after or self.shaped)
        out.append(
            f"    ceiling: the fastest possible import reaching this end state (raw COPY of its rows, {fastest:.2f} s) "
            f"as a share of the plain COPY of the file ({raw_seconds:.2f} s): {raw_seconds / fastest:5.2f}×"
        )
        return out


async def _orders_run(
    database_url: str, dsn: str, vault: MobileVault, file: Path, quiet: Console, orders: int, repeat: int
) -> Run:
    """Import an orders file and measure the shaped baseline of the rows it wrote."""
    seen = await snapshot_ids(dsn, "members.orders")
    report = await import_orders(file, database_url=database_url, vault=vault, console=quiet)
    first = "rebuild indexes" in report.seconds
    path = "first load, indexes rebuilt" if first else "into a table with orders"
    print(f"  {report.summary()}", flush=True)
    run = Run(f"import orders ×{orders:,} ({path})", report, file, "members.orders", first_load=first)
    targets = [
        Target(
            "members.orders",
            new_rows("members.orders", seen),
            old_rows("members.orders", seen),
            "public.bench_shaped",
        )
    ]
    await baselines(dsn, run, targets, file.parent, repeat)
    await drop(dsn, seen)
    return run


# ------------------------------------------------------------------------------- gateway vs raw inserts


def gateway_orders(member_ids: Sequence[str], tag: str, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """`n` recordOrders inputs for random members."""
    items = []
    for i in range(n):
        lines, gross = order_lines(rng)
        items.append(
            {
                "externalId": f"{tag}-{i}",
                "memberId": rng.choice(member_ids),
                "storeCode": "S001",
                "channel": "IN_STORE",
                "paidFen": gross,
                "occurredAt": datetime.now(UTC).isoformat(),
                "lines": [
                    {
                        "sku": x["sku"],
                        "category": x["category"],
                        "quantity": x["quantity"],
                        "unitPriceFen": x["unit_price_fen"],
                        "discounted": x["discounted"],
                    }
                    for x in lines
                ],
            }
        )
    return items


_RAW_INSERT = """
INSERT INTO members.orders (id, client, external_id, member_id, store_code, guide, channel, paid_fen, discount_fen,
    refunded_fen, lines, occurred_at, earns_points, imported, content_hash)
SELECT gen_random_uuid(), 'bench-raw', x, m, 'S001', NULL, 'in_store', p, 0, 0, l::jsonb, now(), true, false, ''
FROM unnest($1::varchar[], $2::uuid[], $3::bigint[], $4::text[]) AS t(x, m, p, l)
ON CONFLICT (client, external_id) DO NOTHING
"""


async def measure_gateway_ingest(
    api: Api, database_url: str, member_ids: Sequence[str], *, batches: int = 20, clients: int = 3
) -> list[str]:
    """recordOrders ×100 through the gateway beside the same rows inserted raw (one unnest statement a batch)."""
    rng = random.Random(11)
    run = uuid.uuid4().hex[:8]
    payloads = [gateway_orders(member_ids, f"g{run}-{b}", 100, rng) for b in range(batches)]

    async def through_gateway(batch: list[dict[str, Any]]) -> None:
        for payload in (await api.gateway(RECORD_ORDERS, {"i": batch}))["recordOrders"]:
            success(payload, "recordOrders")

    pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=clients, max_size=clients)
    async with pool.acquire() as conn:
        await ensure_stores(conn)  # the orders name store S001

    async def raw(batch: list[dict[str, Any]]) -> None:
        lines = [json.dumps(item["lines"]) for item in batch]
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                _RAW_INSERT,
                [f"r{i['externalId']}" for i in batch],
                [uuid.UUID(i["memberId"]) for i in batch],
                [i["paidFen"] for i in batch],
                lines,
            )

    async def timed(call: Any) -> float:
        queue = list(payloads)
        started = time.perf_counter()

        async def worker() -> None:
            while queue:
                await call(queue.pop())

        await asyncio.gather(*(worker() for _ in range(clients)))
        return batches * 100 / (time.perf_counter() - started)

    gateway_rate, raw_rate = await timed(through_gateway), await timed(raw)
    await pool.close()
    return [
        f"  recordOrders ×100 via gateway, {clients} clients {gateway_rate:10,.0f} orders/s  raw batched SQL "
        f"{raw_rate:10,.0f} orders/s  {gateway_rate / raw_rate:5.2f}×"
    ]


# ---------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--once", action="store_true", help="import each file once and COPY it raw once (for 10M-row runs)"
    )
    parser.add_argument("--keep", type=Path, help="work in this directory and keep its files (default: a temp dir)")
    args = parser.parse_args(argv)
    data = args.keep or Path(tempfile.mkdtemp(prefix="yi-", dir="/tmp"))
    data.mkdir(parents=True, exist_ok=True)
    pg = EmbeddedPostgres(data / "pg")
    try:
        ensure_keys(data)
        import os

        os.environ["YUTANG_DATA_DIR"] = str(data)
        pg.start()
        pg.ensure_database("bench")
        url = pg.url("bench")
        upgrade(url, ["members"])
        started = time.perf_counter()
        lines = asyncio.run(measure_import(url, data, members=args.members, orders=args.orders, once=args.once))
        for line in lines:
            print(line)
        print(f"  (whole run {time.perf_counter() - started:.0f} s)")
    finally:
        pg.stop()
        if args.keep is None:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
