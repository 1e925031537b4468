"""Members service settings (`MEMBERS_*`), built by the app factory and carried in the request context."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from members.identity.config import IdentitySettings
from yutang_shared.settings import ServiceSettings, read_secret


class MembersSettings(ServiceSettings):
    """`MEMBERS_DATABASE_URL` (else `DATABASE_URL`), and the key that encrypts members' personal data."""

    model_config = SettingsConfigDict(env_prefix="MEMBERS_", extra="ignore", frozen=True)

    pii_key: SecretStr | None = None
    pii_key_file: Path | None = None
    identity: IdentitySettings = Field(default_factory=IdentitySettings)  # MEMBERS_WECHAT_*, MEMBERS_JWT_*, …

    def pii_key_bytes(self) -> bytes:
        """The Fernet key for mobiles: inline, or from the key file `make run` generates in development."""
        inline = self.pii_key.get_secret_value() if self.pii_key else None
        return read_secret(inline, self.pii_key_file, "pii-key", "PII key", "MEMBERS_PII_KEY").encode()
