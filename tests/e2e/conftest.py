"""The real stack for end-to-end tests: three subgraph processes and Hive Gateway on free ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import Tokens
from yutang_dev.keys import ensure_keys
from yutang_dev.stack import Ports, base_env, stack_specs
from yutang_dev.supervisor import Supervisor


@dataclass(frozen=True)
class Stack:
    """A running stack and how to call it."""

    ports: Ports
    logs: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}/graphql"

    def subgraph(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports.subgraph(name)}/graphql"

    def query(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None, **headers: str
    ) -> httpx.Response:
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return httpx.post(
            self.gateway, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
        )


@pytest.fixture(scope="session")
def stack(database_url: str, data_dir: Path, engine: AsyncEngine) -> Iterator[Stack]:
    """Starts the subgraphs and the gateway against the test database; their output goes to a log file."""
    ports = Ports.free()
    env = base_env(data_dir=data_dir, keys=ensure_keys(data_dir), database_url=database_url)
    log_path = data_dir / "e2e-stack.log"
    with (
        log_path.open("w") as out,
        Supervisor(stack_specs(env=env, ports=ports, with_prefect=False), data_dir=data_dir, out=out) as supervisor,
    ):
        supervisor.wait_healthy(timeout=120)
        yield Stack(ports=ports, logs=data_dir / "logs")


@pytest.fixture
def ops(tokens: Tokens) -> str:
    return tokens.ops()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


os.environ.setdefault("DO_NOT_TRACK", "1")
