"""What both imports share: the connection, the staging table's name, the progress display and the report."""

from __future__ import annotations

import csv
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from yutang_dev.sql import libpq_url
from yutang_shared.ids import uuid7

CHUNK_BYTES = 1 << 20
LOCK_WAIT = "5s"


@dataclass
class ImportReport:
    """What an import did: rows read, written, already there (skipped), rejected, and how long each step took."""

    kind: str
    read: int = 0
    written: int = 0
    skipped: int = 0
    rejected: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def summary(self) -> str:
        steps = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())
        rate = self.read / self.total_seconds if self.total_seconds else 0.0
        return (
            f"{self.kind}: {self.read:,} rows read, {self.written:,} written, {self.skipped:,} already present, "
            f"{self.rejected:,} rejected in {self.total_seconds:.1f} s ({rate:,.0f} rows/s; {steps})"
        )


async def connect(database_url: str) -> Any:
    """An asyncpg connection from a SQLAlchemy or libpq URL."""
    return await asyncpg.connect(libpq_url(database_url))


# The import's own session: commits need not wait for the WAL flush (a crash loses at most the last moments of an
# import that a re-run redoes), sorts and hashes of a file's rows stay in memory, times without a zone are Chinese.
SESSION = (
    "SET TIME ZONE 'Asia/Shanghai'",
    "SET synchronous_commit = off",
    "SET work_mem = '256MB'",
    "SET maintenance_work_mem = '256MB'",
)


async def tune_session(conn: Any) -> None:
    """Apply `SESSION` to the import's connection."""
    for statement in SESSION:
        await conn.execute(statement)


@dataclass(frozen=True)
class FirstLoad:
    """What a first load dropped, to restore before the commit: CREATE INDEX statements, then ALTER TABLE … ADD
    CONSTRAINT … FOREIGN KEY statements (each validated by one set-wise query when it runs). Empty: the ordinary
    path."""

    indexes: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.indexes or self.foreign_keys)

    def describe(self) -> str:
        return (
            f"first load: {len(self.indexes)} secondary indexes are rebuilt and {len(self.foreign_keys)} foreign keys "
            "re-added (and checked) after the insert"
        )


async def first_load(conn: Any, table: str, *, foreign_keys: bool = True) -> FirstLoad:
    """On a first load (`table` has no row yet), inside the caller's transaction: lock `table` for the rest of the
    transaction, drop its secondary (non-unique) indexes and, with `foreign_keys`, its foreign keys, and return
    their definitions, to be restored by `finish_first_load` after the insert; else an empty FirstLoad.

    Inserting into an empty table with its non-unique indexes costs about half the insert (btree inserts one by
    one, which outgrow shared_buffers at a million rows); building them afterwards is a sort. A foreign key checks
    each inserted row with its own query (a trigger); re-adding it checks all rows with one join, in the same
    transaction, so a row naming a missing member still fails the import. The primary key and the unique
    constraints stay: they make a re-run and a repeated row in the file idempotent. The `ACCESS EXCLUSIVE` lock
    keeps readers and writers of the table waiting until the import commits, which an empty table (a brand moving
    in, before the tills and the mini-program are connected) can afford; dropping a foreign key also takes a `SHARE
    ROW EXCLUSIVE` lock on the table it references (members.members for orders), whose writers then wait too. A
    table with rows is never locked this way. The locks wait at most LOCK_WAIT, then the import takes the ordinary
    path. A failure rolls the drops back with the rest of the transaction."""
    if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # noqa: S608 (our own table names)
        return FirstLoad()
    foreign = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS definition, confrelid::regclass::text AS target "
        "FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND $2 ORDER BY conname",
        table,
        foreign_keys,
    )
    try:
        async with conn.transaction():  # a savepoint: a lock wait that times out leaves the outer transaction usable
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            for target in sorted({row["target"] for row in foreign} - {table}):
                await conn.execute(f"LOCK TABLE {target} IN SHARE ROW EXCLUSIVE MODE")
    except asyncpg.LockNotAvailableError:
        return FirstLoad()
    await conn.execute("SET LOCAL lock_timeout = 0")
    if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # noqa: S608 (a row arrived before the lock)
        return FirstLoad()
    indexes = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition "
        "FROM pg_index i WHERE i.indrelid = $1::regclass AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1",
        table,
    )
    for index in indexes:
        await conn.execute(f"DROP INDEX {index['name']}")
    for fk in foreign:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{fk["conname"]}"')
    return FirstLoad(
        [index["definition"] for index in indexes],
        [f'ALTER TABLE {table} ADD CONSTRAINT "{fk["conname"]}" {fk["definition"]}' for fk in foreign],
    )


