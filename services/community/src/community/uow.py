"""Unit of work of the community service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from community.repositories import GroupMemberRepository, GroupRepository
from yutang_shared.uow import UnitOfWork


class CommunityUnitOfWork(UnitOfWork):
    """One transaction over the community repositories."""

    groups: GroupRepository
    memberships: GroupMemberRepository

    def _start(self, session: AsyncSession) -> None:
        self.groups = GroupRepository(session)
        self.memberships = GroupMemberRepository(session)
