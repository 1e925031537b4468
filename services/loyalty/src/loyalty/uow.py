"""Unit of work of the loyalty service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.birthday.repository import BirthdayRepository
from loyalty.checkin.repository import CheckInRepository
from loyalty.directory.repository import DirectoryRepository
from loyalty.earning.repository import EarningRepository
from loyalty.lots.repository import LotsRepository
from loyalty.payment.repository import PaymentRepository
from loyalty.points.repository import AccountRepository, LedgerRepository
from loyalty.tiers.repository import TiersRepository
from yutang_shared.uow import UnitOfWork


class LoyaltyUnitOfWork(UnitOfWork):
    """One transaction over the member directory, accounts, the ledger and orders' points."""

    directory: DirectoryRepository
    accounts: AccountRepository
    ledger: LedgerRepository
    earning: EarningRepository
    lots: LotsRepository
    tiers: TiersRepository
    checkin: CheckInRepository
    payment: PaymentRepository
    birthdays: BirthdayRepository

    @property
    def is_open(self) -> bool:
        """True inside `async with uow:` (a caller's transaction is under way)."""
        return self._session is not None

    def _start(self, session: AsyncSession) -> None:
        self.directory = DirectoryRepository(session)
        self.accounts = AccountRepository(session)
        self.ledger = LedgerRepository(session)
        self.earning = EarningRepository(session)
        self.lots = LotsRepository(session)
        self.tiers = TiersRepository(session)
        self.checkin = CheckInRepository(session)
        self.payment = PaymentRepository(session)
        self.birthdays = BirthdayRepository(session)
