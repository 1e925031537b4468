"""Helpers of the event backbone tests: members registered through the real use case, relays and consumers
wired like the apps wire them, and reads of the bus and the tables."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from nats.js import JetStreamContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from community.directory.service import SUBSCRIPTION as COMMUNITY_DIRECTORY
from community.models import INBOX as COMMUNITY_INBOX
from community.uow import CommunityUnitOfWork
from loyalty.directory.service import SUBSCRIPTION as LOYALTY_DIRECTORY
from loyalty.models import INBOX as LOYALTY_INBOX
from loyalty.uow import LoyaltyUnitOfWork
from members.models import OUTBOX as MEMBERS_OUTBOX
from members.pii import MobileVault
from members.profile.models import SourceChannel
from members.registration.service import register_member
from members.uow import MembersUnitOfWork
from yutang_shared.db import SessionFactory
from yutang_shared.events.bus import stream_name
from yutang_shared.events.consumer import Consumer, Subscription
from yutang_shared.events.relay import Relay
from yutang_shared.outbox import Event


def mobile(n: int) -> str:
    return f"139{n:08d}"


async def register(sessions: SessionFactory, vault: MobileVault, n: int) -> uuid.UUID:
    """Member number `n`, registered through the members use case (which writes member.registered)."""
    registration = await register_member(
        MembersUnitOfWork(sessions), vault, mobile=mobile(n), nickname=None, source_channel=SourceChannel.STORE_QR
    )
    return registration.member.id


def members_relay(engine: AsyncEngine, sessions: SessionFactory, js: JetStreamContext, **options: Any) -> Relay:
    return Relay(service="members", outbox=MEMBERS_OUTBOX, engine=engine, sessions=sessions, js=js, **options)


def loyalty_directory(
    sessions: SessionFactory, js: JetStreamContext, subscription: Subscription[Any] | None = None, **options: Any
) -> Consumer[LoyaltyUnitOfWork]:
    return Consumer(
        service="loyalty",
        subscription=subscription or LOYALTY_DIRECTORY,
        inbox=LOYALTY_INBOX,
        unit_of_work=lambda: LoyaltyUnitOfWork(sessions),
        js=js,
        **options,
    )


def community_directory(sessions: SessionFactory, js: JetStreamContext, **options: Any) -> Consumer[Any]:
    return Consumer(
        service="community",
        subscription=COMMUNITY_DIRECTORY,
        inbox=COMMUNITY_INBOX,
        unit_of_work=lambda: CommunityUnitOfWork(sessions),
        js=js,
        **options,
    )


async def stream_events(js: JetStreamContext, service: str) -> list[tuple[int, Event]]:
    """(stream sequence, event) of every message in the service's stream, in stream order."""
    info = await js.stream_info(stream_name(service))
    found: list[tuple[int, Event]] = []
    if not info.state.messages:
        return found
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await js.get_msg(stream_name(service), seq)
        assert raw.data is not None
        found.append((seq, Event.from_json(raw.data)))
    return found


async def count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as connection:
        statement = select(func.count()).select_from(table)
        if where:
            statement = statement.where(*where)
        return int((await connection.execute(statement)).scalar_one())


def start(run: Callable[[], Any], name: str) -> asyncio.Task[None]:
    return asyncio.create_task(run(), name=name)


async def stop(task: asyncio.Task[None], within: float = 30.0) -> None:
    """Cancel a worker and wait for it to end; a worker that swallows its cancellation fails the test instead of
    hanging it."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=within)
    assert done, f"{task.get_name()} did not stop within {within} s of its cancellation"
    with contextlib.suppress(asyncio.CancelledError):
        await task
