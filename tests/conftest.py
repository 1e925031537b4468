"""Session-wide test fixtures: keys, a real PostgreSQL (embedded unless TEST_DATABASE_URL), migrations.

Isolation: every test ends by truncating the services' tables. The house style's outer-transaction savepoints
do not fit here: the apps open their own sessions concurrently (sibling resolvers, dataloaders) and the ledger
tests need real concurrent transactions that commit.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.stack import Stack
from tests.support import SubgraphClient, Tokens
from yutang_dev.keys import ensure_keys
from yutang_dev.migrate import SERVICES, upgrade
from yutang_dev.nats import EmbeddedNats
from yutang_dev.pg import EmbeddedPostgres
from yutang_dev.stack import Ports, base_env, stack_specs
from yutang_dev.supervisor import Supervisor


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """A short-lived data dir with fresh keys; short path because PostgreSQL's socket lives under it."""
    path = Path(tempfile.mkdtemp(prefix="yt-", dir="/tmp"))
    ensure_keys(path)
    os.environ["YUTANG_DATA_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def tokens(data_dir: Path) -> Tokens:
    return Tokens(data_dir / "keys")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    """TEST_DATABASE_URL when given, else an embedded PostgreSQL for this test session."""
    server: EmbeddedPostgres | None = None
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        server = EmbeddedPostgres(data_dir / "pg")
        server.start()
        server.ensure_database("yutang_test")
        url = server.url("yutang_test")
    try:
        os.environ["DATABASE_URL"] = url
        for service in SERVICES:
            os.environ.pop(f"{service.upper()}_DATABASE_URL", None)
        upgrade(url)
        yield url
    finally:
        # Also when a migration fails: an embedded server must not outlive the session.
        if server is not None:
            server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def nats_url(data_dir: Path) -> Iterator[str]:
    """An embedded NATS with JetStream for this test session, on a free port (never the machine's own NATS)."""
    server = EmbeddedNats(data_dir / "nats", port=free_port())
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    # Once the e2e stack runs, its relays and consumers work on the same tables: a TRUNCATE can deadlock with
    # them (PostgreSQL then aborts one side) or wait behind a busy consumer. Give up a wait after a short lock
    # timeout and try again, for up to about a minute.
    for attempt in range(_CLEAN_ATTEMPTS):
        try:
            await _truncate(engine)
            return
        except DBAPIError as exc:
            if not any(word in str(exc) for word in ("deadlock", "lock timeout")) or attempt == _CLEAN_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.1 * min(attempt + 1, 10))


_CLEAN_ATTEMPTS = 30


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL lock_timeout = '2s'"))
        tables = (
            await connection.execute(
                text(
                    "SELECT schemaname || '.' || tablename FROM pg_tables "
                    "WHERE schemaname = ANY(:schemas) AND tablename <> 'alembic_version' ORDER BY 1"
                ),
                {"schemas": list(SERVICES)},
            )
        ).scalars()
        names = ", ".join(tables)
        if names:
            await connection.execute(text(f"TRUNCATE {names} CASCADE"))


async def _client(service: str, tokens: Tokens) -> AsyncIterator[SubgraphClient]:
    app = importlib.import_module(f"{service}.app").create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        yield SubgraphClient(client, tokens)
    await app.state.engine.dispose()


@pytest.fixture(scope="session")
async def members_api(engine: AsyncEngine, tokens: Tokens) -> AsyncIterator[SubgraphClient]:
    async for client in _client("members", tokens):
        yield client


@pytest.fixture(scope="session")
async def loyalty_api(engine: AsyncEngine, tokens: Tokens) -> AsyncIterator[SubgraphClient]:
    async for client in _client("loyalty", tokens):
        yield client


@pytest.fixture(scope="session")
async def community_api(engine: AsyncEngine, tokens: Tokens) -> AsyncIterator[SubgraphClient]:
    async for client in _client("community", tokens):
        yield client


@pytest.fixture(scope="session")
def stack(database_url: str, data_dir: Path, engine: AsyncEngine, nats_url: str) -> Iterator[Stack]:
    """Starts the subgraphs and the gateway against the test database and the session's NATS (so their event
    relays and consumers run); their output goes to a log file."""
    ports = Ports.free()
    env = base_env(data_dir=data_dir, keys=ensure_keys(data_dir), database_url=database_url, nats_url=nats_url)
    log_path = data_dir / "e2e-stack.log"
    with (
        log_path.open("w") as out,
        Supervisor(stack_specs(env=env, ports=ports, with_prefect=False), data_dir=data_dir, out=out) as supervisor,
    ):
        supervisor.wait_healthy(timeout=120)
        yield Stack(ports=ports, logs=data_dir / "logs")
