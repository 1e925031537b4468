"""The signing key of every token the members service issues, and the JWKS that publishes its public half."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization

from members.identity.config import IdentitySettings
from yutang_shared.auth import Principal, issue_token, private_key_id, public_jwk
from yutang_shared.settings import PlatformSettings


class Signer:
    """Signs tokens with the current key (its `kid` in the header) and publishes current + previous public keys."""

    def __init__(self, identity: IdentitySettings, platform: PlatformSettings) -> None:
        self.private_key = identity.private_key()
        self.kid = private_key_id(self.private_key)
        self.issuer = platform.jwt_issuer
        self.audience = platform.jwt_audience
        current = serialization.load_pem_private_key(self.private_key.encode(), password=None).public_key()
        public = current.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        previous = identity.previous_public_key()
        keys = [public_jwk(public.decode())] + ([public_jwk(previous)] if previous else [])
        self.jwks: dict[str, Any] = {"keys": list({key["kid"]: key for key in keys}.values())}

    def sign(self, principal: Principal, ttl: timedelta, extra: dict[str, int | str] | None = None) -> str:
        """A token for `principal` valid for `ttl`."""
        return issue_token(
            self.private_key,
            subject=principal.subject,
            role=principal.role,
            scopes=sorted(principal.scopes),
            stores=sorted(principal.stores),
            regions=sorted(principal.regions),
            staff_roles=sorted(principal.staff_roles),
            client_id=principal.client_id,
            ttl=ttl,
            issuer=self.issuer,
            audience=self.audience,
            extra=extra,
        )
