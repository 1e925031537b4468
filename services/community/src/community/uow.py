"""Unit of work of the community service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from community.directory.repository import DirectoryRepository
from community.facts.repository import FactRepository
from community.groups.repository import GroupRepository
from community.memberships.repository import MembershipRepository
from community.tasks.repository import TaskRepository
from community.vip.repository import VipRepository
from yutang_shared.uow import UnitOfWork


class CommunityUnitOfWork(UnitOfWork):
    """One transaction over the member directory, groups, memberships, tasks, facts and VIP records."""

    directory: DirectoryRepository
    groups: GroupRepository
    memberships: MembershipRepository
    tasks: TaskRepository
    facts: FactRepository
    vip: VipRepository

    def _start(self, session: AsyncSession) -> None:
        self.directory = DirectoryRepository(session)
        self.groups = GroupRepository(session)
        self.memberships = MembershipRepository(session)
        self.tasks = TaskRepository(session)
        self.facts = FactRepository(session)
        self.vip = VipRepository(session)
