"""Unit of work of the loyalty service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.points.repository import AccountRepository, LedgerRepository
from yutang_shared.uow import UnitOfWork


class LoyaltyUnitOfWork(UnitOfWork):
    """One transaction over accounts and the ledger."""

    accounts: AccountRepository
    ledger: LedgerRepository

    def _start(self, session: AsyncSession) -> None:
        self.accounts = AccountRepository(session)
        self.ledger = LedgerRepository(session)
