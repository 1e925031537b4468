"""Builds a subgraph's Litestar app: GraphQL behind the gateway trust check, /health, engine lifecycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from litestar import Litestar, MediaType, Response, get
from litestar.types import ASGIApp, ControllerRouterHandler
from sqlalchemy import text
from strawberry.schema import BaseSchema

from yutang_shared.auth import Principal
from yutang_shared.context import RequestContext
from yutang_shared.db import SessionFactory, create_engine, session_factory
from yutang_shared.events.workers import EventWiring, EventWorkers, outbox_backlog
from yutang_shared.graphql import graphql_controller
from yutang_shared.logging import configure_logging
from yutang_shared.settings import ServiceSettings
from yutang_shared.trust import GatewayTrust, key_set

log = logging.getLogger("yutang.app")


def build_app(
    *,
    service: str,
    schema: BaseSchema,
    settings: ServiceSettings,
    context: Callable[[SessionFactory, Principal | None], RequestContext],
    events: EventWiring[Any] | None = None,
    routes: Callable[[SessionFactory], Sequence[ControllerRouterHandler]] | None = None,
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
) -> Litestar:
    """A subgraph app. Fails at start, not at the first request, when keys or secrets are missing.

    `context(sessions, principal)` builds the service's typed request context, once per request. `routes(sessions)`
    adds the service's own HTTP endpoints beside /graphql (outside the gateway-signature check, e.g. members'
    /auth/*); `on_shutdown` closes what they hold. `events`
    declares the service's outbox and consumers: with a NATS URL configured (`YUTANG_NATS_URL`, else
    `NATS_URL`) the app's lifespan runs its relay and consumers in the background; without one it runs none.
    """
    configure_logging(service, settings.log_level)
    platform = settings.platform
    keys = key_set(platform)
    _ = platform.secret
    engine = create_engine(settings.database_url, pool_size=settings.pool_size)
    sessions = session_factory(engine)
    workers = (
        EventWorkers(service=service, wiring=events, engine=engine, sessions=sessions, settings=platform)
        if events is not None and platform.nats_url
        else None
    )

    @get("/health", media_type=MediaType.JSON, include_in_schema=False)
    async def health() -> Response[dict[str, Any]]:
        """Liveness and database reachability, for the process manager and load balancers; with events, the
        outbox backlog and (when the bus is configured) each consumer's lag."""
        report: dict[str, Any] = {"status": "ok", "service": service, "database": "ok"}
        try:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
                if events is not None:
                    report["outbox"] = await outbox_backlog(session, events.outbox)
        except Exception:
            log.exception("health check: database unreachable")
            return Response({"status": "unavailable", "service": service, "database": "down"}, status_code=503)
        if workers is not None:
            report["events"] = await workers.health()
        return Response(report)

    @asynccontextmanager
    async def background(_: Litestar) -> AsyncIterator[None]:
        if workers is not None:
            await workers.start()
        try:
            yield
        finally:
            if workers is not None:
                await workers.stop()

    async def dispose() -> None:
        await engine.dispose()

    def trust(app: ASGIApp) -> ASGIApp:
        return GatewayTrust(app, platform, keys=keys)

    app = Litestar(
        route_handlers=[
            graphql_controller(schema, partial(context, sessions)),
            health,
            *(routes(sessions) if routes else ()),
        ],
        middleware=[trust],
        on_startup=[lambda: log.info("%s subgraph ready", service)],
        on_shutdown=[*on_shutdown, dispose],
        lifespan=[background],
        openapi_config=None,
        logging_config=None,
    )
    app.state.engine = engine
    app.state.events = workers
    return app
