"""The bootstrap command registers a client against the database (a production install's one-time step): the
credentials file it writes gets a token, `--keep-existing` keeps a live client, and the secret is not printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.members.identity.test_clients import token

COMMAND = [sys.executable, "-m", "members.identity.cli", "register-client", "--name", "yutang-flows"]
SCOPES = ["--scope", "groups:read", "--scope", "points:write"]


def _run(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_register_client_writes_credentials_that_get_a_token_and_keeps_a_live_one(
    identity_api: httpx.AsyncClient, engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "keys" / "flows-client.json"

    first = _run(*SCOPES, "--out", str(out), "--keep-existing", database_url=database_url)
    again = _run(*SCOPES, "--out", str(out), "--keep-existing", database_url=database_url)

    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    credentials = json.loads(out.read_text())
    assert out.stat().st_mode & 0o777 == 0o600
    assert credentials["client_secret"] not in first.stdout + first.stderr
    issued = await token(identity_api, credentials["client_id"], credentials["client_secret"])
    assert issued.status_code == 200, issued.text
    async with engine.connect() as connection:
        clients = await connection.scalar(text("SELECT count(*) FROM members.oauth_clients"))
        audited = await connection.scalar(
            text("SELECT count(*) FROM members.audit_log WHERE action = 'registerClient' AND actor = 'cli'")
        )
    assert (clients, audited) == (1, 1)


async def test_an_invalid_registration_is_refused(engine: AsyncEngine, database_url: str) -> None:
    refused = _run("--scope", "no such scope!", database_url=database_url)

    assert refused.returncode == 2
    assert "refused" in refused.stderr
