"""Import opening points balances of a brand moving in: COPY into loyalty staging, set-wise validation, then
`opening` ledger entries through loyalty's one write path (`loyalty.points.opening.post_opening_balances`).

Columns (header row, any order): points, one of member_id or mobile per row, and optionally expires_on (the first
local day the points are no longer spendable, YYYY-MM-DD; blank: the `opening` kind's expiry policy) and note
(the ledger entry's reason; blank: "opening balance").

Loyalty knows members by id only (its directory, kept from members' events). A mobile is resolved on the members
side, with the members database's credential, the way members' own bulk import matches mobiles: normalised,
fingerprinted with the members PII key (a keyed HMAC), looked up by fingerprint in `members.members`, one query per
chunk of the file. Loyalty's staging receives member ids and masked mobiles, never a mobile. A member is posted
once (key `opening:<member id>`): a re-run adds nothing; another amount for a member who has an opening balance
is a reject. The write path writes one `points.balance-changed` event per member whose balance moved (members'
facts need it) and nothing else reaches the bus.
"""

from __future__ import annotations

import csv
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.engine import make_url

from loyalty.points.lots import ExpiryPolicies
from loyalty.points.opening import DEFAULT_NOTE, OPENING_ACTOR, OPENING_MAX, OpeningBalance, post_opening_balances
from loyalty.uow import LoyaltyUnitOfWork
from members.registration.errors import InvalidMobile
from members.registration.rules import mask_mobile, normalise_mobile
from yutang_dev.importer.common import ImportReport, Meter, connect, header_of, step, tune_session, write_rejects
from yutang_dev.importer.members import _Lines
from yutang_shared.db import create_engine, session_factory
from yutang_shared.errors import DomainError

COLUMNS = ("member_id", "mobile", "points", "expires_on", "note")
CHUNK_ROWS = 20_000
POST_BATCH = 1_000
_STAGED = ("line", "ref", "member_id", "fingerprint", "points", "expires_on", "note", "reason")
_RESOLVE = "SELECT mobile_fingerprint, id::text FROM members.members WHERE mobile_fingerprint = ANY($1::text[])"


@dataclass(frozen=True, slots=True)
class Databases:
    """Where each side runs: the members database (mobiles resolved there) and loyalty's (staging, ledger)."""

    members: str
    loyalty: str


class _Rows:
    """Turns CSV records into staged rows: a mobile becomes its fingerprint (resolved later) and its mask."""

    def __init__(self, header: list[str], fingerprint_key: bytes) -> None:
        self._key = fingerprint_key
        self._at = [header.index(name) if name in header else None for name in COLUMNS]

    def __call__(self, line: int, record: list[str]) -> tuple[Any, ...]:
        member_raw, mobile_raw, points, expires_on, note = (
            record[i] if i is not None and i < len(record) else "" for i in self._at
        )
        member_id, mobile = member_raw.strip(), mobile_raw.strip()
        if bool(member_id) == bool(mobile):
            return (
                line,
                member_id or mobile[-4:],
                None,
                None,
                points,
                expires_on,
                note,
                "name the member by exactly one of member_id and mobile",
            )
        if member_id:
            return (line, member_id, member_id, None, points, expires_on, note, None)
        try:
            normal = normalise_mobile(mobile)
        except InvalidMobile as exc:
            return (line, "…" + mobile[-4:], None, None, points, expires_on, note, exc.message)
        fingerprint = hmac.digest(self._key, normal.encode(), "sha256").hex()  # MobileVault.fingerprint, one-shot
        return (line, mask_mobile(normal), None, fingerprint, points, expires_on, note, None)


def _chunks(path: Path, fingerprint_key: bytes, meter: Meter) -> Iterator[list[tuple[Any, ...]]]:
    """The file's rows, staged, a chunk at a time (the members lookup and the COPY go a chunk at a time)."""
    with path.open("rb") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines)
        row = _Rows([name.strip().lower() for name in next(reader, [])], fingerprint_key)
        batch: list[tuple[Any, ...]] = []
        position = 0
        for record in reader:
            if not record:
                continue
            batch.append(row(reader.line_num, record))
            if len(batch) == CHUNK_ROWS:
                yield batch
                meter.advance(lines.bytes - position, len(batch))
                position, batch = lines.bytes, []
        if batch:
            yield batch
            meter.advance(lines.bytes - position, len(batch))


