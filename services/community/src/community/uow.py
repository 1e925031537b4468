"""Unit of work of the community service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from community.directory.repository import DirectoryRepository
from community.groups.repository import GroupRepository
from community.memberships.repository import MembershipRepository
from yutang_shared.uow import UnitOfWork


class CommunityUnitOfWork(UnitOfWork):
    """One transaction over the member directory, groups and memberships."""

    directory: DirectoryRepository
    groups: GroupRepository
    memberships: MembershipRepository

    def _start(self, session: AsyncSession) -> None:
        self.directory = DirectoryRepository(session)
        self.groups = GroupRepository(session)
        self.memberships = MembershipRepository(session)
