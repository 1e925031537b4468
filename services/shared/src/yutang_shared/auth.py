"""Identity: roles, scopes, the principal of a request, JWT issue and verification, gateway signatures."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

import jwt

ALGORITHM = "RS256"


class Role(StrEnum):
    """Who a token speaks for."""

    MEMBER = "member"
    STAFF = "staff"
    OPS = "ops"
    PARTNER = "partner"
    SERVICE = "service"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by our key."""


class InvalidSignature(Exception):
    """The request was not signed by the gateway, or the signature is stale or wrong."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of one request."""

    subject: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)
    # Where the caller may act: the store codes and region codes of a staff member, or a partner client's allowed
    # stores (empty for a partner: no store restriction). What they mean is each service's rule.
    stores: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    # A staff member's roles in the organisation (e.g. guide, store_manager); the service defines them.
    staff_roles: frozenset[str] = field(default_factory=frozenset)
    # The OAuth2 client the token was issued to (partners, services), for rate limits and the audit log.
    client_id: str | None = None

    def holds(self, scope: str) -> bool:
        """True when the token itself lists `scope`; what a role grants without listing is the service's say."""
        return scope in self.scopes

    def is_member(self, member_id: uuid.UUID | str) -> bool:
        """True when the caller is that member themself."""
        return self.role is Role.MEMBER and self.subject == str(member_id)


def issue_token(
    private_key: str,
    *,
    subject: str,
    role: Role,
    scopes: list[str] | tuple[str, ...] = (),
    stores: list[str] | tuple[str, ...] = (),
    regions: list[str] | tuple[str, ...] = (),
    staff_roles: list[str] | tuple[str, ...] = (),
    client_id: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    issuer: str = "yutang",
    audience: str = "yutang-api",
) -> str:
    """Sign a token for a principal; development tooling and tests use this, production has an identity service."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "role": role.value,
        "scopes": sorted(scopes),
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    for name, values in (("stores", stores), ("regions", regions), ("staff_roles", staff_roles)):
        if values:
            claims[name] = sorted(values)
    if client_id:
        claims["client_id"] = client_id
    return jwt.encode(claims, private_key, algorithm=ALGORITHM)


def verify_token(token: str, public_key: str, *, issuer: str = "yutang", audience: str = "yutang-api") -> Principal:
    """Check signature, expiry, issuer and audience; return the principal the token names."""
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        role = Role(str(claims.get("role", "")))
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    scopes = claims.get("scopes") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise InvalidToken("scopes must be a list of strings")
    lists = {name: _string_list(claims, name) for name in ("stores", "regions", "staff_roles")}
    client_id = claims.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise InvalidToken("client_id must be a string")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        scopes=frozenset(scopes),
        stores=lists["stores"],
        regions=lists["regions"],
        staff_roles=lists["staff_roles"],
        client_id=client_id,
    )


def _string_list(claims: dict[str, Any], name: str) -> frozenset[str]:
    values = claims.get(name) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidToken(f"{name} must be a list of strings")
    return frozenset(values)


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer …` header."""
    if not authorization:
        raise InvalidToken("missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'")
    return token.strip()


SIGNATURE_HEADER = "x-yutang-signature"


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_body(secret: bytes, body: bytes, *, timestamp: int | None = None) -> str:
    """The `x-yutang-signature` value the gateway sends with a subgraph request body."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_digest(secret, ts, body)}"


def verify_signature(header: str | None, secret: bytes, body: bytes, *, tolerance: int = 300) -> None:
    """Accept only a body signed by the gateway within `tolerance` seconds; raise InvalidSignature otherwise."""
    if not header:
        raise InvalidSignature("missing gateway signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("malformed gateway signature") from exc
    if abs(time.time() - ts) > tolerance:
        raise InvalidSignature("stale gateway signature")
    if not hmac.compare_digest(given, _digest(secret, ts, body)):
        raise InvalidSignature("gateway signature does not match the body")
