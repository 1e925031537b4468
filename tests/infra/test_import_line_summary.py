"""The line summary an orders import writes itself (so the insert trigger skips its rows) equals the trigger's,
on a first load and into a table that has orders; and the trigger still summarises every other insert and every
change of lines."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.pii import MobileVault
from tests.infra.test_importer import YESTERDAY, console, key, write_csv
from tests.members.orders.conftest import make_stores
from yutang_dev.importer import import_members, import_orders

SUMMARY = "lines_gross_fen, lines_discounted_fen, gift_lines, line_prices_fen, line_amounts_fen"
HEADER = ["external_id", "member_id", "store_code", "channel", "paid_fen", "discount_fen", "occurred_at", "lines"]


def line(price: Any, quantity: Any = 1, category: str = "tea", **extra: Any) -> dict[str, Any]:
    return {"sku": f"K{price}", "category": category, "quantity": quantity, "unit_price_fen": price, **extra}


# Lines of every shape the validation lets through: numbers and digit strings, discounted true, false, null or
# absent, gift categories, no lines at all, and `discounted` values only the trigger's casts read ("yes", 1).
ORDERS: list[tuple[str, list[dict[str, Any]]]] = [
    ("many", [line(100), line(3000, 2, discounted=True), line(200, discounted=False), line(50, 1, "gift_wrap")]),
    ("strings", [line("0500", "2", discounted=True), line("1200")]),
    ("gift-card", [line(10000, 1, "gift_card", discounted=None)]),
    ("no-lines", []),
    ("discounted-yes", [line(700, discounted="yes"), line(300)]),
    ("discounted-1", [line(900, 3, discounted=1)]),
]


def rows(prefix: str, member: uuid.UUID) -> list[list[Any]]:
    out = []
    for name, lines in ORDERS:
        gross = sum(int(x["quantity"]) * int(x["unit_price_fen"]) for x in lines) or 100
        encoded = json.dumps(lines) if lines else ""
        out.append([f"{prefix}-{name}", str(member), "S001", "in_store", str(gross), "0", YESTERDAY, encoded])
    return out


async def summaries(engine: AsyncEngine) -> dict[str, tuple[Any, ...]]:
    async with engine.connect() as connection:
        found = await connection.execute(text(f"SELECT external_id, {SUMMARY} FROM members.orders"))  # noqa: S608
        return {row[0]: tuple(row[1:]) for row in found}


async def summaries_by_the_trigger(engine: AsyncEngine) -> dict[str, tuple[Any, ...]]:
    """What the trigger computes from the stored lines (`UPDATE OF lines` always runs it), rolled back."""
    async with engine.connect() as connection, connection.begin() as transaction:
        found = await connection.execute(
            text(f"UPDATE members.orders SET lines = lines RETURNING external_id, {SUMMARY}")  # noqa: S608
        )
        result = {row[0]: tuple(row[1:]) for row in found}
        await transaction.rollback()
    return result


async def test_imported_line_summaries_equal_the_triggers_on_a_first_load_and_into_a_table_with_orders(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # given a member, and two files of orders with lines of every accepted shape
    await make_stores(engine, "S001")
    members = write_csv(tmp_path / "m.csv", ["mobile", "source_channel"], [["13800138000", "ads"]])
    await import_members(members, database_url=database_url, vault=MobileVault(key()), key=key(), console=console()[0])
    async with engine.connect() as connection:
        member = (await connection.execute(text("SELECT id FROM members.members"))).scalar_one()
    first = write_csv(tmp_path / "first.csv", HEADER, rows("A", member))
    second = write_csv(tmp_path / "second.csv", HEADER, rows("B", member))

    # when the first is imported into the empty table (a first load) and the second into the filled one
    loaded = await import_orders(first, database_url=database_url, vault=MobileVault(key()), console=console()[0])
    added = await import_orders(second, database_url=database_url, vault=MobileVault(key()), console=console()[0])

    # then every order is written, and its summary is the trigger's
    assert "rebuild indexes" in loaded.seconds
    assert "rebuild indexes" not in added.seconds
    assert (loaded.written, added.written) == (len(ORDERS), len(ORDERS))
    written = await summaries(engine)
    assert written == await summaries_by_the_trigger(engine)
    assert written["A-many"] == (6350, 6000, True, [100, 3000, 200, 50], [100, 6000, 200, 50])
    assert written["B-strings"] == (2200, 1000, False, [500, 1200], [1000, 1200])
    assert written["A-no-lines"] == (0, 0, False, [], [])
    assert written["B-discounted-yes"] == (1000, 700, False, [700, 300], [700, 300])
    assert written["A-discounted-1"] == (2700, 2700, False, [900], [2700])


async def test_the_trigger_summarises_an_insert_missing_any_summary_column_and_every_change_of_lines(
    engine: AsyncEngine,
) -> None:
    # given a member and a store
    await make_stores(engine, "S001")
    member = uuid.uuid4()
    lines = json.dumps([line(400, 2, discounted=True), line(100, 1, "gift_wrap")])
    insert = (
        "INSERT INTO members.orders (id, client, external_id, member_id, store_code, channel, paid_fen, discount_fen, "
        "lines, occurred_at, earns_points, content_hash{columns}) VALUES (gen_random_uuid(), 'test', :x, :m, 'S001', "
        "'in_store', 900, 0, CAST(:lines AS jsonb), now(), false, 'h'{values})"
    )
    carried = ", lines_gross_fen, lines_discounted_fen, gift_lines, line_prices_fen, line_amounts_fen"
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO members.members (id, mobile_fingerprint, source_channel) VALUES (:m, 'f', 'ads')"),
            {"m": member},
        )
        # when one insert names no summary column, one carries all five, one carries four and a NULL
        await connection.execute(text(insert.format(columns="", values="")), {"x": "none", "m": member, "lines": lines})
        await connection.execute(
            text(insert.format(columns=carried, values=", 1, 2, true, '{3}', '{4}'")),
            {"x": "all", "m": member, "lines": lines},
        )
        await connection.execute(
            text(insert.format(columns=carried, values=", 1, 2, NULL, '{3}', '{4}'")),
            {"x": "one null", "m": member, "lines": lines},
        )
    written = await summaries(engine)
    # then the first and the third are summarised by the trigger, the second keeps what it carried
    expected = (900, 800, True, [400, 100], [800, 100])
    assert written == {"none": expected, "all": (1, 2, True, [3], [4]), "one null": expected}
    # and a change of lines is always summarised again
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.orders SET lines = lines WHERE external_id = 'all'"))
    assert (await summaries(engine))["all"] == expected
