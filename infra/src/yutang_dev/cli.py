"""Command line of `python -m yutang_dev`: run, token, keys rotate|drop-previous, pg start|stop|status|url,
migrate upgrade|check|revision, import members|orders|balances, events dead-letters|replay|rebuild-directory,
reconcile points."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from yutang_dev import migrate
from yutang_dev.events import add_events_commands
from yutang_dev.keys import KeyRotationError, drop_previous_jwt_key, rotate_jwt_key
from yutang_dev.paths import data_dir
from yutang_dev.pg import EmbeddedPostgres
from yutang_dev.reconcile import add_reconcile_commands
from yutang_dev.sql import DatabaseError
from yutang_dev.tokens import TokenRequestError, add_token_arguments, token_from_args

__all__ = ["build_parser", "main"]

log = logging.getLogger("yutang_dev")

Handler = Callable[[argparse.Namespace], int]


class _Formatter(logging.Formatter):
    """`yutang    | message`, aligned with the children's `name | line` output."""

    def format(self, record: logging.LogRecord) -> str:
        level = {logging.WARNING: "warning: ", logging.ERROR: "error: "}.get(record.levelno, "")
        return f"{'yutang':<9} | {level}{super().format(record)}"


def configure_logging(verbose: bool = False) -> None:
    """Human-readable lines on stderr (stdout carries tokens and the children's output)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("pgserver", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; the process exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (migrate.MigrationError, DatabaseError, RuntimeError) as exc:
        log.error("%s", exc)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """`run`, `token`, `pg …` and `migrate …`."""
    parser = argparse.ArgumentParser(prog="python -m yutang_dev", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(required=True, metavar="command")

    run = commands.add_parser("run", help="start the whole stack (what `make run` does)")
    run.add_argument("--no-prefect", action="store_true", help="skip the Prefect server and the flows")
    run.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for every process to be healthy")
    run.set_defaults(handler=_run)

    token = commands.add_parser("token", help="print a development token")
    add_token_arguments(token)
    token.set_defaults(handler=_token)

    _add_keys(commands)
    _add_pg(commands)
    _add_migrate(commands)
    add_events_commands(commands)
    _add_import(commands)
    _add_seed(commands)
    add_reconcile_commands(commands)
    return parser


def _add_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("keys", help="rotate the JWT signing key under $YUTANG_DATA_DIR/keys (README)")
    actions = parser.add_subparsers(required=True, metavar="action")
    rotate = actions.add_parser("rotate", help="new signing key; the current public key stays in the JWKS")
    rotate.add_argument("--force", action="store_true", help="rotate even while a previous key is still published")
    rotate.set_defaults(handler=_keys_rotate)
    drop = actions.add_parser("drop-previous", help="stop publishing the previous key (after the token lifetime)")
    drop.set_defaults(handler=_keys_drop_previous)


def _keys_rotate(args: argparse.Namespace) -> int:
    try:
        rotation = rotate_jwt_key(data_dir(), force=args.force)
    except KeyRotationError as exc:
        log.error("%s", exc)
        return 1
    print(f"signing key {rotation.kid} (previous {rotation.previous_kid} stays in the JWKS)")
    log.info("restart the members service so it signs with the new key (make run: Ctrl-C and start it again)")
    return 0


def _keys_drop_previous(args: argparse.Namespace) -> int:
    kid = drop_previous_jwt_key(data_dir())
    print(f"dropped previous key {kid}; restart the members service" if kid else "no previous key to drop")
    return 0


def _add_pg(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pg = commands.add_parser("pg", help="the embedded PostgreSQL under $YUTANG_DATA_DIR/pg")
    pg.add_argument("action", choices=["start", "stop", "status", "url"])
    pg.add_argument("--database", default="yutang", help="database of `url` (default yutang)")
    pg.add_argument("--plain", action="store_true", help="`url`: plain postgresql:// (psql) instead of +asyncpg")
    pg.set_defaults(handler=_pg)


def _add_migrate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("migrate", help="alembic for every service")
    actions = parser.add_subparsers(required=True, metavar="action")
    up = actions.add_parser("upgrade", help="upgrade to head (DATABASE_URL, else the embedded database)")
    up.add_argument("--service", choices=migrate.SERVICES, help="only this service (default: all, in order)")
    up.set_defaults(handler=_migrate_upgrade)
    check = actions.add_parser("check", help="fail when models and migrations disagree (scratch database)")
    check.set_defaults(handler=_migrate_check)
    rev = actions.add_parser("revision", help="autogenerate a revision from the models")
    rev.add_argument("--service", required=True, choices=migrate.SERVICES)
    rev.add_argument("--message", required=True)
    rev.set_defaults(handler=_migrate_revision)


def _add_seed(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("seed", help="generate a realistic brand (stores, members, orders, behaviour; COPY)")
    parser.add_argument("--members", type=int, default=10_000, help="members to generate (default 10 000)")
    parser.add_argument("--orders", type=int, default=100_000, help="orders to generate (default 100 000)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="last day of history (default today)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: the same seed makes the same brand")
    parser.set_defaults(handler=_seed)


def _seed(args: argparse.Namespace) -> int:
    from yutang_dev.seed import run

    def go(url: str) -> int:
        done = run(url, members=args.members, orders=args.orders, as_of=args.as_of, seed_value=args.seed)
        print(
            f"seeded {done.members:,} members, {done.orders:,} orders, {done.behaviour:,} behaviour events "
            f"in {done.seconds:.1f} s"
        )
        return 0

    url = os.environ.get("MEMBERS_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return go(url)
    pg = EmbeddedPostgres()
    was_running = pg.is_running()
    pg.start()
    try:
        return go(pg.url("yutang"))
    finally:
        if not was_running:
            pg.stop()


def _add_import(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import", help="bulk import members, orders or opening points balances from a CSV file (COPY, upsert)"
    )
    parser.add_argument("kind", choices=["members", "orders", "balances"])
    parser.add_argument("csv", type=Path, help="the CSV file, with a header row")
    parser.add_argument("--rejects", type=Path, help="write rejected rows (line, reason) to this CSV file")
    parser.add_argument("--earn-points", action="store_true", help="orders: imported orders earn points (events)")
    parser.add_argument("--client", default="import", help="orders: whose external ids they are (default import)")
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    from yutang_dev.importer.cli import run_import

    url = os.environ.get("MEMBERS_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        return run_import(args, url)
    pg = EmbeddedPostgres()
    was_running = pg.is_running()
    pg.start()
    try:
        return run_import(args, pg.url("yutang"))
    finally:
        if not was_running:
            pg.stop()


def _run(args: argparse.Namespace) -> int:
    from yutang_dev.run import run

    return run(with_prefect=not args.no_prefect, timeout=args.timeout)


def _token(args: argparse.Namespace) -> int:
    try:
        print(token_from_args(args))
    except TokenRequestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _pg(args: argparse.Namespace) -> int:
    pg = EmbeddedPostgres()
    if args.action == "start":
        pg.start()
        pg.ensure_database("yutang")
        print(pg.url(args.database, driver=None if args.plain else "asyncpg"))
    elif args.action == "stop":
        pg.stop()
    elif args.action == "status":
        running = pg.is_running()
        print(f"running: {pg.url('postgres', driver=None)}" if running else f"not running ({pg.data_dir})")
        return 0 if running else 3
    else:
        print(pg.url(args.database, driver=None if args.plain else "asyncpg"))
    return 0


def _migrate_upgrade(args: argparse.Namespace) -> int:
    services = [args.service] if args.service else list(migrate.SERVICES)
    if os.environ.get("DATABASE_URL"):
        migrate.upgrade(os.environ["DATABASE_URL"], services)
        return 0
    pg = EmbeddedPostgres()
    was_running = pg.is_running()
    pg.start()
    try:
        pg.ensure_database("yutang")
        migrate.upgrade(pg.url("yutang"), services)
    finally:
        if not was_running:
            pg.stop()
    return 0


def _migrate_check(args: argparse.Namespace) -> int:
    migrate.check_drift()
    return 0


def _migrate_revision(args: argparse.Namespace) -> int:
    migrate.make_revision(args.service, args.message)
    return 0
