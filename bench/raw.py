"""The raw-SQL baselines of the ledger writes: the same transactions as the loyalty service, straight through
asyncpg on the same database, with no HTTP, GraphQL, auth or ORM in between."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]

ACTOR = "bench-raw"  # the ledger's actor of raw writes: keys never collide with the gateway's ("bench")
KIND = "adjustment"
REASON = "bench"
LOCAL = ZoneInfo("Asia/Shanghai")

_ENSURE_ACCOUNT = "INSERT INTO loyalty.accounts (member_id, balance) VALUES ($1, 0) ON CONFLICT DO NOTHING"
_LOCK_ACCOUNT = "SELECT balance FROM loyalty.accounts WHERE member_id = $1 FOR UPDATE"
_BY_KEY = "SELECT id, points, balance_after FROM loyalty.ledger_entries WHERE actor = $1 AND idempotency_key = $2"
_INSERT_ENTRY = (
    "INSERT INTO loyalty.ledger_entries"
    " (id, member_id, points, balance_after, kind, reason, idempotency_key, actor, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
_MOVE_BALANCE = "UPDATE loyalty.accounts SET balance = $2, updated_at = now() WHERE member_id = $1"
# Every credit is a lot (the balance is checked against the lots at commit), and every write that moves a
# balance adds a points.balance-changed row to the outbox: the service's writes, so the baseline's too.
_INSERT_LOT = (
    "INSERT INTO loyalty.point_lots (id, member_id, entry_id, source, points, remaining, earned_at, expires_on)"
    " VALUES ($1, $2, $3, $4, $5, $5, $6, $7)"
)
_INSERT_LOTS = (
    "INSERT INTO loyalty.point_lots (id, member_id, entry_id, source, points, remaining, earned_at, expires_on)"
    " SELECT i, m, e, $4, p, p, at, $7 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $5::bigint[],"
    " $6::timestamptz[]) AS t(i, m, e, p, at)"
)
_OUTBOX = (
    "INSERT INTO loyalty.outbox (id, type, version, aggregate_id, occurred_at, data)"
    " SELECT gen_random_uuid(), 'points.balance-changed', 1, m::text, now(),"
    " jsonb_build_object('member_id', m, 'available', b, 'changed_at', now())"
    " FROM unnest($1::uuid[], $2::bigint[]) AS t(m, b)"
)


def expires_on(at: datetime) -> date:
    """The default policy: the end of the year after the year earned (local year, as the service)."""
    return date(at.astimezone(LOCAL).year + 2, 1, 1)


_ENSURE_ACCOUNTS = (
    "INSERT INTO loyalty.accounts (member_id, balance)"
    " SELECT id, 0 FROM unnest($1::uuid[]) AS id ORDER BY id ON CONFLICT DO NOTHING"
)
_LOCK_ACCOUNTS = (
    "SELECT member_id, balance FROM loyalty.accounts WHERE member_id = ANY($1::uuid[]) ORDER BY member_id FOR UPDATE"
)
_BY_KEYS = (
    "SELECT idempotency_key FROM loyalty.ledger_entries WHERE actor = $1 AND idempotency_key = ANY($2::varchar[])"
)
_INSERT_ENTRIES = (
    "INSERT INTO loyalty.ledger_entries"
    " (id, member_id, points, balance_after, kind, reason, idempotency_key, actor, created_at)"
    " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::varchar[], $6::varchar[],"
    " $7::varchar[], $8::varchar[], $9::timestamptz[])"
)
_MOVE_BALANCES = (
    "UPDATE loyalty.accounts AS a SET balance = v.balance, updated_at = now()"
    " FROM unnest($1::uuid[], $2::bigint[]) AS v(member_id, balance) WHERE a.member_id = v.member_id"
)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://postgres@/db?host=/socket/dir&port=…` → the libpq form asyncpg.connect accepts."""
    scheme, sep, rest = sqlalchemy_url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        raise ValueError(f"not a PostgreSQL URL: {sqlalchemy_url}")
    return f"postgresql://{rest}"


class RawLedger:
    """`size` asyncpg connections writing the ledger; a connection per concurrent writer, used as a queue."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn = dsn
        self.size = size
        self.pool: asyncpg.Pool | None = None

    async def __aenter__(self) -> RawLedger:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=self.size, max_size=self.size)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.pool is not None:
            await self.pool.close()

    def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("RawLedger is used outside `async with`")
        return self.pool

    async def adjust(self, member_id: uuid.UUID, points: int, key: str) -> int:
        """One adjustment in its own transaction, statement by statement like the service; returns 1."""
        async with self._pool().acquire() as conn, conn.transaction():
            await conn.execute(_ENSURE_ACCOUNT, member_id)
            balance: int = await conn.fetchval(_LOCK_ACCOUNT, member_id)
            if await conn.fetchrow(_BY_KEY, ACTOR, key) is not None:
                return 0
            after = balance + points
            now = datetime.now(UTC)
            entry = uuid.uuid4()
            await conn.execute(_INSERT_ENTRY, entry, member_id, points, after, KIND, REASON, key, ACTOR, now)
            await conn.execute(_INSERT_LOT, uuid.uuid4(), member_id, entry, KIND, points, now, expires_on(now))
            await conn.execute(_MOVE_BALANCE, member_id, after)
            await conn.execute(_OUTBOX, [member_id], [after])
        return 1

    async def adjust_batch(self, items: Sequence[tuple[uuid.UUID, int, str]]) -> int:
        """Many adjustments in one transaction, set-wise: create and lock the accounts in id order, look the keys
        up, insert every entry with one unnest, move every balance with one UPDATE; returns the entries written."""
        members = sorted({member_id for member_id, _, _ in items})
        async with self._pool().acquire() as conn, conn.transaction():
            await conn.execute(_ENSURE_ACCOUNTS, members)
            balances: dict[uuid.UUID, int] = {
                row["member_id"]: row["balance"] for row in await conn.fetch(_LOCK_ACCOUNTS, members)
            }
            keys = [key for _, _, key in items]
            known = {row["idempotency_key"] for row in await conn.fetch(_BY_KEYS, ACTOR, keys)}
            start = datetime.now(UTC)
            rows: list[tuple[object, ...]] = []
            moved: dict[uuid.UUID, int] = {}
            for index, (member_id, points, key) in enumerate(items):
                if key in known:
                    continue
                known.add(key)
                balances[member_id] += points
                moved[member_id] = balances[member_id]
                at = start + timedelta(microseconds=index)
                rows.append((uuid.uuid4(), member_id, points, balances[member_id], KIND, REASON, key, ACTOR, at))
            if rows:
                columns = [list(column) for column in zip(*rows, strict=True)]
                await conn.execute(_INSERT_ENTRIES, *columns)
                lot_ids = [uuid.uuid4() for _ in rows]
                await conn.execute(
                    _INSERT_LOTS, lot_ids, columns[1], columns[0], KIND, columns[2], columns[8], expires_on(start)
                )
                await conn.execute(_MOVE_BALANCES, list(moved), list(moved.values()))
                await conn.execute(_OUTBOX, list(moved), list(moved.values()))
        return len(rows)

    async def entries_by(self, actor: str) -> int:
        """How many ledger entries `actor` has written (a check that the measured writes landed)."""
        count: int = await self._pool().fetchval("SELECT count(*) FROM loyalty.ledger_entries WHERE actor = $1", actor)
        return count
