"""Check-in throughput: `checkIn` through the gateway (16 clients) beside a raw asyncpg loop doing the same writes
in one transaction each (the day's row with its streak, the ledger entry, its lot, the balance, the outbox row).

Every call is a new (member, day): the k-th call checks member k mod n in on day k div n after a base day, so
streaks grow as they would; the gateway and the raw loop use different base days and never collide.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from bench.api import Api, success
from bench.raw import RawLedger, expires_on

CHECK_IN = """mutation($m: UUID!, $d: Date) { checkIn(memberId: $m, asOf: $d) {
  __typename ... on CheckInSuccess { points } ... on Error { message } } }"""
REWARDS = (5, 5, 10, 5, 5, 10, 30)  # the service's default cycle
ACTOR = "bench-raw-checkin"
GATEWAY_BASE = date(2040, 1, 1)
RAW_BASE = date(2070, 1, 1)

_PREVIOUS = "SELECT streak FROM loyalty.check_ins WHERE member_id = $1 AND day = $2"
_INSERT_DAY = (
    "INSERT INTO loyalty.check_ins (member_id, day, streak, points, makeup) VALUES ($1, $2, $3, $4, false)"
    " ON CONFLICT DO NOTHING RETURNING day"
)
_LOCK = (
    "WITH c AS (INSERT INTO loyalty.accounts (member_id, balance) VALUES ($1, 0) ON CONFLICT DO NOTHING)"
    " SELECT balance FROM loyalty.accounts WHERE member_id = $1 FOR UPDATE"
)
_WRITE = """
WITH e AS (
    INSERT INTO loyalty.ledger_entries
        (id, member_id, points, balance_after, kind, reason, idempotency_key, actor, created_at)
    VALUES ($1, $2, $3, $4, 'checkin', 'bench check-in', $5, $6, $7)
), l AS (
    INSERT INTO loyalty.point_lots (id, member_id, entry_id, source, points, remaining, earned_at, expires_on)
    VALUES (gen_random_uuid(), $2, $1, 'checkin', $3, $3, $7, $8)
), o AS (
    INSERT INTO loyalty.outbox (id, type, version, aggregate_id, occurred_at, data)
    VALUES (gen_random_uuid(), 'points.balance-changed', 1, $2::text, now(),
        jsonb_build_object('member_id', $2, 'available', $4, 'changed_at', now()))
)
UPDATE loyalty.accounts SET balance = $4, updated_at = now() WHERE member_id = $2
"""

Call = Callable[[int], Awaitable[int]]


def scenarios(api: Api, raw: RawLedger, members: Sequence[uuid.UUID], clients: int) -> list[tuple[str, str, Call]]:
    """(key, label, call) of the gateway's check-ins and the raw loop's."""
    gateway_serial, raw_serial = itertools.count(), itertools.count()

    def target(k: int, base: date) -> tuple[uuid.UUID, date]:
        return members[k % len(members)], base + timedelta(days=k // len(members))

    async def gateway(_: int) -> int:
        member, day = target(next(gateway_serial), GATEWAY_BASE)
        success((await api.gateway(CHECK_IN, {"m": str(member), "d": day.isoformat()}))["checkIn"], "checkIn")
        return 1

    async def baseline(_: int) -> int:
        member, day = target(next(raw_serial), RAW_BASE)
        return await raw_check_in(raw, member, day)

    return [
        ("checkin", f"checkIn via gateway, {clients} clients", gateway),
        ("rawcheckin", f"raw asyncpg check-in transaction, {clients} connections", baseline),
    ]


async def raw_check_in(raw: RawLedger, member: uuid.UUID, day: date) -> int:
    """The service's writes for one check-in, in one transaction."""
    async with raw._pool().acquire() as conn, conn.transaction():
        previous = await conn.fetchval(_PREVIOUS, member, day - timedelta(days=1))
        streak = (previous or 0) + 1
        points = REWARDS[(streak - 1) % len(REWARDS)]
        if await conn.fetchval(_INSERT_DAY, member, day, streak, points) is None:
            return 0
        balance: int = await conn.fetchval(_LOCK, member)
        now = datetime.now(UTC)
        key = f"checkin:{member}:{day.isoformat()}"
        await conn.execute(_WRITE, uuid.uuid4(), member, points, balance + points, key, ACTOR, now, expires_on(now))
    return 1


def report(gateway: Sequence[float], baseline: Sequence[float]) -> list[str]:
    """Lines comparing check-ins per second per round: the gateway's, the raw loop's, and their ratio."""
    ratios = sorted(g / b for g, b in zip(gateway, baseline, strict=True) if b)
    mid = sorted(gateway)[len(gateway) // 2], sorted(baseline)[len(baseline) // 2]
    ratio = ratios[len(ratios) // 2] if ratios else 0.0
    low, high = (ratios[0], ratios[-1]) if ratios else (0.0, 0.0)
    return [
        f"checkIn via gateway: {mid[0]:.0f} check-ins/s; raw SQL loop: {mid[1]:.0f} check-ins/s",
        f"ratio gateway / raw: {ratio:.2f} (rounds {low:.2f}–{high:.2f})",
    ]
