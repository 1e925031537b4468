"""The community subgraph app (`uvicorn community.app:create_app --factory`)."""

from __future__ import annotations

from litestar import Litestar

from community.config import CommunitySettings
from community.context import context_factory
from community.schema import schema
from yutang_shared.app import build_app


def create_app(settings: CommunitySettings | None = None) -> Litestar:
    """The app; reads COMMUNITY_* / DATABASE_URL / YUTANG_* settings unless given."""
    settings = settings or CommunitySettings()
    return build_app(service="community", schema=schema, settings=settings, context=context_factory(settings))
