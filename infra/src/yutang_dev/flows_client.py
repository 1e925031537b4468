"""The flows' OAuth2 service client for `make run` and the end-to-end tests: registered once in the members
database, its id and secret kept in `$YUTANG_DATA_DIR/keys/flows-client.json` (the secret is shown only once).

Idempotent: a stored client that is still live, named `yutang-flows`, holds the flows' scopes and matches the
stored secret is reused; a live one whose secret was lost gets a new secret; otherwise a new client is registered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from anyio import to_thread

from members.identity.clients import list_clients, register_client, revoke_client, rotate_client_secret
from members.identity.config import IdentitySettings
from members.identity.models import ClientRole
from members.identity.rules import check_secret
from members.identity.views import ClientView, IssuedSecret
from members.uow import MembersUnitOfWork
from yutang_shared.db import SessionFactory, create_engine, session_factory

__all__ = ["FLOWS_CLIENT_NAME", "FLOWS_SCOPES", "FlowsClient", "ensure_flows_client", "flows_client_path"]

log = logging.getLogger(__name__)

FLOWS_CLIENT_NAME = "yutang-flows"
FLOWS_SCOPES = (
    "groups:read",
    "groups:write",
    "points:write",
    "points:read",
    "points:release",
    "tiers:review",
    "insights:write",
)
"""What the flows call: group members and grants, group lifecycle tasks, points expiry and its notice list, the
daily release, the tier review, the lifecycle refresh."""


@dataclass(frozen=True, slots=True)
class FlowsClient:
    """A registered client's credentials, as the flows read them (`YUTANG_CLIENT_ID`, `YUTANG_CLIENT_SECRET`)."""

    client_id: str
    client_secret: str

    def env(self) -> dict[str, str]:
        return {"YUTANG_CLIENT_ID": self.client_id, "YUTANG_CLIENT_SECRET": self.client_secret}


def flows_client_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "flows-client.json"


def ensure_flows_client(database_url: str, data_dir: Path) -> FlowsClient:
    """The flows' client, found or registered in the (migrated) database at `database_url`, and stored."""
    path = flows_client_path(data_dir)
    client = asyncio.run(_ensure(database_url, _read(path)))
    _write(path, client)
    return client


async def _ensure(database_url: str, stored: FlowsClient | None) -> FlowsClient:
    engine = create_engine(database_url, pool_size=0)
    sessions = session_factory(engine)
    try:
        live = [c for c in await list_clients(MembersUnitOfWork(sessions), include_revoked=False) if _usable(c)]
        known = next((c for c in live if stored is not None and c.client_id == stored.client_id), None)
        if stored is not None and known is not None and await to_thread.run_sync(_matches, stored, known):
            client = stored
        elif live:
            client = _of(await rotate_client_secret(MembersUnitOfWork(sessions), client_id=live[0].client_id))
            log.info("flows client %s: new secret (the stored one was missing or stale)", client.client_id)
        else:
            client = _of(await _register(sessions))
            log.info("flows client %s registered with scopes %s", client.client_id, " ".join(FLOWS_SCOPES))
        await _revoke_others(sessions, keep=client.client_id)
        return client
    finally:
        await engine.dispose()


def _usable(client: ClientView) -> bool:
    return (
        client.name == FLOWS_CLIENT_NAME
        and client.role is ClientRole.SERVICE
        and set(client.scopes) == set(FLOWS_SCOPES)
    )


def _matches(stored: FlowsClient, view: ClientView) -> bool:
    return check_secret(stored.client_secret, view.secret_hash)


def _of(issued: IssuedSecret) -> FlowsClient:
    return FlowsClient(issued.client.client_id, issued.secret)


async def _register(sessions: SessionFactory) -> IssuedSecret:
    defaults = IdentitySettings()
    return await register_client(
        MembersUnitOfWork(sessions),
        name=FLOWS_CLIENT_NAME,
        role=ClientRole.SERVICE,
        scopes=FLOWS_SCOPES,
        allowed_stores=(),
        rate_limit_per_second=defaults.client_rate_limit_per_second,
        rate_limit_per_day=defaults.client_rate_limit_per_day,
    )


async def _revoke_others(sessions: SessionFactory, *, keep: str) -> None:
    """Earlier flows clients (other scopes, lost secrets) stop getting tokens: one live flows client at a time."""
    for other in await list_clients(MembersUnitOfWork(sessions), include_revoked=False):
        if other.name == FLOWS_CLIENT_NAME and other.client_id != keep:
            await revoke_client(MembersUnitOfWork(sessions), client_id=other.client_id)


def _read(path: Path) -> FlowsClient | None:
    try:
        raw = json.loads(path.read_text())
        return FlowsClient(str(raw["client_id"]), str(raw["client_secret"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, client: FlowsClient) -> None:
    """Replace the file atomically, readable by the owner only from the start (it holds a secret)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(client), handle)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
