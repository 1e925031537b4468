"""Fixtures for the infra tests: short temporary directories (Unix socket paths are limited to ~107 bytes)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from yutang_dev.pg import EmbeddedPostgres


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A fresh directory directly under /tmp, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="yt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pg(short_dir: Path) -> Iterator[EmbeddedPostgres]:
    """An embedded server handle on a short data dir; stopped after the test whatever happened."""
    server = EmbeddedPostgres(short_dir / "pg")
    yield server
    server.stop()
