"""Fixtures of the members tests: the vault the app builds from the same settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from members.config import MembersSettings
from members.pii import MobileVault


@pytest.fixture(scope="session")
def vault(data_dir: Path) -> MobileVault:
    """The vault for mobiles, with the key the members app reads in this test session."""
    return MobileVault(MembersSettings().pii_key_bytes())
