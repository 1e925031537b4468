"""Unit of work of the members service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from members.repositories import MemberRepository
from yutang_shared.uow import UnitOfWork


class MembersUnitOfWork(UnitOfWork):
    """One transaction over the members repositories."""

    members: MemberRepository

    def _start(self, session: AsyncSession) -> None:
        self.members = MemberRepository(session)
