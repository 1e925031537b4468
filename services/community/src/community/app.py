"""The community subgraph app (`uvicorn community.app:create_app --factory`)."""

from __future__ import annotations

from litestar import Litestar

from community.config import CommunitySettings
from community.context import context_factory
from community.directory.service import SUBSCRIPTION as DIRECTORY
from community.facts.service import ORDERS, TIERS
from community.models import INBOX, OUTBOX
from community.schema import schema
from community.uow import CommunityUnitOfWork
from yutang_shared.app import build_app
from yutang_shared.events.workers import EventWiring


def create_app(settings: CommunitySettings | None = None) -> Litestar:
    """The app; reads COMMUNITY_* / DATABASE_URL / YUTANG_* settings unless given."""
    settings = settings or CommunitySettings()
    events = EventWiring(
        outbox=OUTBOX, inbox=INBOX, subscriptions=[DIRECTORY, ORDERS, TIERS], unit_of_work=CommunityUnitOfWork
    )
    return build_app(
        service="community", schema=schema, settings=settings, context=context_factory(settings), events=events
    )
