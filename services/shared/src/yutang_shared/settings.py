"""Settings shared by every service: data directory, token verification keys and the gateway secret."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The development data directory: `$YUTANG_DATA_DIR`, else `.data` under the working directory."""
    return Path(os.environ.get("YUTANG_DATA_DIR") or Path.cwd() / ".data").resolve()


class MissingSecret(RuntimeError):
    """A key or secret the process needs is neither configured inline nor present as a file."""


def read_secret(inline: str | None, path: Path | None, default_name: str, what: str, env: str) -> str:
    """A key or secret given inline, else read from `path` or `$YUTANG_DATA_DIR/keys/<default_name>`."""
    if inline:
        return inline
    file = path or default_data_dir() / "keys" / default_name
    try:
        return file.read_text().strip()
    except FileNotFoundError as exc:
        raise MissingSecret(f"{what} not configured: set {env} or create {file} (make run generates it)") from exc


class PlatformSettings(BaseSettings):
    """Settings every process shares, read from `YUTANG_*` variables."""

    model_config = SettingsConfigDict(env_prefix="YUTANG_", extra="ignore", frozen=True)

    jwt_public_key: str | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "yutang"
    jwt_audience: str = "yutang-api"
    gateway_secret: SecretStr | None = None
    gateway_secret_file: Path | None = None
    signature_tolerance_seconds: int = 300
    # The event bus: `YUTANG_NATS_URL`, else the conventional `NATS_URL`; none: no relay and no consumers run.
    nats_url: str | None = Field(default=None, validation_alias=AliasChoices("YUTANG_NATS_URL", "NATS_URL"))
    nats_replicas: int = Field(default=1, ge=1, le=5)  # JetStream replicas of the streams (3 on a cluster)
    event_max_deliveries: int = Field(default=5, ge=1)  # tries before a consumer dead-letters an event

    @cached_property
    def public_key(self) -> str:
        """The PEM public key that verifies every token."""
        return read_secret(
            self.jwt_public_key,
            self.jwt_public_key_file,
            "jwt-public.pem",
            "JWT public key",
            "YUTANG_JWT_PUBLIC_KEY",
        )

    @cached_property
    def secret(self) -> bytes:
        """The HMAC secret the gateway signs subgraph requests with."""
        inline = self.gateway_secret.get_secret_value() if self.gateway_secret else None
        return read_secret(
            inline, self.gateway_secret_file, "gateway-secret", "gateway secret", "YUTANG_GATEWAY_SECRET"
        ).encode()


class ServiceSettings(BaseSettings):
    """Base of a service's settings; subclasses set `env_prefix` (e.g. `MEMBERS_`).

    `<PREFIX>DATABASE_URL` wins over the shared `DATABASE_URL`, so services can live in separate databases.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = ""
    log_level: str = "INFO"
    pool_size: int = 10  # 0: no pool, a connection per session

    @model_validator(mode="after")
    def _fall_back_to_shared_url(self) -> ServiceSettings:
        if not self.database_url:
            shared = os.environ.get("DATABASE_URL", "")
            if not shared:
                raise ValueError("no database configured: set DATABASE_URL (make run starts an embedded one)")
            object.__setattr__(self, "database_url", shared)
        return self

    @cached_property
    def platform(self) -> PlatformSettings:
        """The `YUTANG_*` settings this service shares with the others."""
        return PlatformSettings()
