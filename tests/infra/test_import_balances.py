"""The opening balances import on the real database: members by id and by mobile (resolved on the members side),
each reject reason with its line, a re-run that adds nothing, the lots' expiry, and the command line."""

from __future__ import annotations

import asyncio
import csv
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from loyalty.points.lots import ExpiryPolicies
from members.pii import MobileVault
from tests.infra.test_importer import console, key, write_csv
from tests.loyalty.factories import known_member
from yutang_dev.cli import main
from yutang_dev.importer import import_members
from yutang_dev.importer.balances import Databases, import_balances
from yutang_dev.importer.members import fingerprint_key

SOON = (date.today() + timedelta(days=60)).isoformat()
HEADER = ["member_id", "mobile", "points", "expires_on", "note"]


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql), params)]


async def member_with_mobile(engine: AsyncEngine, database_url: str, tmp_path: Path, mobile: str) -> uuid.UUID:
    """A member imported on the members side, announced to loyalty's directory (what the relay does)."""
    source = write_csv(tmp_path / f"m{mobile}.csv", ["mobile", "source_channel"], [[mobile, "ads"]])
    await import_members(source, database_url=database_url, vault=MobileVault(key()), key=key(), console=console()[0])
    fingerprint = MobileVault(key()).fingerprint(mobile)
    (member_id,) = (await rows(engine, "SELECT id FROM members.members WHERE mobile_fingerprint = :f", f=fingerprint))[
        0
    ]
    return await known_member(engine, member_id)


async def run(database_url: str, source: Path, rejects: Path | None = None, **kwargs: Any) -> Any:
    return await import_balances(
        source,
        databases=Databases(members=database_url, loyalty=database_url),
        fingerprint_key=fingerprint_key(key()),
        expiry=ExpiryPolicies(),
        rejects=rejects,
        console=console()[0],
        **kwargs,
    )


