"""Fixtures of the event backbone tests: a NATS server and a database of their own.

Their own, because these tests run relays and consumers in-process and kill and restart the server: sharing the
session's database or bus with the e2e stack (whose relays and consumers also run) would let the two compete for
the same outbox rows and durable consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from members.config import MembersSettings
from members.pii import MobileVault
from tests.conftest import free_port
from yutang_dev import sql
from yutang_dev.migrate import SERVICES, upgrade
from yutang_dev.nats import EmbeddedNats
from yutang_shared.db import SessionFactory, session_factory

DATABASE = "yutang_events_test"


@pytest.fixture(scope="session")
def bus(data_dir: Path) -> Iterator[EmbeddedNats]:
    """A NATS server these tests may kill and restart (same port, same store)."""
    server = EmbeddedNats(data_dir / "nats-events", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def events_database_url(database_url: str) -> str:
    """A second database on the test server, migrated to head."""
    sql.drop_database(database_url, DATABASE)
    sql.create_database(database_url, DATABASE)
    url = sql.with_database(database_url, DATABASE)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def events_engine(events_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(events_database_url, pool_size=20, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(events_engine: AsyncEngine) -> SessionFactory:
    return session_factory(events_engine)


@pytest.fixture(scope="session")
def vault(data_dir: Path) -> MobileVault:
    return MobileVault(MembersSettings(database_url="postgresql+asyncpg://unused").pii_key_bytes())


@pytest.fixture
async def js(bus: EmbeddedNats, events_engine: AsyncEngine) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on a fresh bus and clean tables; streams and tables are emptied afterwards."""
    if not bus.is_running():
        bus.start()
    nc = await nats.connect(bus.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    context = nc.jetstream()
    yield context
    with contextlib.suppress(Exception):
        await nc.close()
    if not bus.is_running():
        bus.start()
    cleanup = await nats.connect(bus.url)
    manager = cleanup.jetstream()
    for stream in await manager.streams_info():
        await manager.delete_stream(stream.config.name)
    await cleanup.close()
    async with events_engine.begin() as connection:
        tables = (
            await connection.execute(
                text(
                    "SELECT schemaname || '.' || tablename FROM pg_tables "
                    "WHERE schemaname = ANY(:schemas) AND tablename <> 'alembic_version'"
                ),
                {"schemas": list(SERVICES)},
            )
        ).scalars()
        await connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 30.0, every: float = 0.05) -> None:
    """Wait until `check()` is true; fail after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not true after {within} s: {check.__name__}")
        await asyncio.sleep(every)
