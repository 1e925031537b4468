"""Members service settings (`MEMBERS_*`), read once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from members.pii import MobileVault
from yutang_shared.settings import ServiceSettings, default_data_dir


class MembersSettings(ServiceSettings):
    """`MEMBERS_DATABASE_URL` (else `DATABASE_URL`), and the key that encrypts members' personal data."""

    model_config = SettingsConfigDict(env_prefix="MEMBERS_", extra="ignore", frozen=True)

    pii_key: SecretStr | None = None
    pii_key_file: Path | None = None

    def pii_key_bytes(self) -> bytes:
        """The Fernet key for mobiles: inline, or from the key file `make run` generates in development."""
        if self.pii_key:
            return self.pii_key.get_secret_value().encode()
        path = self.pii_key_file or default_data_dir() / "keys" / "pii-key"
        try:
            return path.read_bytes().strip()
        except FileNotFoundError as exc:
            raise RuntimeError(f"PII key not configured: set MEMBERS_PII_KEY or create {path}") from exc


@cache
def get_settings() -> MembersSettings:
    """The process's settings."""
    return MembersSettings()


@cache
def get_vault() -> MobileVault:
    """The process's vault for members' mobiles."""
    return MobileVault(get_settings().pii_key_bytes())
