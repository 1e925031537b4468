"""The members subgraph's request context: the shared one plus this service's settings and its PII vault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strawberry.types import Info

from members.config import MembersSettings
from members.identity.wechat import WechatClient
from members.pii import MobileVault
from yutang_shared.auth import Principal
from yutang_shared.context import Loaders, RequestContext
from yutang_shared.db import SessionFactory


class MembersContext(RequestContext, kw_only=True):
    """What a members resolver may use: principal, sessions, loaders, the app's settings, its mobile vault, and the
    mini-program's WeChat client (None when WeChat is not configured) for phone binding."""

    settings: MembersSettings
    vault: MobileVault
    mini_program: WechatClient | None = None


MembersInfo = Info[MembersContext, Any]


def context_factory(
    settings: MembersSettings, vault: MobileVault, mini_program: WechatClient | None = None
) -> Callable[[SessionFactory, Principal | None], MembersContext]:
    """Builds each request's context for an app made with `settings`, `vault` and the mini-program's client."""

    def make(sessions: SessionFactory, principal: Principal | None) -> MembersContext:
        return MembersContext(
            principal=principal,
            sessions=sessions,
            loaders=Loaders(sessions),
            settings=settings,
            vault=vault,
            mini_program=mini_program,
        )

    return make
