"""Import members from CSV: mobiles normalised, fingerprinted and sealed in Python in chunks (the key never
reaches SQL), COPY into staging, set-wise validation, one upsert on the mobile's fingerprint.

Columns (header row): mobile, source_channel, and optionally nickname, registered_at (blank: now; no zone:
Asia/Shanghai), unionid (once the profile has WeChat unionids). A mobile already registered, in the database or
earlier in the file, is skipped, so a re-run adds nothing. Each new member is announced with `member.registered`
(the member directories of loyalty and community need them), and one `members.imported` summary event is written.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from members.pii import MobileVault
from members.profile.models import SourceChannel
from members.registration.errors import InvalidMobile, InvalidNickname
from members.registration.rules import NICKNAME_MAX, clean_nickname, mask_mobile, normalise_mobile
from yutang_dev.importer.common import (
    ImportReport,
    Meter,
    connect,
    finish_first_load,
    first_load,
    header_of,
    staging_name,
    step,
    tune_session,
    uuid7_prefix,
    write_rejects,
)
from yutang_dev.importer.sealing import BulkSealer, HmacSha256

COLUMNS = ("mobile", "nickname", "source_channel", "registered_at", "unionid")
CHUNK_ROWS = 20_000
_CHANNELS = {c.value for c in SourceChannel} | {c.name.lower() for c in SourceChannel}
_STAGED = ("line", "fingerprint", "ciphertext", "masked", "nickname", "channel", "registered_at", "unionid", "reason")


def _nickname(raw: str) -> str | None:
    """`clean_nickname`, without its grapheme and category regular expressions for printable ASCII (one
    character per cluster, none of them refused): those took a third of the Python side's time."""
    nickname = raw.strip()
    if nickname.isascii() and nickname.isprintable() and len(nickname) <= NICKNAME_MAX:
        return nickname or None
    return clean_nickname(raw)


class _Rows:
    """Turns CSV records into staged rows: sealed later in bulk, or a rejection with its reason."""

    def __init__(self, header: list[str], fingerprint_key: bytes) -> None:
        self._key = HmacSha256(fingerprint_key)
        self._at = [header.index(name) if name in header else None for name in COLUMNS]

    def __call__(self, line: int, record: list[str]) -> tuple[Any, ...]:
        mobile_raw, nickname_raw, channel_raw, registered_raw, unionid_raw = (
            record[i] if i is not None and i < len(record) else "" for i in self._at
        )
        try:
            mobile = normalise_mobile(mobile_raw)
            nickname = _nickname(nickname_raw)
        except (InvalidMobile, InvalidNickname) as exc:
            return (line, None, None, None, None, None, None, None, exc.message)
        channel = channel_raw.strip().lower()
        reason = None if channel in _CHANNELS else "unknown source_channel"
        return (
            line,
            self._key.digest(mobile.encode()).hex(),  # MobileVault.fingerprint, from precomputed HMAC states
            mobile,
            mask_mobile(mobile),
            nickname,
            channel,
            registered_raw.strip() or None,
            unionid_raw.strip() or None,
            reason,
        )


def fingerprint_key(key: bytes) -> bytes:
    """The HMAC key of `MobileVault.fingerprint` (derived from the PII key the same way; a test holds them equal)."""
    return hmac.new(key, b"yutang/mobile-fingerprint", hashlib.sha256).digest()


