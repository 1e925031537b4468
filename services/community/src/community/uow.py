"""Unit of work of the community service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from community.groups.repository import GroupRepository
from community.memberships.repository import MembershipRepository
from yutang_shared.uow import UnitOfWork


class CommunityUnitOfWork(UnitOfWork):
    """One transaction over groups and memberships."""

    groups: GroupRepository
    memberships: MembershipRepository

    def _start(self, session: AsyncSession) -> None:
        self.groups = GroupRepository(session)
        self.memberships = MembershipRepository(session)
