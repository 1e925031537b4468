"""The only SQL of the points feature: accounts locked in member order, and the ledger written set-wise."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loyalty.points.lots import Allocation, Lot
from loyalty.points.models import Account, LedgerEntry
from loyalty.points.views import AccountState

# Creates the missing accounts at zero and locks the rest, in member-id order so that two writers touching the
# same members never deadlock. A row another transaction created after this statement's snapshot is found by
# neither part; `lock_accounts` locks those with a second statement.
_LOCK_ACCOUNTS = text(
    """
    WITH created AS (
        INSERT INTO loyalty.accounts (member_id, balance)
        SELECT id, 0 FROM unnest(CAST(:ids AS uuid[])) AS id ORDER BY id
        ON CONFLICT (member_id) DO NOTHING
        RETURNING member_id, balance, pending, owed
    ), locked AS (
        SELECT member_id, balance, pending, owed FROM loyalty.accounts
        WHERE member_id = ANY(CAST(:ids AS uuid[])) ORDER BY member_id FOR UPDATE
    )
    SELECT member_id, balance, pending, owed FROM created
    UNION ALL SELECT member_id, balance, pending, owed FROM locked
    """
)
_LOCK_MORE = text(
    "SELECT member_id, balance, pending, owed FROM loyalty.accounts WHERE member_id = ANY(CAST(:ids AS uuid[])) "
    "ORDER BY member_id FOR UPDATE"
)
# A join on the unnested keys, not `idempotency_key = ANY(:keys)`: with the array a parameter, a plan that scans the
# ledger (stale statistics, a generic plan) tests every row against every key, linearly: 0.9 s a batch of 1 000 keys
# on a 20 000-entry ledger. The join looks each key up in the (actor, idempotency_key) unique index.
_BY_KEYS = text(
    "SELECT e.id, e.member_id, e.points, e.balance_after, e.kind, e.reason, e.idempotency_key, e.actor, e.created_at, "
    "e.order_id FROM unnest(CAST(:keys AS varchar[])) AS k(key) "
    "JOIN loyalty.ledger_entries AS e ON e.actor = :actor AND e.idempotency_key = k.key"
)
# Appends the entries, moves each touched bucket of each account to its last entry's balance_after, and writes
# the lots (new lots, existing lots' remaining points, the entries' consumptions), in one statement. A key
# another transaction committed meanwhile is skipped (not raised), and `written` then tells the caller; the lots
# are then not written (`complete` is false), since the caller starts over. The consumptions' and lots' foreign
# keys are checked at the end of the statement, when the entries and new lots are there.
_APPEND = text(
    """
    WITH entries AS (
        INSERT INTO loyalty.ledger_entries
            (id, member_id, points, balance_after, kind, bucket, reason, idempotency_key, actor, created_at,
             order_id)
        SELECT i, m, p, b, k, bk, r, key, :actor, at, o FROM unnest(
            CAST(:ids AS uuid[]), CAST(:members AS uuid[]), CAST(:points AS bigint[]),
            CAST(:balances AS bigint[]), CAST(:kinds AS varchar[]), CAST(:buckets AS varchar[]),
            CAST(:reasons AS varchar[]), CAST(:keys AS varchar[]), CAST(:ats AS timestamptz[]),
            CAST(:orders AS uuid[])
        ) AS t(i, m, p, b, k, bk, r, key, at, o)
        ON CONFLICT (actor, idempotency_key) DO NOTHING
        RETURNING member_id, bucket, balance_after, created_at
    ), last AS (
        SELECT DISTINCT ON (member_id, bucket) member_id, bucket, balance_after
        FROM entries ORDER BY member_id, bucket, created_at DESC
    ), moved AS (
        UPDATE loyalty.accounts AS a SET
            balance = COALESCE(t.available, a.balance),
            pending = COALESCE(t.pending, a.pending),
            owed = COALESCE(t.owed, a.owed),
            updated_at = now()
        FROM (
            SELECT member_id,
                max(balance_after) FILTER (WHERE bucket = 'available') AS available,
                max(balance_after) FILTER (WHERE bucket = 'pending') AS pending,
                max(balance_after) FILTER (WHERE bucket = 'owed') AS owed
            FROM last GROUP BY member_id
        ) AS t
        WHERE a.member_id = t.member_id
        RETURNING a.member_id
    ), complete AS (
        SELECT (SELECT count(*) FROM entries) = cardinality(CAST(:ids AS uuid[])) AS ok
    ), lots AS (
        INSERT INTO loyalty.point_lots
            (id, member_id, entry_id, source, points, remaining, earned_at, expires_on, order_id)
        SELECT t.* FROM unnest(
            CAST(:lot_ids AS uuid[]), CAST(:lot_members AS uuid[]), CAST(:lot_entries AS uuid[]),
            CAST(:lot_sources AS varchar[]), CAST(:lot_points AS bigint[]), CAST(:lot_remaining AS bigint[]),
            CAST(:lot_earned AS timestamptz[]), CAST(:lot_expires AS date[]), CAST(:lot_orders AS uuid[])
        ) AS t, complete WHERE complete.ok
        RETURNING id
    ), lots_moved AS (
        UPDATE loyalty.point_lots AS l SET remaining = t.r
        FROM unnest(CAST(:moved_ids AS uuid[]), CAST(:moved_remaining AS bigint[])) AS t(i, r), complete
        WHERE l.id = t.i AND complete.ok
        RETURNING l.id
    ), used AS (
        INSERT INTO loyalty.lot_consumptions (entry_id, lot_id, points)
        SELECT t.* FROM unnest(
            CAST(:used_entries AS uuid[]), CAST(:used_lots AS uuid[]), CAST(:used_points AS bigint[])
        ) AS t, complete WHERE complete.ok
        RETURNING entry_id
    )
    SELECT (SELECT count(*) FROM entries) AS written, (SELECT count(*) FROM moved) AS moved,
        (SELECT count(*) FROM lots) + (SELECT count(*) FROM lots_moved) + (SELECT count(*) FROM used) AS lot_rows
    """
)


_OPEN_LOTS = text(
    "SELECT id, member_id, remaining, expires_on, earned_at, order_id FROM loyalty.point_lots "
    "WHERE member_id = ANY(CAST(:members AS uuid[])) AND remaining > 0 "
    "UNION SELECT l.id, l.member_id, l.remaining, l.expires_on, l.earned_at, l.order_id "
    "FROM loyalty.lot_consumptions AS c JOIN loyalty.point_lots AS l ON l.id = c.lot_id "
    "WHERE c.entry_id = ANY(CAST(:restores AS uuid[]))"
)
_CONSUMED = text(
    "SELECT entry_id, lot_id, points FROM loyalty.lot_consumptions WHERE entry_id = ANY(CAST(:entries AS uuid[]))"
)
# Built once: constructing a statement costs more CPU than running a cached one (every entity fetch reads here).
_ACCOUNTS_BY_MEMBER_IDS = select(Account).where(col(Account.member_id).in_(bindparam("ids", expanding=True)))


class AccountRepository:
    """Accounts read for display; writes go through the ledger."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_member_ids(self, member_ids: Sequence[uuid.UUID]) -> list[Account]:
        """The accounts among `member_ids` that exist (one SELECT)."""
        return list((await self.session.execute(_ACCOUNTS_BY_MEMBER_IDS, {"ids": list(member_ids)})).scalars())