async def finish_first_load(conn: Any, load: FirstLoad, report: ImportReport, console: Console) -> None:
    """Rebuild the indexes and re-add the foreign keys a first load dropped (each step timed in the report)."""
    if load.indexes:
        with step(report, "rebuild indexes", console):
            for definition in load.indexes:
                await conn.execute(definition)
    if load.foreign_keys:
        with step(report, "re-add foreign keys", console):
            for definition in load.foreign_keys:
                await conn.execute(definition)


def copied(status: str) -> int:
    """The row count of a `COPY n` command status."""
    return int(status.rsplit(" ", 1)[-1])


def uuid7_prefix() -> str:
    """The first 22 hex digits of a run's UUIDv7s (`yutang_shared.ids.uuid7`: the millisecond timestamp, the version,
    the counter's high bits and the variant). An import appends the row's line number as 10 hex digits (RFC 9562
    6.2 method 1, a counter): unique within the run, ascending (new rows land at the right end of the primary key),
    and a fraction of gen_random_uuid's 3.5 µs a row."""
    return uuid7().hex[:22]


def staging_name(kind: str) -> str:
    """A staging table of its own for each run, so two imports never share one."""
    return f"members.import_{kind}_{uuid.uuid4().hex[:12]}"


def header_of(path: Path) -> list[str]:
    """The CSV's column names, lower-cased and trimmed."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [name.strip().lower() for name in next(csv.reader(handle), [])]


class Meter:
    """A rich progress bar over a file's bytes that also counts rows and shows rows/s."""

    def __init__(self, console: Console, label: str, total_bytes: int) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[rate]:>10,.0f} rows/s"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task(label, total=total_bytes, rows=0, rate=0.0)
        self.rows = 0
        self.started = time.perf_counter()

    def advance(self, nbytes: int, rows: int) -> None:
        self.rows += rows
        rate = self.rows / max(time.perf_counter() - self.started, 1e-6)
        self.progress.update(self.task, advance=nbytes, rows=self.rows, rate=rate)

    def __enter__(self) -> Meter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


async def chunks(handle: IO[bytes], meter: Meter) -> AsyncIterator[bytes]:
    """The file in 1 MiB chunks for COPY FROM STDIN, counting rows (newlines) as they pass."""
    while chunk := handle.read(CHUNK_BYTES):
        meter.advance(len(chunk), chunk.count(b"\n"))
        yield chunk


@contextmanager
def step(report: ImportReport, name: str, console: Console) -> Iterator[None]:
    """Time one step of an import into the report, and say when it starts."""
    console.print(f"  {name}…")
    started = time.perf_counter()
    yield
    report.seconds[name] = time.perf_counter() - started


async def write_rejects(conn: Any, query: str, path: Path | None, *args: Any) -> int:
    """Write `query`'s rows (line, reason, …) to the rejects CSV; how many there were."""
    count: int = await conn.fetchval(f"SELECT count(*) FROM ({query}) AS r", *args)  # noqa: S608 (our own SQL)
    if path is not None:
        with path.open("wb") as out:
            await conn.copy_from_query(query, *args, output=out, format="csv", header=True)
    return count
