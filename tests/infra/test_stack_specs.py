"""The real stack's process specs follow docs/architecture.md (built, not started)."""

from __future__ import annotations

import sys
from pathlib import Path

from yutang_dev.flows_client import FlowsClient
from yutang_dev.keys import ensure_keys
from yutang_dev.paths import repo_root
from yutang_dev.stack import Ports, base_env, stack_specs


def test_stack_specs_match_the_architecture(short_dir: Path) -> None:
    keys = ensure_keys(short_dir)
    env = base_env(data_dir=short_dir, keys=keys, database_url="postgresql+asyncpg://u@/db?host=/tmp", source={})
    ports = Ports(gateway=5000, members=5001, loyalty=5002, community=5003, prefect=5200)

    client = FlowsClient("cli_flows", "flows-secret")

    specs = {spec.name: spec for spec in stack_specs(env=env, ports=ports, with_prefect=True, flows_client=client)}

    # no MEMBERS_WECHAT_APP_ID: the fake WeChat/WeCom server runs first
    assert list(specs) == ["wechat", "members", "loyalty", "community", "gateway", "prefect", "flows"]
    members = specs["members"]
    assert list(members.argv) == [
        sys.executable, "-m", "uvicorn", "members.app:create_app", "--factory", "--host", "127.0.0.1", "--port", "5001"
    ]  # fmt: skip
    assert members.health_url == "http://127.0.0.1:5001/health"
    assert members.env["DATABASE_URL"] == "postgresql+asyncpg://u@/db?host=/tmp"
    assert members.env["MEMBERS_PII_KEY_FILE"] == str(keys.pii_key)
    gateway = specs["gateway"]
    assert gateway.cwd == repo_root() / "gateway"
    assert gateway.argv[:2] == ["node", "node_modules/.bin/hive-gateway"]
    assert gateway.env["YUTANG_GATEWAY_PORT"] == "5000"
    assert gateway.env["YUTANG_LOYALTY_URL"] == "http://127.0.0.1:5002/graphql"
    assert gateway.health_url == "http://127.0.0.1:5000/healthcheck"
    prefect = specs["prefect"]
    assert prefect.health_url == "http://127.0.0.1:5200/api/health"
    assert prefect.env["PREFECT_HOME"] == str(short_dir / "prefect")
    assert prefect.env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert prefect.env["PREFECT_LOGGING_HANDLERS_CONSOLE_FORMATTER"] == "json"
    flows = specs["flows"]
    assert flows.after == ("prefect",)
    assert flows.health_url is None
    assert flows.env["PREFECT_API_URL"] == "http://127.0.0.1:5200/api"
    assert flows.env["YUTANG_GATEWAY_URL"] == "http://127.0.0.1:5000/graphql"
    assert (flows.env["YUTANG_CLIENT_ID"], flows.env["YUTANG_CLIENT_SECRET"]) == ("cli_flows", "flows-secret")
    assert "YUTANG_SERVICE_TOKEN" not in flows.env
    assert "YUTANG_CLIENT_SECRET" not in gateway.env  # only the flows hold the client's secret


def test_without_prefect_only_subgraphs_and_gateway(short_dir: Path) -> None:
    env = base_env(data_dir=short_dir, keys=ensure_keys(short_dir), database_url="postgresql://x", source={})

    names = [spec.name for spec in stack_specs(env=env, ports=Ports(), with_prefect=False)]

    assert names == ["wechat", "members", "loyalty", "community", "gateway"]


def test_the_gateway_gets_a_lower_case_log_level(short_dir: Path) -> None:
    keys = ensure_keys(short_dir)
    env = base_env(
        data_dir=short_dir, keys=keys, database_url="postgresql+asyncpg://u@/db", source={"LOG_LEVEL": "INFO"}
    )

    specs = {spec.name: spec for spec in stack_specs(env=env, ports=Ports(), with_prefect=False)}

    assert specs["gateway"].env["LOG_LEVEL"] == "info"
    assert specs["members"].env["LOG_LEVEL"] == "INFO"


def test_configured_wechat_credentials_replace_the_fake(short_dir: Path) -> None:
    source = {"MEMBERS_WECHAT_APP_ID": "wx-real"}
    env = base_env(data_dir=short_dir, keys=ensure_keys(short_dir), database_url="postgresql://x", source=source)

    specs = {spec.name: spec for spec in stack_specs(env=env, ports=Ports(), with_prefect=False)}

    assert "wechat" not in specs
    assert "MEMBERS_WECHAT_API_BASE" not in specs["members"].env
    assert specs["members"].env["YUTANG_JWKS_URL"] == "http://127.0.0.1:4001/.well-known/jwks.json"


def test_an_explicit_service_token_reaches_the_flows(short_dir: Path) -> None:
    source = {"YUTANG_SERVICE_TOKEN": "a-token"}
    env = base_env(data_dir=short_dir, keys=ensure_keys(short_dir), database_url="postgresql://x", source=source)

    specs = {spec.name: spec for spec in stack_specs(env=env, ports=Ports(), with_prefect=True)}

    assert specs["flows"].env["YUTANG_SERVICE_TOKEN"] == "a-token"
    assert "YUTANG_CLIENT_ID" not in specs["flows"].env