class _Lines:
    """The file's lines as text for csv, counting the bytes read (text files cannot tell() while iterated)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.bytes = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.handle:
            self.bytes += len(raw)
            yield raw.decode("utf-8-sig" if self.bytes == len(raw) else "utf-8")


def _chunks(path: Path, key: bytes, sealer: BulkSealer, meter: Meter) -> Iterator[list[tuple[Any, ...]]]:
    with path.open("rb") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines)
        header = [name.strip().lower() for name in next(reader, [])]
        row = _Rows(header, fingerprint_key(key))
        batch: list[tuple[Any, ...]] = []
        position = 0  # the header's bytes count with the first chunk
        for record in reader:
            if not record:  # csv.DictReader skipped blank lines
                continue
            batch.append(row(reader.line_num, record))
            if len(batch) == CHUNK_ROWS:
                yield _sealed(batch, sealer)
                meter.advance(lines.bytes - position, len(batch))
                position, batch = lines.bytes, []
        if batch:
            yield _sealed(batch, sealer)
            meter.advance(lines.bytes - position, len(batch))


def _sealed(batch: list[tuple[Any, ...]], sealer: BulkSealer) -> list[tuple[Any, ...]]:
    """The batch with each accepted mobile replaced by its Fernet token (one AES call for the chunk)."""
    accepted = [i for i, row in enumerate(batch) if row[2] is not None]
    tokens = sealer.seal([batch[i][2] for i in accepted])
    for i, token in zip(accepted, tokens, strict=True):
        row = batch[i]
        batch[i] = (row[0], row[1], token, *row[3:])
    return batch


async def import_members(
    path: Path,
    *,
    database_url: str,
    vault: MobileVault,
    key: bytes,
    rejects: Path | None = None,
    console: Console | None = None,
) -> ImportReport:
    """Import a members CSV (see the module's docstring); the report says what was written, skipped, rejected."""
    console = console or Console(stderr=True)
    header = header_of(path)
    unknown = [name for name in header if name not in COLUMNS]
    if unknown or "mobile" not in header or "source_channel" not in header:
        raise ValueError(
            f"members CSV columns: unknown {unknown or 'none'}; expected {', '.join(COLUMNS)} "
            "with mobile and source_channel"
        )
    sample = "13800138000"
    if HmacSha256(fingerprint_key(key)).digest(sample.encode()).hex() != vault.fingerprint(sample):
        raise ValueError("the PII key does not fingerprint mobiles as the members service does")
    report = ImportReport("members")
    staging = staging_name("members")
    sealer = BulkSealer(key)
    conn = await connect(database_url)
    try:
        await tune_session(conn)
        await conn.execute(
            f"CREATE UNLOGGED TABLE {staging} (line bigint, fingerprint text, ciphertext text, masked text, "
            "nickname text, channel text, registered_at text, unionid text, reason text)"
        )
        with step(report, "read, seal and copy", console), Meter(console, "members", path.stat().st_size) as meter:  # noqa: ASYNC240 (one stat of the input file)
            for chunk in _chunks(path, key, sealer, meter):
                await conn.copy_records_to_table(
                    staging.split(".")[1], schema_name="members", records=chunk, columns=_STAGED
                )
        report.read = await conn.fetchval(f"SELECT count(*) FROM {staging}")  # noqa: S608
        with step(report, "validate", console):
            # Only the rows that break a rule are updated (a row version each); the others are read once.
            reason = """CASE
                  WHEN registered_at IS NOT NULL AND NOT pg_input_is_valid(registered_at, 'timestamptz')
                    THEN 'registered_at is not a time'
                  WHEN registered_at IS NOT NULL AND registered_at::timestamptz > now()
                    THEN 'registered_at is in the future'
                  WHEN unionid IS NOT NULL AND unionid !~ '^[A-Za-z0-9_-]{1,64}$' THEN 'unionid is malformed'
                END"""
            await conn.execute(
                f"UPDATE {staging} SET reason = {reason} WHERE reason IS NULL "  # noqa: S608 (identifiers are ours)
                f"AND (registered_at IS NOT NULL OR unionid IS NOT NULL) AND {reason} IS NOT NULL"
            )
        async with conn.transaction():
            # Members' foreign keys stay: they are on columns the import leaves NULL, whose trigger is cheap (no gain
            # measured), and dropping them would lock stores and staff against writers for the whole import.
            secondary = await first_load(conn, "members.members", foreign_keys=False)
            if secondary:
                console.print(f"  {secondary.describe()}")
            with step(report, "upsert", console):
                report.written = await conn.fetchval(
                    _upsert(staging, unionids="unionid" in header), uuid7_prefix(), uuid7_prefix()
                )
            await finish_first_load(conn, secondary, report, console)
        with step(report, "rejects", console):
            report.rejected = await write_rejects(
                conn,
                f"SELECT line, reason FROM {staging} WHERE reason IS NOT NULL ORDER BY line",  # noqa: S608 (identifiers are ours, values are parameters)
                rejects,
            )
        report.skipped = report.read - report.rejected - report.written
        await conn.execute(
            "INSERT INTO members.outbox (id, type, version, aggregate_id, occurred_at, data) "
            "VALUES (gen_random_uuid(), 'members.imported', 1, $1, now(), $2::jsonb)",
            path.name,
            json.dumps(
                {
                    "file": path.name,
                    "written": report.written,
                    "skipped": report.skipped,
                    "rejected": report.rejected,
                    "at": time.time(),
                }
            ),
        )
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {staging}")
        await conn.close()
    console.print(report.summary())
    return report


def _upsert(staging: str, *, unionids: bool) -> str:
    """Insert the valid rows, first line wins for a mobile, registered mobiles are skipped; how many were added.

    The rows go in fingerprint order (one sort serves DISTINCT ON and the ids), so the unique fingerprint index
    is filled in key order; the ids are UUIDv7 with a counter in that same order (not the line number), so the
    primary key is appended to, not inserted into at random."""
    channel = "CASE " + " ".join(f"WHEN channel = '{c.name.lower()}' THEN '{c.value}'" for c in SourceChannel) + " END"
    union_col, union_val = (", wechat_unionid", ", unionid") if unionids else ("", "")
    return f"""
    WITH written AS (
        INSERT INTO members.members (id, mobile_fingerprint, mobile_ciphertext, mobile_masked, nickname,
            source_channel, status, registered_at{union_col})
        SELECT DISTINCT ON (fingerprint)
               ($1::text || lpad(to_hex(row_number() OVER (ORDER BY fingerprint, line)), 10, '0'))::uuid, fingerprint,
               ciphertext,
               masked, nickname, {channel},
               'active', coalesce(registered_at::timestamptz, now()){union_val}
        FROM {staging} WHERE reason IS NULL ORDER BY fingerprint, line
        ON CONFLICT DO NOTHING
        RETURNING id, registered_at, source_channel
    ), announced AS (
        -- Each new member is announced like a registration (member.registered v1, no personal data), so loyalty's
        -- and community's member directories know them; a re-run adds and announces nothing.
        INSERT INTO members.outbox (id, type, version, aggregate_id, occurred_at, data)
        -- Event ids are UUIDv7 like the members' ($2: another run prefix), so the outbox's unique id index is
        -- appended to, not filled at random (gen_random_uuid at a million events).
        SELECT ($2::text || lpad(to_hex(row_number() OVER ()), 10, '0'))::uuid, 'member.registered', 1, id::text,
               registered_at,
               jsonb_build_object('member_id', id::text, 'registered_at', registered_at,
                                  'source_channel', source_channel)
        FROM written
        RETURNING 1
    )
    SELECT count(*) FROM written
    """  # noqa: S608 (identifiers are ours, values are parameters)
