"""The loyalty subgraph's request context: the shared one plus this service's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.types import Info

from loyalty.config import LoyaltySettings
from yutang_shared.auth import Principal
from yutang_shared.context import Loaders, RequestContext
from yutang_shared.db import SessionFactory


class LoyaltyContext(RequestContext, kw_only=True):
    """What a loyalty resolver may use: principal, sessions, loaders and the settings the app was built with."""

    settings: LoyaltySettings


LoyaltyInfo = Info[LoyaltyContext, Any]


def context_factory(settings: LoyaltySettings) -> Callable[[SessionFactory, Principal | None], LoyaltyContext]:
    """Builds each request's context for an app made with `settings`."""

    def make(sessions: SessionFactory, principal: Principal | None) -> LoyaltyContext:
        return LoyaltyContext(principal=principal, sessions=sessions, loaders=Loaders(sessions), settings=settings)

    return make
