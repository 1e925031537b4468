"""The community subgraph app (`uvicorn community.app:create_app --factory`)."""

from __future__ import annotations

from litestar import Litestar

from community.config import CommunitySettings, get_settings
from community.graphql.loaders import make_loaders
from community.graphql.schema import schema
from yutang_shared.app import build_app


def create_app(settings: CommunitySettings | None = None) -> Litestar:
    """The app; reads COMMUNITY_* / DATABASE_URL / YUTANG_* settings unless given."""
    return build_app(service="community", schema=schema, settings=settings or get_settings(), loaders=make_loaders)
