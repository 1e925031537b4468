"""The bulk import on the real database: members and orders from CSV, rejects with line numbers, re-runs that add
nothing, imported orders marked and silent on the bus unless asked, the progress output, and bulk sealing."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.config import MembersSettings
from members.pii import MobileVault
from tests.members.orders.conftest import make_stores
from yutang_dev.importer import import_members, import_orders
from yutang_dev.importer.sealing import BulkSealer

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).isoformat()
LINES = json.dumps(
    [
        {"sku": "A", "category": "tea", "quantity": 2, "unit_price_fen": 500, "discounted": True},
        {"sku": "B", "category": "snacks", "quantity": 1, "unit_price_fen": 300},
    ]
)


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def key() -> bytes:
    return MembersSettings().pii_key_bytes()


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=160), out


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar_one()


def test_bulk_sealed_mobiles_open_with_the_vault(database_url: str) -> None:
    vault = MobileVault(key())

    tokens = BulkSealer(key()).seal(["13800138000", "13900139000"])

    assert [vault.reveal(token) for token in tokens] == ["13800138000", "13900139000"]
    assert tokens[0] != BulkSealer(key()).seal(["13800138000"])[0]  # a fresh IV each time


async def test_members_import_rejects_with_line_numbers_and_a_rerun_adds_nothing(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    source = write_csv(
        tmp_path / "members.csv",
        ["mobile", "nickname", "source_channel", "registered_at"],
        [
            ["138 0013 8000", "小鱼", "store_qr", "2024-05-01 10:00:00"],
            ["12345", "bad", "store_qr", ""],
            ["13900139000", "", "ADS", ""],
            ["13700137000", "x", "nowhere", ""],
            ["+8613800138000", "dup", "ads", ""],
            ["13600136000", "", "ads", "not a date"],
        ],
    )
    rejects = tmp_path / "rejects.csv"
    out, printed = console()

    first = await import_members(
        source, database_url=database_url, vault=MobileVault(key()), key=key(), rejects=rejects, console=out
    )
    again = await import_members(source, database_url=database_url, vault=MobileVault(key()), key=key(), console=out)

    assert (first.read, first.written, first.skipped, first.rejected) == (6, 2, 1, 3)
    assert (again.written, again.skipped, again.rejected) == (0, 3, 3)
    assert "rebuild indexes" in first.seconds  # the first members: secondary indexes rebuilt after the insert
    assert "rebuild indexes" not in again.seconds
    with rejects.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in rows] == [3, 5, 7]
    assert "rows/s" in printed.getvalue()
    sealed = await scalar(engine, "SELECT mobile_ciphertext FROM members.members WHERE nickname = '小鱼'")
    assert MobileVault(key()).reveal(sealed) == "13800138000"
    fingerprint = await scalar(engine, "SELECT mobile_fingerprint FROM members.members WHERE nickname = '小鱼'")
    assert fingerprint == MobileVault(key()).fingerprint("13800138000")
    assert await scalar(engine, "SELECT count(*) FROM members.outbox WHERE type = 'members.imported'") == 2
    # each new member announced once, like a registration, so loyalty's and community's directories know them
    announced = await scalar(
        engine,
        "SELECT count(*) FROM members.outbox o JOIN members.members m ON o.aggregate_id = m.id::text "
        "WHERE o.type = 'member.registered' AND o.data->>'member_id' = m.id::text "
        "AND (o.data->>'registered_at')::timestamptz = m.registered_at "
        "AND o.data->>'source_channel' = m.source_channel",
    )
    assert announced == 2
    registered = await scalar(
        engine, "SELECT data->>'registered_at' FROM members.outbox WHERE type = 'member.registered' LIMIT 1"
    )
    assert datetime.fromisoformat(registered).tzinfo is not None  # what the directories' consumers parse


async def _members(engine: AsyncEngine, database_url: str, tmp_path: Path) -> uuid.UUID:
    await make_stores(engine, "S001")
    source = write_csv(tmp_path / "m.csv", ["mobile", "source_channel"], [["13800138000", "ads"]])
    await import_members(source, database_url=database_url, vault=MobileVault(key()), key=key(), console=console()[0])
    member_id: uuid.UUID = await scalar(engine, "SELECT id FROM members.members")
    return member_id


async def test_orders_import_validates_marks_imported_and_reruns_idempotently(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    member = await _members(engine, database_url, tmp_path)
    header = [
        "external_id",
        "member_id",
        "mobile",
        "store_code",
        "channel",
        "paid_fen",
        "discount_fen",
        "occurred_at",
        "lines",
    ]
    good = ["O1", str(member), "", "S001", "in_store", "1000", "300", YESTERDAY, LINES]
    source = write_csv(
        tmp_path / "orders.csv",
        header,
        [
            good,
            ["O2", "", "138-0013-8000", "S001", "MINI_PROGRAM", "500", "", "2020-01-01 12:00:00", ""],
            ["O3", str(uuid.uuid4()), "", "S001", "in_store", "1000", "300", YESTERDAY, LINES],
            ["O4", str(member), "", "S001", "in_store", "0", "0", YESTERDAY, ""],
            ["O5", str(member), "", "S001", "in_store", "999", "300", YESTERDAY, LINES],
            ["O6", str(member), "", "S999", "in_store", "100", "", YESTERDAY, ""],
            ["O7", str(member), "", "S001", "teleport", "100", "", YESTERDAY, ""],
            ["O8", str(member), "", "S001", "in_store", "100", "", "1999-01-01T00:00:00Z", ""],
            ["O9", str(member), "", "S001", "in_store", "100", "", "2999-01-01T00:00:00Z", ""],
            ["O10", str(member), "13800138000", "S001", "in_store", "100", "", YESTERDAY, ""],
            ["O11", str(member), "", "S001", "in_store", "100", "", YESTERDAY, "{not json"],
            ["O1", str(member), "", "S001", "in_store", "1000", "300", YESTERDAY, LINES],
        ],
    )
    rejects = tmp_path / "order-rejects.csv"
    out, printed = console()

    first = await import_orders(
        source, database_url=database_url, vault=MobileVault(key()), rejects=rejects, console=out
    )
    again = await import_orders(source, database_url=database_url, vault=MobileVault(key()), console=out)

    assert (first.read, first.written, first.skipped, first.rejected) == (12, 2, 1, 9)
    assert (again.written, again.skipped) == (0, 3)
    with rejects.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["external_id"]) for r in rows] == [(str(n + 1), f"O{n}") for n in range(3, 12)]
    assert {r["reason"] for r in rows} >= {
        "unknown member",
        "unknown store",
        "lines do not add up to paid_fen + discount_fen",
    }
    assert await scalar(engine, "SELECT bool_and(imported AND NOT earns_points) FROM members.orders")
    assert await scalar(engine, "SELECT count(*) FROM members.outbox WHERE type = 'order.paid'") == 0
    assert await scalar(engine, "SELECT count(*) FROM members.outbox WHERE type = 'orders.imported'") == 2
    assert "rows/s" in printed.getvalue()
    assert await scalar(engine, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'import_%'") == 0


async def test_orders_imported_with_earn_points_each_get_an_order_paid_event(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    member = await _members(engine, database_url, tmp_path)
    source = write_csv(
        tmp_path / "orders.csv",
        ["external_id", "member_id", "store_code", "channel", "paid_fen", "discount_fen", "occurred_at", "lines"],
        [["P1", str(member), "S001", "in_store", "1000", "300", YESTERDAY, LINES]],
    )

    report = await import_orders(
        source, database_url=database_url, vault=MobileVault(key()), earn_points=True, console=console()[0]
    )

    assert report.written == 1
    async with engine.connect() as connection:
        data = (
            await connection.execute(text("SELECT data FROM members.outbox WHERE type = 'order.paid'"))
        ).scalar_one()
    assert (data["member_id"], data["paid_fen"], data["imported"], data["earns_points"]) == (
        str(member),
        1000,
        True,
        True,
    )
    assert data["categories"] == [{"category": "snacks", "gross_fen": 300}, {"category": "tea", "gross_fen": 1000}]
    assert float(data["discounted_share"]) == round(1000 / 1300, 4)
    assert await scalar(engine, "SELECT earns_points FROM members.orders")


async def test_orders_import_gives_each_broken_rule_its_reason(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    member = str(await _members(engine, database_url, tmp_path))

    def lines(quantity: Any, price: Any = 500) -> str:
        return json.dumps([{"sku": "A", "category": "tea", "quantity": quantity, "unit_price_fen": price}])

    rows = [
        (["Q1", member.upper(), "S001", "in_store", "1000", "", YESTERDAY, lines("2")], None),
        (["Q2", member, "S001", "in_store", "100", "0", "2024-02-29 23:59:59", ""], None),
        (
            ["Q 3", member, "S001", "in_store", "100", "", YESTERDAY, ""],
            "external_id must be 1-64 printable characters",
        ),
        (
            ["Q" * 65, member, "S001", "in_store", "100", "", YESTERDAY, ""],
            "external_id must be 1-64 printable characters",
        ),
        (["Q5", member[:-1], "S001", "in_store", "100", "", YESTERDAY, ""], "member_id is not a UUID"),
        (["Q6", member, "_S001", "in_store", "100", "", YESTERDAY, ""], "store_code is malformed"),
        (["Q7", member, "S 01", "in_store", "100", "", YESTERDAY, ""], "store_code is malformed"),
        (["Q8", member, "S001", "in_store", "1234567890123", "", YESTERDAY, ""], "paid_fen must be a positive integer"),
        (["Q9", member, "S001", "in_store", "+5", "", YESTERDAY, ""], "paid_fen must be a positive integer"),
        (["Q10", member, "S001", "in_store", "1_000", "", YESTERDAY, ""], "paid_fen must be a positive integer"),
        (["Q11", member, "S001", "in_store", "100", "-1", YESTERDAY, ""], "discount_fen must be 0 or more"),
        (["Q12", member, "S001", "in_store", "100", "", "2024-02-30 10:00:00", ""], "occurred_at is not a time"),
        (
            ["Q13", member, "S001", "in_store", "1000", "", YESTERDAY, lines(2.5)],
            "a line lacks sku, category or integers",
        ),
        (
            ["Q14", member, "S001", "in_store", "1000", "", YESTERDAY, lines("0")],
            "a line lacks sku, category or integers",
        ),
        (
            ["Q15", member, "S001", "in_store", "1000", "", YESTERDAY, lines(1, "5.0")],
            "a line lacks sku, category or integers",
        ),
        (
            ["Q16", member, "S001", "in_store", "1000", "", YESTERDAY, lines(1234567)],
            "a line lacks sku, category or integers",
        ),
        (["Q17", member, "S001", "in_store", "1000", "", YESTERDAY, '{"sku": "A"}'], "lines is not a JSON array"),
        (
            ["Q18", member, "S001", "in_store", "1000", "", YESTERDAY, lines(3)],
            "lines do not add up to paid_fen + discount_fen",
        ),
    ]
    source = write_csv(
        tmp_path / "orders.csv",
        ["external_id", "member_id", "store_code", "channel", "paid_fen", "discount_fen", "occurred_at", "lines"],
        [row for row, _ in rows],
    )
    rejects = tmp_path / "rejects.csv"

    report = await import_orders(
        source, database_url=database_url, vault=MobileVault(key()), rejects=rejects, console=console()[0]
    )

    with rejects.open() as handle:
        found = {int(r["line"]): r["reason"] for r in csv.DictReader(handle)}
    expected = {line: reason for line, (_, reason) in enumerate(rows, start=2) if reason is not None}
    assert found == expected
    assert (report.written, report.rejected) == (2, len(expected))


_INDEXES = (
    "SELECT string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY indexrelid::regclass::text) FROM pg_index "
    "WHERE indrelid = 'members.{}'::regclass"
)


async def test_a_first_load_rebuilds_the_secondary_indexes_and_a_later_import_keeps_them(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    member_indexes = await scalar(engine, _INDEXES.format("members"))
    member = str(await _members(engine, database_url, tmp_path))  # the first members: a first load too
    assert await scalar(engine, _INDEXES.format("members")) == member_indexes
    header = ["external_id", "member_id", "store_code", "channel", "paid_fen", "occurred_at"]
    indexes = await scalar(engine, _INDEXES.format("orders"))
    out, printed = console()

    first = await import_orders(
        write_csv(tmp_path / "a.csv", header, [["F1", member, "S001", "in_store", "100", YESTERDAY]]),
        database_url=database_url,
        vault=MobileVault(key()),
        console=out,
    )
    after_first = printed.getvalue()
    later = await import_orders(
        write_csv(tmp_path / "b.csv", header, [["F2", member, "S001", "in_store", "100", YESTERDAY]]),
        database_url=database_url,
        vault=MobileVault(key()),
        console=out,
    )

    assert (first.written, later.written) == (1, 1)
    assert "first load: 3 secondary indexes" in after_first
    assert "rebuild indexes" in first.seconds
    assert "rebuild indexes" not in later.seconds  # orders were there: the ordinary path, nothing dropped
    assert await scalar(engine, _INDEXES.format("orders")) == indexes
    assert await scalar(engine, "SELECT count(*) FROM pg_index WHERE indrelid = 'members.orders'::regclass") == 5