class LedgerRepository:
    """Ledger entries: appended with their balances, found by the caller's keys, listed newest first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_accounts(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AccountState]:
        """Each member's totals, their account created at zero if new and locked until the transaction ends."""
        ids = sorted(set(member_ids))
        rows = (await self.session.execute(_LOCK_ACCOUNTS, {"ids": ids})).all()
        states = {row.member_id: AccountState(row.balance, row.pending, row.owed) for row in rows}
        if missing := [member_id for member_id in ids if member_id not in states]:
            rows = (await self.session.execute(_LOCK_MORE, {"ids": missing})).all()
            states.update({row.member_id: AccountState(row.balance, row.pending, row.owed) for row in rows})
        return states

    async def by_keys(self, actor: str, keys: Sequence[str]) -> list[dict[str, Any]]:
        """The entries this caller already wrote under any of these idempotency keys."""
        rows = await self.session.execute(_BY_KEYS, {"actor": actor, "keys": list(set(keys))})
        return [dict(row) for row in rows.mappings()]

    async def append(self, actor: str, entries: Sequence[dict[str, Any]], allocation: Allocation) -> int:
        """Write the entries of one caller, move the balances they touch and write the lots `allocation` computed
        for them; how many entries were written (fewer when another transaction committed one of the keys
        first: then no lot was written and the caller must start over)."""

        def column(name: str) -> list[Any]:
            return [entry[name] for entry in entries]

        params = {
            "actor": actor,
            "ids": column("id"),
            "members": column("member_id"),
            "points": column("points"),
            "balances": column("balance_after"),
            "kinds": column("kind"),
            "buckets": column("bucket"),
            "orders": column("order_id"),
            "reasons": column("reason"),
            "keys": column("idempotency_key"),
            "ats": column("created_at"),
            **_lot_params(allocation),
        }
        row = (await self.session.execute(_APPEND, params)).one()
        return int(row.written)

    async def lots_for(
        self, member_ids: Sequence[uuid.UUID], restores: Sequence[uuid.UUID]
    ) -> tuple[list[Lot], dict[uuid.UUID, list[tuple[uuid.UUID, int]]]]:
        """The open lots of `member_ids` (accounts locked by the caller) with the lots the `restores` entries
        consumed, and those entries' net consumption per lot."""
        params = {"members": sorted(set(member_ids)), "restores": list(set(restores))}
        lots = [Lot(**dict(row)) for row in (await self.session.execute(_OPEN_LOTS, params)).mappings()]
        consumed: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
        if restores:
            for row in await self.session.execute(_CONSUMED, {"entries": params["restores"]}):
                per_lot = consumed.setdefault(row.entry_id, {})
                per_lot[row.lot_id] = per_lot.get(row.lot_id, 0) + int(row.points)
        return lots, {entry: [(lot, n) for lot, n in per_lot.items() if n > 0] for entry, per_lot in consumed.items()}

    async def page(
        self, member_id: uuid.UUID, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[LedgerEntry]:
        """Up to `limit` of the member's entries, newest first, older than the given position."""
        statement = (
            select(LedgerEntry)
            .where(col(LedgerEntry.member_id) == member_id)
            .order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
            .limit(limit)
        )
        if before is not None:
            key = tuple_(col(LedgerEntry.created_at), col(LedgerEntry.id))
            statement = statement.where(key < tuple_(literal(before[0]), literal(before[1])))
        return list((await self.session.execute(statement)).scalars())

    async def count(self, member_id: uuid.UUID) -> int:
        """How many entries the member's ledger holds."""
        statement = select(func.count()).select_from(LedgerEntry).where(col(LedgerEntry.member_id) == member_id)
        return int((await self.session.execute(statement)).scalar_one())


def _lot_params(allocation: Allocation) -> dict[str, list[Any]]:
    """The append statement's lot arrays: new lots, moved lots' remaining points, consumptions."""
    new, moved, used = allocation.new_lots, allocation.remaining, allocation.consumptions
    return {
        "lot_ids": [lot.id for lot in new],
        "lot_members": [lot.member_id for lot in new],
        "lot_entries": [lot.entry_id for lot in new],
        "lot_sources": [lot.source for lot in new],
        "lot_points": [lot.points for lot in new],
        "lot_remaining": [lot.remaining for lot in new],
        "lot_earned": [lot.earned_at for lot in new],
        "lot_expires": [lot.expires_on for lot in new],
        "lot_orders": [lot.order_id for lot in new],
        "moved_ids": list(moved),
        "moved_remaining": list(moved.values()),
        "used_entries": [entry for entry, _ in used],
        "used_lots": [lot for _, lot in used],
        "used_points": list(used.values()),
    }
