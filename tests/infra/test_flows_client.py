"""`make run` registers the flows' service client once and reuses it (yutang_dev.flows_client)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import yaml
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncEngine

from members.identity.clients import list_clients
from members.identity.rules import check_secret
from members.uow import MembersUnitOfWork
from yutang_dev.flows_client import FLOWS_SCOPES, FlowsClient, ensure_flows_client, flows_client_path
from yutang_shared.db import session_factory


async def ensure(database_url: str, data_dir: Path) -> FlowsClient:
    """`make run` calls it before any event loop runs: here it gets a thread (and a loop) of its own."""
    return await to_thread.run_sync(ensure_flows_client, database_url, data_dir)


async def live_flows_clients(engine: AsyncEngine) -> dict[str, tuple[str, ...]]:
    clients = await list_clients(MembersUnitOfWork(session_factory(engine)), include_revoked=False)
    return {c.client_id: c.scopes for c in clients if c.name == "yutang-flows"}


async def secret_hash(engine: AsyncEngine, client_id: str) -> str:
    clients = await list_clients(MembersUnitOfWork(session_factory(engine)), include_revoked=False)
    return next(c.secret_hash for c in clients if c.client_id == client_id)


async def test_the_flows_client_is_registered_once_and_stored(
    database_url: str, engine: AsyncEngine, short_dir: Path
) -> None:
    first = await ensure(database_url, short_dir)
    again = await ensure(database_url, short_dir)

    assert again == first
    assert await live_flows_clients(engine) == {first.client_id: tuple(sorted(FLOWS_SCOPES))}
    stored = flows_client_path(short_dir)
    assert json.loads(stored.read_text()) == {"client_id": first.client_id, "client_secret": first.client_secret}
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


async def test_a_lost_secret_gets_the_same_client_a_new_secret(
    database_url: str, engine: AsyncEngine, short_dir: Path
) -> None:
    first = await ensure(database_url, short_dir)
    flows_client_path(short_dir).unlink()

    second = await ensure(database_url, short_dir)

    assert second.client_id == first.client_id
    hashed = await secret_hash(engine, second.client_id)
    assert check_secret(second.client_secret, hashed)
    assert not check_secret(first.client_secret, hashed)
    assert list(await live_flows_clients(engine)) == [first.client_id]


async def test_a_client_the_database_lost_is_registered_again(
    database_url: str, engine: AsyncEngine, short_dir: Path
) -> None:
    # given: a stored client from another database (this one never saw it)
    flows_client_path(short_dir).parent.mkdir(parents=True)
    flows_client_path(short_dir).write_text('{"client_id": "cli_gone", "client_secret": "x"}')

    client = await ensure(database_url, short_dir)

    assert client.client_id != "cli_gone"
    assert list(await live_flows_clients(engine)) == [client.client_id]


def test_production_registers_the_flows_client_with_the_scopes_make_run_gives_it() -> None:
    compose = yaml.safe_load((Path(__file__).parents[2] / "infra/production/compose.yaml").read_text())
    command: list[str] = compose["services"]["flows-client"]["command"]

    scopes = [command[i + 1] for i, word in enumerate(command) if word == "--scope"]

    assert sorted(scopes) == sorted(FLOWS_SCOPES)