async def _resolve(members: Any, batch: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The chunk with each mobile's member id filled in from the members database (one query), or its reason."""
    fingerprints = [row[3] for row in batch if row[3] is not None]
    if not fingerprints:
        return batch
    found = dict(await members.fetch(_RESOLVE, list(set(fingerprints))))
    out: list[tuple[Any, ...]] = []
    for row in batch:
        if row[3] is None:
            out.append(row)
            continue
        member_id = found.get(row[3])
        reason = None if member_id is not None else "no member has this mobile"
        out.append((row[0], row[1], member_id, None, *row[4:7], reason))
    return out


def _validate_sql(staging: str) -> list[str]:
    """The validation statements, in order; each sets the reason of the rows still without one."""
    today = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
    return [
        f"UPDATE {staging} SET reason = 'member_id is not a UUID' "  # noqa: S608 (identifiers are ours)
        "WHERE reason IS NULL AND NOT pg_input_is_valid(member_id, 'uuid')",
        f"UPDATE {staging} SET member = member_id::uuid WHERE reason IS NULL",  # noqa: S608
        f"""UPDATE {staging} AS s SET reason = 'the same member as line ' || d.first
            FROM (SELECT line, min(line) OVER (PARTITION BY member) AS first FROM {staging} WHERE member IS NOT NULL) d
            WHERE s.line = d.line AND d.first < d.line AND s.reason IS NULL""",  # noqa: S608
        f"""UPDATE {staging} SET reason = CASE
              WHEN NOT pg_input_is_valid(btrim(points), 'bigint') THEN 'points is not a whole number'
              WHEN btrim(points)::bigint < 0 THEN 'points are negative'
              WHEN btrim(points)::bigint > {OPENING_MAX} THEN 'points over {OPENING_MAX:,}'
              WHEN btrim(expires_on) <> '' AND NOT pg_input_is_valid(btrim(expires_on), 'date')
                THEN 'expires_on is not a date (YYYY-MM-DD)'
              WHEN btrim(expires_on) <> '' AND btrim(expires_on)::date <= {today} THEN 'expires_on has passed'
              WHEN length(btrim(note)) > 200 THEN 'note is longer than 200 characters'
            END
            WHERE reason IS NULL""",  # noqa: S608
        f"""UPDATE {staging} SET pts = btrim(points)::bigint, expires = nullif(btrim(expires_on), '')::date,
              note = coalesce(nullif(btrim(note), ''), '{DEFAULT_NOTE}')
            WHERE reason IS NULL""",  # noqa: S608
        f"""UPDATE {staging} AS s SET reason = CASE WHEN d.status IS NULL
                THEN 'unknown member (not in loyalty''s directory: import members and let the relay run first)'
                ELSE 'member is closed' END
            FROM {staging} AS t LEFT JOIN loyalty.member_directory AS d ON d.member_id = t.member
            WHERE s.line = t.line AND s.reason IS NULL AND d.status IS DISTINCT FROM 'active'""",  # noqa: S608
        # A member who has an opening entry: the same one again is already present, another is a reject.
        f"""UPDATE {staging} AS s SET
              state = CASE WHEN x.same THEN 'present' END,
              reason = CASE WHEN NOT x.same THEN
                'member already has another opening balance (' || x.points || ' points, ' || x.note || ')' END
            FROM (
                SELECT t.line, e.points, e.reason AS note,
                       e.points = t.pts AND e.reason = t.note
                       AND (t.expires IS NULL OR l.expires_on = t.expires) AS same
                FROM {staging} AS t
                JOIN loyalty.ledger_entries AS e
                  ON e.actor = '{OPENING_ACTOR}' AND e.idempotency_key = 'opening:' || t.member::text
                JOIN loyalty.point_lots AS l ON l.entry_id = e.id
                WHERE t.reason IS NULL
            ) AS x
            WHERE s.line = x.line""",  # noqa: S608
        f"UPDATE {staging} SET state = 'zero' WHERE reason IS NULL AND state IS NULL AND pts = 0",  # noqa: S608
        f"CREATE INDEX ON {staging} (line) WHERE reason IS NULL AND state IS NULL",
    ]


async def import_balances(
    path: Path,
    *,
    databases: Databases,
    fingerprint_key: bytes,
    expiry: ExpiryPolicies,
    rejects: Path | None = None,
    console: Console | None = None,
) -> ImportReport:
    """Import an opening balances CSV (see the module's docstring); the report says what was posted, skipped
    (already present, or zero points) and rejected (with its line and reason in `rejects`)."""
    console = console or Console(stderr=True)
    _check_header(header_of(path))
    report = ImportReport("balances")
    staging = f"loyalty.import_balances_{uuid.uuid4().hex[:12]}"
    conn = await connect(databases.loyalty)
    try:
        await tune_session(conn)
        await conn.execute(
            f"CREATE UNLOGGED TABLE {staging} (line bigint, ref text, member_id text, fingerprint text, points text, "
            "expires_on text, note text, reason text, member uuid, pts bigint, expires date, state text)"
        )
        with step(report, "read, resolve and copy", console):
            report.read = await _stage(path, staging, conn, databases.members, fingerprint_key, console)
        with step(report, "validate", console):
            for statement in _validate_sql(staging):
                await conn.execute(statement)
        with step(report, "post entries", console):
            report.written = await _post(conn, staging, databases.loyalty, expiry, console)
        with step(report, "rejects", console):
            report.rejected = await write_rejects(
                conn,
                f"SELECT line, ref AS member, reason FROM {staging} WHERE reason IS NOT NULL ORDER BY line",  # noqa: S608
                rejects,
            )
        report.skipped = report.read - report.rejected - report.written
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {staging}")
        await conn.close()
    console.print(report.summary())
    return report


async def _stage(path: Path, staging: str, conn: Any, members_url: str, key: bytes, console: Console) -> int:
    """Read the file in chunks, resolve its mobiles in the members database, COPY the rows; how many."""
    members = await connect(members_url)
    read = 0
    try:
        with Meter(console, "balances", path.stat().st_size) as meter:  # noqa: ASYNC240 (one stat of the input file)
            for chunk in _chunks(path, key, meter):
                rows = await _resolve(members, chunk)
                await conn.copy_records_to_table(
                    staging.split(".")[1], schema_name="loyalty", records=rows, columns=_STAGED
                )
                read += len(rows)
    finally:
        await members.close()
    return read


async def _post(conn: Any, staging: str, loyalty_url: str, expiry: ExpiryPolicies, console: Console) -> int:
    """Post the valid rows through the write path, POST_BATCH per transaction, in line order; how many were new
    (a replay: another run posted it meanwhile).
    A balance the write path refuses (a member closed meanwhile, a note it does not accept) gets its reason."""
    pending = f"SELECT count(*) FROM {staging} WHERE reason IS NULL AND state IS NULL"  # noqa: S608
    page = (
        f"SELECT line, member, pts, expires, note FROM {staging} "  # noqa: S608
        "WHERE reason IS NULL AND state IS NULL AND line > $1 ORDER BY line LIMIT $2"
    )
    engine = create_engine(_sqlalchemy_url(loyalty_url), pool_size=1)
    posted = 0
    last = 0
    try:
        uow = LoyaltyUnitOfWork(session_factory(engine))
        total = await conn.fetchval(pending)
        with Meter(console, "post", total) as meter:
            while rows := await conn.fetch(page, last, POST_BATCH):
                balances = [OpeningBalance(r["member"], r["pts"], r["expires"], r["note"]) for r in rows]
                results = await post_opening_balances(uow, balances, expiry=expiry)
                refused = [(r["line"], _reason(res)) for r, res in zip(rows, results, strict=True) if _refused(res)]
                if refused:
                    await conn.executemany(f"UPDATE {staging} SET reason = $2 WHERE line = $1", refused)  # noqa: S608
                new = sum(1 for res in results if not _refused(res) and not getattr(res, "replayed", True))
                posted += new
                last = rows[-1]["line"]
                meter.advance(len(rows), len(rows))
    finally:
        await engine.dispose()
    return posted


def _refused(result: object) -> bool:
    return isinstance(result, DomainError)


def _reason(result: object) -> str:
    assert isinstance(result, DomainError)
    return f"{result.code.value}: {result.message}"


def _sqlalchemy_url(url: str) -> str:
    """An asyncpg SQLAlchemy URL from a libpq or SQLAlchemy one."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def _check_header(header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    if unknown or "points" not in header or not {"member_id", "mobile"} & set(header):
        raise ValueError(
            f"balances CSV columns: unknown {unknown or 'none'}; expected points, member_id and/or mobile, "
            "and optionally expires_on, note"
        )
