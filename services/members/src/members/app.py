"""The members subgraph app (`uvicorn members.app:create_app --factory`)."""

from __future__ import annotations

from litestar import Litestar

from members.config import MembersSettings, get_settings
from members.graphql.loaders import make_loaders
from members.graphql.schema import schema
from yutang_shared.app import build_app


def create_app(settings: MembersSettings | None = None) -> Litestar:
    """The app; reads MEMBERS_* / DATABASE_URL / YUTANG_* settings unless given."""
    return build_app(service="members", schema=schema, settings=settings or get_settings(), loaders=make_loaders)
