"""`make run`: keys, database, migrations, the whole stack and a banner with URLs and a token.

Ctrl-C or SIGTERM stops every child and the embedded database; a crashing child stops the rest; leftovers of a
run that was SIGKILLed (postgres pid file, orphaned children) are cleaned up or reported.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType

from yutang_dev.flows_client import FlowsClient, ensure_flows_client
from yutang_dev.keys import KeyPaths, ensure_keys
from yutang_dev.migrate import MigrationError, upgrade
from yutang_dev.nats import EmbeddedNats
from yutang_dev.paths import data_dir, repo_root
from yutang_dev.pg import EmbeddedPostgres
from yutang_dev.procs import PortInUseError, require_free_port
from yutang_dev.sql import DatabaseError
from yutang_dev.stack import Ports, StackError, Supervisor, base_env, reap_leftovers, stack_specs, uses_fake_wechat
from yutang_dev.tokens import mint_token
from yutang_shared.auth import Role

__all__ = ["banner", "run"]

log = logging.getLogger(__name__)

DATABASE = "yutang"
SAMPLE_MUTATION = (
    'mutation { registerMember(input: {mobile: "13800138000", nickname: "小鱼", sourceChannel: STORE_QR}) '
    "{ __typename ... on RegisterMemberSuccess { member { id } } } }"
)
SAMPLE_QUERY = 'query { member(id: "<id>") { nickname loyalty { balance } groups { name } } }'


def run(*, with_prefect: bool = True, timeout: float = 180.0, ports: Ports | None = None) -> int:
    """Start everything, print the banner, and block until Ctrl-C or a crash; the process exit code."""
    ports = ports or Ports()
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    keys = ensure_keys(data)
    pg = None if os.environ.get("DATABASE_URL") else EmbeddedPostgres(data / "pg")
    bus = None if external_nats_url() else EmbeddedNats(data / "nats")
    with _signals_interrupt():
        try:
            _preflight(repo_root())
            reap_leftovers(data)
            _require_free_ports(ports, with_prefect=with_prefect)
            database_url = _database_url(pg)
            upgrade(database_url)
            nats_url = _nats_url(bus)
            env = base_env(data_dir=data, keys=keys, database_url=database_url, nats_url=nats_url)
            client = _flows_client(database_url, data) if with_prefect else None
            specs = stack_specs(env=env, ports=ports, with_prefect=with_prefect, flows_client=client)
            with Supervisor(specs, data_dir=data) as stack:
                stack.wait_healthy(timeout)
                print(
                    banner(ports=ports, keys=keys, with_prefect=with_prefect, pg=pg, data=data, nats_url=nats_url),
                    flush=True,
                )
                return stack.watch()
        except KeyboardInterrupt:
            log.info("stopped")
            return 0
        except (StackError, PortInUseError, MigrationError, DatabaseError) as exc:
            log.error("%s", exc)
            return 1
        finally:
            _stop_bus(bus)
            _stop_database(pg)


def _preflight(root: Path) -> None:
    """Fail early, with the command that fixes it, when the gateway cannot start."""
    gateway = root / "gateway"
    if shutil.which("node") is None:
        raise StackError("node is not on PATH: the gateway needs Node 20")
    if not (gateway / "node_modules" / ".bin" / "hive-gateway").exists():
        raise StackError("gateway/node_modules is missing: run `make install`")
    if not (gateway / "supergraph.graphql").is_file():
        raise StackError("gateway/supergraph.graphql is missing: run `make compose`")


def _database_url(pg: EmbeddedPostgres | None) -> str:
    """DATABASE_URL when set; else the embedded server, started, with database `yutang`."""
    if pg is None:
        log.info("using DATABASE_URL")
        return os.environ["DATABASE_URL"]
    pg.start()
    pg.ensure_database(DATABASE)
    return pg.url(DATABASE)


def _flows_client(database_url: str, data: Path) -> FlowsClient | None:
    """The flows' service client (registered once, kept under keys/), unless YUTANG_SERVICE_TOKEN is set."""
    if os.environ.get("YUTANG_SERVICE_TOKEN"):
        log.info("flows call the gateway with YUTANG_SERVICE_TOKEN")
        return None
    return ensure_flows_client(database_url, data)


def external_nats_url() -> str | None:
    """The bus to use instead of an embedded one: `YUTANG_NATS_URL`, else `NATS_URL`."""
    return os.environ.get("YUTANG_NATS_URL") or os.environ.get("NATS_URL") or None


def _nats_url(bus: EmbeddedNats | None) -> str:
    """The external bus when configured; else the embedded server under the data dir, started."""
    if bus is None:
        log.info("using the NATS server of YUTANG_NATS_URL / NATS_URL")
        return external_nats_url() or ""
    bus.start()
    return bus.url


def _stop_bus(bus: EmbeddedNats | None) -> None:
    if bus is None:
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # let JetStream flush its store
    try:
        bus.stop()
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_database(pg: EmbeddedPostgres | None) -> None:
    if pg is None:
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the database finish stopping
    try:
        pg.stop()
    finally:
        signal.signal(signal.SIGINT, previous)


def _require_free_ports(ports: Ports, *, with_prefect: bool) -> None:
    names = ["gateway", "members", "loyalty", "community", *(["prefect"] if with_prefect else [])]
    names += ["wechat"] if uses_fake_wechat(os.environ) else []
    for name in names:
        require_free_port(getattr(ports, name), name)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the stack the way Ctrl-C does."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def banner(
    *,
    ports: Ports,
    keys: KeyPaths,
    with_prefect: bool,
    pg: EmbeddedPostgres | None,
    data: Path,
    nats_url: str | None = None,
) -> str:
    """What to open and paste once the stack is up: URLs, an ops token valid 12 h, the GraphiQL header, samples."""
    token = mint_token(keys.jwt_private.read_text(), role=Role.OPS, ttl=timedelta(hours=12))
    rule = "─" * 100
    lines = [
        rule,
        "Yutang is running. Ctrl-C stops everything.",
        "",
        f"  gateway + GraphiQL   http://127.0.0.1:{ports.gateway}/graphql",
        *([f"  Prefect UI           http://127.0.0.1:{ports.prefect}"] if with_prefect else []),
        *(
            f"  {name:<20} http://127.0.0.1:{ports.subgraph(name)}/health"
            for name in ("members", "loyalty", "community")
        ),
        f"  logs                 {data / 'logs'}/<name>.log",
        (
            f"  fake WeChat/WeCom    http://127.0.0.1:{ports.wechat}  (no MEMBERS_WECHAT_APP_ID: logins use this fake;"
            " codes from POST /fake/codes)"
            if uses_fake_wechat(os.environ)
            else "  WeChat/WeCom         the real API (MEMBERS_WECHAT_* configured)"
        ),
        *([f"  psql                 {pg.url(DATABASE, driver=None)}"] if pg is not None else []),
        *([f"  NATS (JetStream)     {nats_url}"] if nats_url else []),
        "",
        "ops token (valid 12 h; `make token ROLE=…` makes others):",
        token,
        "",
        "GraphiQL → Headers:",
        f'{{"Authorization": "Bearer {token}"}}',
        "",
        "Try:",
        SAMPLE_MUTATION,
        SAMPLE_QUERY,
        rule,
    ]
    return "\n".join(lines)
