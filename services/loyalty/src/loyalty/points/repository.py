"""The only place in the loyalty service that writes SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loyalty.domain.models import Account, LedgerEntry


class AccountRepository:
    """Accounts, locked for writing in primary-key order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, member_id: uuid.UUID) -> Account:
        """The member's account, created at zero if new, locked FOR UPDATE until the transaction ends."""
        await self.session.execute(insert(Account).values(member_id=member_id, balance=0).on_conflict_do_nothing())
        statement = select(Account).where(col(Account.member_id) == member_id).with_for_update()
        return (await self.session.execute(statement)).scalar_one()

    async def set_balance(self, member_id: uuid.UUID, balance: int) -> None:
        """Store the new balance of a locked account."""
        statement = update(Account).where(col(Account.member_id) == member_id).values(balance=balance)
        await self.session.execute(statement)

    async def by_member_ids(self, member_ids: Sequence[uuid.UUID]) -> list[Account]:
        """The accounts among `member_ids` that exist (one SELECT)."""
        statement = select(Account).where(col(Account.member_id).in_(member_ids))
        return list((await self.session.execute(statement)).scalars())


class LedgerRepository:
    """Ledger entries: appended, found by idempotency key, listed newest first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        """Insert the entry; the unique idempotency key makes a duplicate fail here."""
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def by_key(self, idempotency_key: str) -> LedgerEntry | None:
        """The entry written under this idempotency key, if any."""
        statement = select(LedgerEntry).where(col(LedgerEntry.idempotency_key) == idempotency_key)
        return (await self.session.execute(statement)).scalar_one_or_none()

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
