"""The background side of a service app: its outbox relay and its consumers, started and stopped with the app.

`build_app(events=EventWiring(...))` declares what a service publishes and consumes; when a NATS URL is
configured the app's lifespan runs `EventWorkers`. Connecting is retried in the background, so a service starts
(and answers GraphQL, writing events to its outbox) while the bus is still down, and catches up once it is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic

from nats.aio.client import Client
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from yutang_shared.db import SessionFactory
from yutang_shared.events.bus import connect, reraise_if_cancelled
from yutang_shared.events.consumer import Consumer, Subscription, U
from yutang_shared.events.relay import Relay
from yutang_shared.settings import PlatformSettings

log = logging.getLogger("yutang.events")

_CONNECT_RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class EventWiring(Generic[U]):
    """What a service publishes (its outbox) and consumes (subscriptions applied through its inbox, each event in
    a unit of work made by `unit_of_work(sessions)`)."""

    outbox: Table
    inbox: Table | None = None
    subscriptions: Sequence[Subscription[U]] = ()
    unit_of_work: Callable[[SessionFactory], U] | None = None

    def __post_init__(self) -> None:
        if self.subscriptions and (self.inbox is None or self.unit_of_work is None):
            raise ValueError("a service that consumes events needs an inbox table and a unit of work")


@dataclass
class EventWorkers(Generic[U]):
    """The relay and consumers of one service process, as asyncio tasks."""

    service: str
    wiring: EventWiring[U]
    engine: AsyncEngine
    sessions: SessionFactory
    settings: PlatformSettings
    consumers: list[Consumer[U]] = field(default_factory=list)
    _nc: Client | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start connecting and, once connected, the relay and every consumer."""
        self._task = asyncio.create_task(self._run(), name=f"{self.service}-events")

    async def stop(self) -> None:
        """Cancel the relay and consumers, wait for them, and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()
        log.info("event workers stopped", extra={"event_service": self.service})

    async def _run(self) -> None:
        assert self.settings.nats_url is not None
        while True:
            try:
                self._nc = await connect(self.settings.nats_url, name=f"yutang-{self.service}")
                break
            except Exception as exc:
                reraise_if_cancelled()
                log.warning("NATS unreachable (%s); retrying", exc, extra={"event_service": self.service})
                await asyncio.sleep(_CONNECT_RETRY_SECONDS)
        js = self._nc.jetstream()
        replicas = self.settings.nats_replicas
        relay = Relay(
            service=self.service,
            outbox=self.wiring.outbox,
            engine=self.engine,
            sessions=self.sessions,
            js=js,
            replicas=replicas,
        )
        make_uow = self.wiring.unit_of_work
        self.consumers = [
            Consumer(
                service=self.service,
                subscription=subscription,
                inbox=self.wiring.inbox,  # type: ignore[arg-type]  # checked by EventWiring
                unit_of_work=lambda: make_uow(self.sessions),  # type: ignore[misc]
                js=js,
                max_deliveries=self.settings.event_max_deliveries,
                replicas=replicas,
            )
            for subscription in self.wiring.subscriptions
        ]
        log.info(
            "event workers running",
            extra={"event_service": self.service, "consumers": [c.durable for c in self.consumers]},
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(relay.run(), name=f"{self.service}-relay")
            for consumer in self.consumers:
                group.create_task(consumer.run(), name=consumer.durable)

    async def health(self) -> dict[str, Any]:
        """The bus connection and each consumer's lag (messages not yet delivered, and delivered but unacked)."""
        connected = self._nc is not None and self._nc.is_connected
        report: dict[str, Any] = {"nats": "ok" if connected else "down", "consumers": {}}
        if not connected:
            return report
        for consumer in self.consumers:
            try:
                info = await asyncio.wait_for(consumer.info(), 2.0)
                report["consumers"][consumer.durable] = {
                    "num_pending": info.num_pending,
                    "num_ack_pending": info.num_ack_pending,
                    "num_redelivered": info.num_redelivered,
                }
            except Exception as exc:
                report["consumers"][consumer.durable] = {"error": type(exc).__name__}
        return report


async def outbox_backlog(session: AsyncSession, outbox: Table) -> dict[str, Any]:
    """How many events wait in the outbox and how old the oldest is, in seconds (0 when none waits)."""
    statement = select(func.count(), func.min(outbox.c.recorded_at)).where(outbox.c.published_at.is_(None))
    count, oldest = (await session.execute(statement)).one()
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return {"unpublished": int(count), "oldest_age_seconds": round(max(age, 0.0), 3)}
