"""Register an OAuth client from the command line, against the members database (`DATABASE_URL`): the bootstrap
step of a production install, where nobody holds an operations token yet.

    python -m members.identity.cli register-client --name yutang-flows --role service \
        --scope groups:read --scope points:write --out /var/lib/yutang/flows-client.json --keep-existing

The secret is shown once: written to `--out` (mode 0600, as `{"client_id", "client_secret"}`) or printed on
stdout. With `--keep-existing`, an `--out` file naming a live client is kept and nothing is registered, so the
command can run at every start. The registration is audited (actor `cli`, role `ops`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from members.audit.service import Actor, AuditAs
from members.config import MembersSettings
from members.identity.clients import list_clients, register_client
from members.identity.errors import InvalidClient
from members.identity.models import ClientRole
from members.uow import MembersUnitOfWork
from yutang_shared.db import create_engine, session_factory


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m members.identity.cli", description=__doc__)
    commands = parser.add_subparsers(required=True, dest="command", metavar="command")
    register = commands.add_parser("register-client", help="register a partner or service client")
    register.add_argument("--name", required=True, help="who the client is, for people")
    register.add_argument("--role", choices=[r.value for r in ClientRole], default=ClientRole.SERVICE.value)
    register.add_argument("--scope", action="append", default=[], help="a scope its tokens may carry (repeat)")
    register.add_argument("--store", action="append", default=[], help="an allowed store code (repeat; none: all)")
    register.add_argument("--per-second", type=int, default=None, help="rate limit per second (default: settings)")
    register.add_argument("--per-day", type=int, default=None, help="rate limit per day (default: settings)")
    register.add_argument("--out", type=Path, default=None, help="write the credentials here instead of stdout")
    register.add_argument("--keep-existing", action="store_true", help="keep an --out file naming a live client")
    return parser


async def _live(settings: MembersSettings, client_id: str) -> bool:
    engine = create_engine(settings.database_url, pool_size=0)
    try:
        clients = await list_clients(MembersUnitOfWork(session_factory(engine)), include_revoked=False)
    finally:
        await engine.dispose()
    return any(c.client_id == client_id for c in clients)


async def _register(settings: MembersSettings, args: argparse.Namespace) -> dict[str, str]:
    engine = create_engine(settings.database_url, pool_size=0)
    identity = settings.identity
    try:
        issued = await register_client(
            MembersUnitOfWork(session_factory(engine)),
            name=args.name,
            role=ClientRole(args.role),
            scopes=args.scope,
            allowed_stores=args.store,
            rate_limit_per_second=args.per_second or identity.client_rate_limit_per_second,
            rate_limit_per_day=args.per_day or identity.client_rate_limit_per_day,
            audit=AuditAs(Actor("cli", "ops"), "registerClient"),
        )
    finally:
        await engine.dispose()
    return {"client_id": issued.client.client_id, "client_secret": issued.secret}


def _stored_client_id(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text())["client_id"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, credentials: dict[str, str]) -> None:
    """Replace the file atomically, readable by its owner only from the start (it holds a secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(credentials, handle)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = MembersSettings()
    if args.keep_existing and args.out is not None:
        stored = _stored_client_id(args.out)
        if stored is not None and asyncio.run(_live(settings, stored)):
            print(f"client {stored} in {args.out} is live; nothing registered", file=sys.stderr)
            return 0
    try:
        credentials = asyncio.run(_register(settings, args))
    except InvalidClient as error:
        print(f"refused: {error.message}", file=sys.stderr)
        return 2
    if args.out is None:
        print(json.dumps(credentials))
    else:
        _write(args.out, credentials)
        print(f"client {credentials['client_id']} registered; credentials in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
