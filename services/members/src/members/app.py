"""The members subgraph app (`uvicorn members.app:create_app --factory`)."""

from __future__ import annotations

from litestar import Litestar

from members.config import MembersSettings
from members.context import context_factory
from members.facts.service import COMMUNITY, LOYALTY
from members.identity.http import IdentityWeb
from members.identity.ports import StaffDirectory
from members.models import INBOX, OUTBOX
from members.pii import MobileVault
from members.schema import schema
from members.uow import MembersUnitOfWork
from yutang_shared.app import build_app
from yutang_shared.events.workers import EventWiring


def create_app(settings: MembersSettings | None = None, *, staff: StaffDirectory | None = None) -> Litestar:
    """The app; reads MEMBERS_* / DATABASE_URL / YUTANG_* settings unless given. Fails at start without a PII key."""
    settings = settings or MembersSettings()
    vault = MobileVault(settings.pii_key_bytes())
    identity = IdentityWeb(settings.identity, settings.platform, vault, staff=staff)
    return build_app(
        service="members",
        schema=schema,
        settings=settings,
        context=context_factory(settings, vault, identity.mini_program),
        events=EventWiring(
            outbox=OUTBOX, inbox=INBOX, subscriptions=[LOYALTY, COMMUNITY], unit_of_work=MembersUnitOfWork
        ),
        routes=identity.routes,
        on_shutdown=[identity.close],
    )
