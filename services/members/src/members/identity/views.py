"""What identity use cases return: frozen snapshots, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from members.identity.models import ClientRole, OAuthClient


@dataclass(frozen=True, slots=True)
class ClientView:
    """A registered OAuth client, without its secret."""

    client_id: str
    name: str
    role: ClientRole
    scopes: tuple[str, ...]
    allowed_stores: tuple[str, ...]
    rate_limit_per_second: int
    rate_limit_per_day: int
    created_at: datetime
    secret_rotated_at: datetime | None
    revoked_at: datetime | None
    secret_hash: str  # for the token endpoint's check only; never shown

    @classmethod
    def of(cls, row: OAuthClient) -> ClientView:
        return cls(
            client_id=row.client_id,
            name=row.name,
            role=ClientRole(row.role),
            scopes=tuple(row.scopes),
            allowed_stores=tuple(row.allowed_stores),
            rate_limit_per_second=row.rate_limit_per_second,
            rate_limit_per_day=row.rate_limit_per_day,
            created_at=row.created_at,
            secret_rotated_at=row.secret_rotated_at,
            revoked_at=row.revoked_at,
            secret_hash=row.secret_hash,
        )


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A client and its new secret, shown this once."""

    client: ClientView
    secret: str


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token and the refresh token that renews it."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    subject: str

    def as_json(self) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_expires_in": self.refresh_expires_in,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class PhoneRequired:
    """A WeChat user who is not a member yet: bind a phone number with this ticket to register and log in."""

    login_ticket: str
    expires_in: int

    def as_json(self) -> dict[str, Any]:
        return {"status": "phone_required", "login_ticket": self.login_ticket, "expires_in": self.expires_in}
