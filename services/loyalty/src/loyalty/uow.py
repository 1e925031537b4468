"""Unit of work of the loyalty service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.directory.repository import DirectoryRepository
from loyalty.points.repository import AccountRepository, LedgerRepository
from yutang_shared.uow import UnitOfWork


class LoyaltyUnitOfWork(UnitOfWork):
    """One transaction over the member directory, accounts and the ledger."""

    directory: DirectoryRepository
    accounts: AccountRepository
    ledger: LedgerRepository

    def _start(self, session: AsyncSession) -> None:
        self.directory = DirectoryRepository(session)
        self.accounts = AccountRepository(session)
        self.ledger = LedgerRepository(session)
