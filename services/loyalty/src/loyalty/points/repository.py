"""The only SQL of the points feature: accounts locked in member order, and the ledger written set-wise."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

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
_BY_KEYS = text(
    "SELECT id, member_id, points, balance_after, kind, reason, idempotency_key, actor, created_at, order_id "
    "FROM loyalty.ledger_entries "
    "WHERE actor = :actor AND idempotency_key = ANY(CAST(:keys AS varchar[]))"
)
# Appends the entries and moves each touched bucket of each account to its last entry's balance_after, in one
# statement. A key another transaction committed meanwhile is skipped (not raised), and `written` then tells the
# caller.
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
    )
    SELECT (SELECT count(*) FROM entries) AS written, (SELECT count(*) FROM moved) AS moved
    """
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

    async def append(self, actor: str, entries: Sequence[dict[str, Any]]) -> int:
        """Write the entries of one caller and move the balances they touch; how many were written (fewer
        when another transaction committed one of the keys first: the caller must then start over)."""

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
        }
        row = (await self.session.execute(_APPEND, params)).one()
        return int(row.written)

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
