"""Unit of work of the members service: one transaction over every feature's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from members.audiences.repository import AudienceRepository
from members.audit.repository import AuditRepository
from members.facts.repository import FactsRepository
from members.identity.repository import IdentityRepository
from members.insights.repository import InsightsRepository
from members.orders.repository import OrderRepository
from members.organisation.repository import OrganisationRepository
from members.profile.repository import MemberRepository
from members.tags.repository import TaggingJobRepository, TagRepository
from yutang_shared.uow import UnitOfWork


class MembersUnitOfWork(UnitOfWork):
    """One transaction over the members service's tables."""

    members: MemberRepository
    identity: IdentityRepository
    orders: OrderRepository
    organisation: OrganisationRepository
    audit: AuditRepository
    audiences: AudienceRepository
    facts: FactsRepository
    insights: InsightsRepository
    tags: TagRepository
    tagging_jobs: TaggingJobRepository

    def _start(self, session: AsyncSession) -> None:
        self.members = MemberRepository(session)
        self.identity = IdentityRepository(session)
        self.orders = OrderRepository(session)
        self.organisation = OrganisationRepository(session)
        self.audit = AuditRepository(session)
        self.audiences = AudienceRepository(session)
        self.facts = FactsRepository(session)
        self.insights = InsightsRepository(session)
        self.tags = TagRepository(session)
        self.tagging_jobs = TaggingJobRepository(session)
