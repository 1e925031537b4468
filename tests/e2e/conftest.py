"""End-to-end tests run against the real stack (`stack` fixture in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from tests.stack import Stack
from tests.support import Tokens
from yutang_dev.flows_client import FlowsClient, ensure_flows_client


@pytest.fixture
def ops(tokens: Tokens) -> str:
    return tokens.ops()


@pytest.fixture(scope="session")
def prefect_api(stack: Stack) -> Iterator[None]:
    """A throwaway Prefect API for the whole session (it takes 10–30 s to start), and the flows pointed at the
    test gateway. Every flow test uses it through `prefect`."""
    with pytest.MonkeyPatch.context() as env, prefect_test_harness(server_startup_timeout=120):
        env.setenv("YUTANG_GATEWAY_URL", stack.gateway)
        env.delenv("YUTANG_SERVICE_TOKEN", raising=False)
        yield


@pytest.fixture
def prefect(prefect_api: None, database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> FlowsClient:
    """The flows' service client, registered the way `make run` does it (each test truncates the tables, so each
    test registers it again), as the flows' credential."""
    client = ensure_flows_client(database_url, data_dir)
    for name, value in client.env().items():
        monkeypatch.setenv(name, value)
    return client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