async def test_balances_by_id_and_by_mobile_become_opening_entries_with_their_lots(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # given
    by_id = await known_member(engine)
    by_mobile = await member_with_mobile(engine, database_url, tmp_path, "13800138000")
    empty = await known_member(engine)
    source = write_csv(
        tmp_path / "balances.csv",
        HEADER,
        [
            [str(by_id), "", "1500", SOON, "old CRM"],
            ["", "138 0013 8000", " 800 ", "", ""],
            [str(empty), "", "0", "", ""],
        ],
    )
    out, printed = console()

    # when
    report = await import_balances(
        source,
        databases=Databases(members=database_url, loyalty=database_url),
        fingerprint_key=fingerprint_key(key()),
        expiry=ExpiryPolicies(),
        console=out,
    )

    # then
    assert (report.read, report.written, report.skipped, report.rejected) == (3, 2, 1, 0)
    assert "rows/s" in printed.getvalue()
    entries = await rows(
        engine,
        "SELECT e.member_id, e.kind, e.points, e.reason, l.remaining, l.expires_on, a.balance "
        "FROM loyalty.ledger_entries e JOIN loyalty.point_lots l ON l.entry_id = e.id "
        "JOIN loyalty.accounts a ON a.member_id = e.member_id",
    )
    assert sorted(entries) == sorted(
        [
            (by_id, "opening", 1500, "old CRM", 1500, date.fromisoformat(SOON), 1500),
            (by_mobile, "opening", 800, "opening balance", 800, date(date.today().year + 2, 1, 1), 800),
        ]
    )
    events = await rows(engine, "SELECT type, count(*) FROM loyalty.outbox GROUP BY type")
    assert events == [("points.balance-changed", 2)]  # one per member whose balance moved, nothing else
    assert await rows(engine, "SELECT count(*) FROM loyalty.accounts WHERE member_id = :m", m=empty) == [(0,)]


async def test_a_rerun_adds_nothing_and_another_amount_is_a_reject(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    member = await known_member(engine)
    first = write_csv(tmp_path / "b1.csv", HEADER, [[str(member), "", "300", SOON, ""]])
    other = write_csv(tmp_path / "b2.csv", HEADER, [[str(member), "", "400", SOON, ""]])
    rejects = tmp_path / "rejects.csv"

    once = await run(database_url, first)
    again = await run(database_url, first)
    changed = await run(database_url, other, rejects)

    assert (once.written, again.written, again.skipped, again.rejected) == (1, 0, 1, 0)
    assert (changed.written, changed.rejected) == (0, 1)
    with rejects.open() as handle:
        (reject,) = list(csv.DictReader(handle))
    assert reject["line"] == "2"
    assert reject["reason"].startswith("member already has another opening balance")
    assert await rows(engine, "SELECT balance FROM loyalty.accounts WHERE member_id = :m", m=member) == [(300,)]
    assert await rows(engine, "SELECT count(*) FROM loyalty.ledger_entries") == [(1,)]
    assert await rows(engine, "SELECT count(*) FROM loyalty.outbox") == [(1,)]


async def test_each_broken_rule_is_a_reject_with_its_line_and_reason(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    # given
    good, closed = await known_member(engine), await known_member(engine, closed=True)
    dup = await known_member(engine)
    past = (date.today() - timedelta(days=1)).isoformat()
    source = write_csv(
        tmp_path / "balances.csv",
        HEADER,
        [
            [str(good), "", "10", "", ""],  # line 2: accepted
            ["not-a-uuid", "", "10", "", ""],
            [str(uuid.uuid4()), "", "10", "", ""],
            [str(closed), "", "10", "", ""],
            [str(dup), "", "12.5", "", ""],
            [str(uuid.uuid4()), "", "-3", "", ""],
            [str(uuid.uuid4()), "", "10", "2026-13-40", ""],
            [str(uuid.uuid4()), "", "10", past, ""],
            [str(uuid.uuid4()), "", "10", "", "x" * 201],
            [str(dup), "", "10", "", ""],
            ["", "12345", "10", "", ""],
            ["", "13900139000", "10", "", ""],
            [str(good), "13800138000", "10", "", ""],
            ["", "", "10", "", ""],
            [str(uuid.uuid4()), "", "ten", "", ""],
            [str(good), "", "10", "", ""],
        ],
    )
    rejects = tmp_path / "rejects.csv"

    # when
    report = await run(database_url, source, rejects)

    # then
    assert (report.read, report.written, report.rejected) == (16, 1, 15)
    with rejects.open() as handle:
        found = {int(r["line"]): r["reason"] for r in csv.DictReader(handle)}
    expected = {
        3: "member_id is not a UUID",
        4: "unknown member",
        5: "member is closed",
        6: "points is not a whole number",
        7: "points are negative",
        8: "expires_on is not a date",
        9: "expires_on has passed",
        10: "note is longer than 200 characters",
        11: "the same member as line 6",
        12: "mobile",  # not a mobile number: registration's message
        13: "no member has this mobile",
        14: "name the member by exactly one of member_id and mobile",
        15: "name the member by exactly one of member_id and mobile",
        16: "points is not a whole number",
        17: "the same member as line 2",
    }
    assert sorted(found) == sorted(expected)
    for line, start in expected.items():
        assert start in found[line], (line, found[line])
    assert await rows(engine, "SELECT member_id, points FROM loyalty.ledger_entries") == [(good, 10)]


def test_the_command_line_imports_balances(engine: AsyncEngine, database_url: str, tmp_path: Path) -> None:
    async def given() -> uuid.UUID:
        local = create_async_engine(database_url)
        try:
            return await known_member(local)
        finally:
            await local.dispose()

    member = asyncio.run(given())
    source = write_csv(
        tmp_path / "balances.csv", HEADER, [[str(member), "", "77", SOON, "cli"], ["x", "", "1", "", ""]]
    )
    rejects = tmp_path / "rejects.csv"

    code = main(["import", "balances", str(source), "--rejects", str(rejects)])
    again = main(["import", "balances", str(source)])

    async def then() -> list[tuple[Any, ...]]:
        local = create_async_engine(database_url)
        try:
            return await rows(local, "SELECT member_id, points, kind FROM loyalty.ledger_entries")
        finally:
            await local.dispose()

    assert (code, again) == (0, 0)
    assert asyncio.run(then()) == [(member, 77, "opening")]
    assert rejects.read_text().splitlines()[1].startswith("3,x,")
