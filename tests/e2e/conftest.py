"""End-to-end tests run against the real stack (`stack` fixture in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import Tokens


@pytest.fixture
def ops(tokens: Tokens) -> str:
    return tokens.ops()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
