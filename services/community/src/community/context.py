"""The community subgraph's request context: the shared one plus this service's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.types import Info

from community.config import CommunitySettings
from yutang_shared.auth import Principal
from yutang_shared.context import Loaders, RequestContext
from yutang_shared.db import SessionFactory


class CommunityContext(RequestContext, kw_only=True):
    """What a community resolver may use: principal, sessions, loaders and the settings the app was built with."""

    settings: CommunitySettings


CommunityInfo = Info[CommunityContext, Any]


def context_factory(
    settings: CommunitySettings,
) -> Callable[[SessionFactory, Principal | None], CommunityContext]:
    """Builds each request's context for an app made with `settings`."""

    def make(sessions: SessionFactory, principal: Principal | None) -> CommunityContext:
        return CommunityContext(principal=principal, sessions=sessions, loaders=Loaders(sessions), settings=settings)

    return make
