"""The Yutang stack as process specs (docs/architecture.md: subgraphs, gateway, Prefect server, flows).

`make run` and the end-to-end tests both build their processes here and run them with the Supervisor.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from yutang_dev.flows_client import FLOWS_SCOPES, FlowsClient
from yutang_dev.keys import KeyPaths
from yutang_dev.paths import python, repo_root
from yutang_dev.supervisor import ChildFailedError, ProcessSpec, StackError, Supervisor, reap_leftovers

__all__ = [
    "FLOWS_SCOPES",
    "SUBGRAPHS",
    "ChildFailedError",
    "Ports",
    "ProcessSpec",
    "StackError",
    "Supervisor",
    "base_env",
    "reap_leftovers",
    "stack_specs",
]

SUBGRAPHS = ("members", "loyalty", "community")
_FLOWS_SETTLE_SECONDS = 8.0  # the flows server has no health URL: alive this long means it registered


@dataclass(frozen=True, slots=True)
class Ports:
    """The ports of the stack; the defaults are the documented ones, tests use `Ports.free()`."""

    gateway: int = 4000
    members: int = 4001
    loyalty: int = 4002
    community: int = 4003
    prefect: int = 4200
    wechat: int = 4010  # the fake WeChat/WeCom server, when no WeChat credentials are configured

    @classmethod
    def free(cls) -> Ports:
        """Distinct ports that are free right now."""
        with ExitStack() as stack:
            sockets = [stack.enter_context(socket.socket()) for _ in range(6)]
            for sock in sockets:
                sock.bind(("127.0.0.1", 0))
            numbers = [int(sock.getsockname()[1]) for sock in sockets]
        return cls(*numbers)

    def subgraph(self, name: str) -> int:
        """The port of subgraph `name`."""
        port: int = getattr(self, name)
        return port


def base_env(
    *,
    data_dir: Path,
    keys: KeyPaths,
    database_url: str,
    nats_url: str | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment every child shares: data dir, database, event bus, key files (absolute paths), no
    telemetry. With `nats_url` the services run their event relays and consumers on that bus."""
    env = dict(os.environ if source is None else source)
    if nats_url:
        env["YUTANG_NATS_URL"] = nats_url
    env.update(
        YUTANG_DATA_DIR=str(data_dir.resolve()),
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    env.setdefault("YUTANG_JWT_PUBLIC_KEY_FILE", str(keys.jwt_public))
    env.setdefault("YUTANG_JWT_PRIVATE_KEY_FILE", str(keys.jwt_private))
    env.setdefault("YUTANG_GATEWAY_SECRET_FILE", str(keys.gateway_secret))
    env.setdefault("MEMBERS_PII_KEY_FILE", str(keys.pii_key))
    return env


def stack_specs(
    *, env: dict[str, str], ports: Ports, with_prefect: bool, flows_client: FlowsClient | None = None
) -> list[ProcessSpec]:
    """The processes of docs/architecture.md: three subgraphs, the gateway and, optionally, Prefect and flows
    (which call the gateway as `flows_client`, else with `YUTANG_SERVICE_TOKEN` when the environment has one)."""
    root = repo_root()
    env = {**env, "YUTANG_JWKS_URL": f"http://127.0.0.1:{ports.members}/.well-known/jwks.json"}
    fake = uses_fake_wechat(env)
    if fake:
        env = {**env, **fake_wechat_env(ports.wechat)}
    specs = [_subgraph(name, env=env, port=ports.subgraph(name), root=root) for name in SUBGRAPHS]
    if fake:
        specs.insert(0, _fake_wechat(env=env, port=ports.wechat, root=root))
    specs.append(_gateway(env=env, ports=ports, root=root))
    if with_prefect:
        flows = _flows(env=env, ports=ports, root=root, client=flows_client)
        specs += [_prefect_server(env=env, port=ports.prefect, root=root), flows]
    return specs


def uses_fake_wechat(env: Mapping[str, str]) -> bool:
    """True when no WeChat mini-program credentials are configured: the stack then runs the fake server."""
    return not env.get("MEMBERS_WECHAT_APP_ID")


def fake_wechat_env(port: int) -> dict[str, str]:
    """Members' WeChat and WeCom settings pointing at the fake server (development credentials)."""
    base = f"http://127.0.0.1:{port}"
    return {
        "MEMBERS_WECHAT_API_BASE": base,
        "MEMBERS_WECOM_API_BASE": base,
        "MEMBERS_WECHAT_APP_ID": "wx-dev-miniprogram",
        "MEMBERS_WECHAT_APP_SECRET": "dev-secret",
        "MEMBERS_WECHAT_OA_APP_ID": "wx-dev-official-account",
        "MEMBERS_WECHAT_OA_APP_SECRET": "dev-secret",
        "MEMBERS_WECOM_CORP_ID": "ww-dev-corp",
        "MEMBERS_WECOM_CORP_SECRET": "dev-secret",
    }


def _fake_wechat(*, env: dict[str, str], port: int, root: Path) -> ProcessSpec:
    return ProcessSpec(
        name="wechat",
        argv=[python(), "-m", "yutang_dev.fake_wechat", "--port", str(port)],
        cwd=root,
        env=env,
        health_url=f"http://127.0.0.1:{port}/health",
        port=port,
    )


def _subgraph(name: str, *, env: dict[str, str], port: int, root: Path) -> ProcessSpec:
    argv = [python(), "-m", "uvicorn", f"{name}.app:create_app", "--factory", "--host", "127.0.0.1"]
    return ProcessSpec(
        name=name,
        argv=[*argv, "--port", str(port)],
        cwd=root,
        env=env,
        health_url=f"http://127.0.0.1:{port}/health",
        port=port,
    )


def _gateway(*, env: dict[str, str], ports: Ports, root: Path) -> ProcessSpec:
    urls = {f"YUTANG_{name.upper()}_URL": f"http://127.0.0.1:{ports.subgraph(name)}/graphql" for name in SUBGRAPHS}
    argv = ["node", "node_modules/.bin/hive-gateway", "supergraph", "supergraph.graphql", "-c", "gateway.config.ts"]
    return ProcessSpec(
        name="gateway",
        argv=[*argv, "--hive-router-runtime"],
        cwd=root / "gateway",
        env=_gateway_env(env, urls, ports.gateway),
        health_url=f"http://127.0.0.1:{ports.gateway}/healthcheck",
        port=ports.gateway,
    )


def _gateway_env(env: dict[str, str], urls: dict[str, str], port: int) -> dict[str, str]:
    """The Hive CLI reads LOG_LEVEL before its config and refuses the services' upper-case values."""
    gateway = {key: value for key, value in env.items() if key != "LOG_LEVEL"}
    if level := env.get("LOG_LEVEL"):
        gateway["LOG_LEVEL"] = level.lower()
    return {**gateway, **urls, "YUTANG_GATEWAY_PORT": str(port)}


def _prefect_env(env: dict[str, str]) -> dict[str, str]:
    home = Path(env["YUTANG_DATA_DIR"]) / "prefect"
    return {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # JSON lines like every other process (Prefect's own formatter, overridden through its settings).
        "PREFECT_LOGGING_HANDLERS_CONSOLE_FORMATTER": "json",
    }


def _prefect_server(*, env: dict[str, str], port: int, root: Path) -> ProcessSpec:
    return ProcessSpec(
        name="prefect",
        argv=[python(), "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=_prefect_env(env),
        health_url=f"http://127.0.0.1:{port}/api/health",
        port=port,
    )


def _flows(*, env: dict[str, str], ports: Ports, root: Path, client: FlowsClient | None) -> ProcessSpec:
    return ProcessSpec(
        name="flows",
        argv=[python(), "-m", "yutang_flows.serve"],
        cwd=root,
        env={
            **_prefect_env(env),
            "PREFECT_API_URL": f"http://127.0.0.1:{ports.prefect}/api",
            "YUTANG_GATEWAY_URL": f"http://127.0.0.1:{ports.gateway}/graphql",
            **(client.env() if client is not None else {}),
        },
        after=("prefect",),
        settle_seconds=_FLOWS_SETTLE_SECONDS,
    )
