"""Helpers of the lots tests: writing through the one ledger path, and reading lots and invariants back."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loyalty.lots.service import expire_points, lot_mismatches
from loyalty.lots.views import Expired
from loyalty.points.lots import ExpiryPolicies, local_date
from loyalty.points.models import EntryKind
from loyalty.points.service import post_entries
from loyalty.points.views import Posted, Posting
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.db import session_factory
from yutang_shared.errors import DomainError

ACTOR = "lots-test"


def uow(engine: AsyncEngine) -> LoyaltyUnitOfWork:
    return LoyaltyUnitOfWork(session_factory(engine))


async def post(
    engine: AsyncEngine,
    member: uuid.UUID,
    points: int,
    key: str,
    *,
    kind: EntryKind = EntryKind.ADJUSTMENT,
    order_id: uuid.UUID | None = None,
    restores: uuid.UUID | None = None,
    expiry: ExpiryPolicies | None = None,
) -> Posted | DomainError:
    posting = Posting(member, points, kind, "test", key, order_id, restores=restores)
    (result,) = await post_entries(uow(engine), [posting], actor=ACTOR, expiry=expiry or ExpiryPolicies())
    return result


async def expire(engine: AsyncEngine, as_of: date, shard: int = 0, shards: int = 1) -> Expired:
    return await expire_points(uow(engine), as_of=as_of, shard=shard, shards=shards)


def today() -> date:
    from datetime import UTC, datetime

    return local_date(datetime.now(UTC))


def days(n: int) -> date:
    return today() + timedelta(days=n)


async def lots(engine: AsyncEngine, member: uuid.UUID) -> list[dict[str, Any]]:
    """The member's lots with their grant's key, oldest first."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT e.idempotency_key AS key, l.points, l.remaining, l.expires_on, l.source "
                "FROM loyalty.point_lots AS l JOIN loyalty.ledger_entries AS e ON e.id = l.entry_id "
                "WHERE l.member_id = :m ORDER BY l.earned_at, l.id"
            ),
            {"m": member},
        )
        return [dict(row) for row in rows.mappings()]


async def balance(engine: AsyncEngine, member: uuid.UUID) -> int:
    async with engine.connect() as connection:
        value = await connection.scalar(
            text("SELECT balance FROM loyalty.accounts WHERE member_id = :m"), {"m": member}
        )
    return int(value or 0)


async def consumed(engine: AsyncEngine, entry_id: uuid.UUID) -> dict[str, int]:
    """The lots (by their grant's key) an entry took points from (positive) or gave back to (negative)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT e.idempotency_key AS key, c.points FROM loyalty.lot_consumptions AS c "
                "JOIN loyalty.point_lots AS l ON l.id = c.lot_id JOIN loyalty.ledger_entries AS e ON e.id = l.entry_id "
                "WHERE c.entry_id = :e"
            ),
            {"e": entry_id},
        )
        return {row.key: int(row.points) for row in rows}


async def invariant_violations(engine: AsyncEngine) -> list[str]:
    """Every broken invariant: balances vs lots vs entries (reconciliation), negative balances, keys twice."""
    found = [
        f"{m.kind} {m.subject_id}: expected {m.expected}, found {m.found}" for m in await lot_mismatches(uow(engine))
    ]
    async with engine.connect() as connection:
        negative = await connection.scalar(text("SELECT count(*) FROM loyalty.accounts WHERE balance < 0"))
        twice = await connection.scalar(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM loyalty.ledger_entries GROUP BY actor, idempotency_key "
                "HAVING count(*) > 1) AS t"
            )
        )
    if negative:
        found.append(f"{negative} negative balances")
    if twice:
        found.append(f"{twice} keys applied twice")
    return found
