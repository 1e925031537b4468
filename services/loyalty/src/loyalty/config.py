"""Loyalty service settings (`LOYALTY_*`), built by the app factory and carried in the request context."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from yutang_shared.settings import ServiceSettings


class LoyaltySettings(ServiceSettings):
    """`LOYALTY_DATABASE_URL` (else `DATABASE_URL`) and the limits of manual adjustments."""

    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore", frozen=True)

    max_adjustment_points: int = 10_000_000
