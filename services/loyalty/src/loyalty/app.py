"""The loyalty subgraph app (`uvicorn loyalty.app:create_app --factory`)."""

from __future__ import annotations

from litestar import Litestar

from loyalty.config import LoyaltySettings
from loyalty.context import context_factory
from loyalty.directory.service import SUBSCRIPTION as DIRECTORY
from loyalty.earning import service as earning
from loyalty.models import INBOX, OUTBOX
from loyalty.schema import schema
from loyalty.tiers import service as tiers
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.app import build_app
from yutang_shared.events.workers import EventWiring


def create_app(settings: LoyaltySettings | None = None) -> Litestar:
    """The app; reads LOYALTY_* / DATABASE_URL / YUTANG_* settings unless given."""
    settings = settings or LoyaltySettings()
    events = EventWiring(
        outbox=OUTBOX,
        inbox=INBOX,
        subscriptions=[
            DIRECTORY,
            earning.subscription(earning.rules_of(settings)),
            tiers.subscription(settings.tier_rules(), settings.expiry_policies()),
        ],
        unit_of_work=LoyaltyUnitOfWork,
    )
    return build_app(
        service="loyalty", schema=schema, settings=settings, context=context_factory(settings), events=events
    )
