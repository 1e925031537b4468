"""Identity settings (`MEMBERS_*`): the signing keys, token lifetimes, client defaults, WeChat and WeCom apps."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from yutang_shared.settings import default_data_dir, read_secret


class IdentitySettings(BaseSettings):
    """Read from `MEMBERS_*` variables; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="MEMBERS_", extra="ignore", frozen=True)

    # The key that signs every token, and the public key it replaced (still published in the JWKS, so tokens it
    # signed keep verifying until they expire).
    jwt_private_key: SecretStr | None = None
    jwt_private_key_file: Path | None = None
    jwt_previous_public_key_file: Path | None = None

    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    client_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    login_ticket_minutes: int = Field(default=10, ge=1, le=60)
    client_rate_limit_per_second: int = Field(default=20, ge=1)
    client_rate_limit_per_day: int = Field(default=200_000, ge=1)

    # WeChat: the mini-program (login, phone) and the official account (H5 web authorisation).
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr = SecretStr("")
    wechat_oa_app_id: str = ""
    wechat_oa_app_secret: SecretStr = SecretStr("")
    # WeCom (企业微信): the corp and the secret of the self-built app staff log in through.
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    wecom_corp_id: str = ""
    wecom_corp_secret: SecretStr = SecretStr("")
    wechat_timeout_seconds: float = Field(default=5.0, gt=0)
    wechat_retries: int = Field(default=2, ge=0, le=5)

    def private_key(self) -> str:
        """The PEM private key tokens are signed with."""
        inline = self.jwt_private_key.get_secret_value() if self.jwt_private_key else None
        return read_secret(
            inline, self.jwt_private_key_file, "jwt-private.pem", "JWT signing key", "MEMBERS_JWT_PRIVATE_KEY"
        )

    def previous_public_key(self) -> str | None:
        """The public key of the previous signing key, when one is configured or present under the data dir."""
        file = self.jwt_previous_public_key_file or default_data_dir() / "keys" / "jwt-previous-public.pem"
        try:
            return file.read_text().strip() or None
        except FileNotFoundError:
            return None
