"""Identity: roles, scopes, the principal of a request, JWT issue and verification, gateway signatures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 60

log = logging.getLogger("yutang.auth")


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
    extra: Mapping[str, int | str] | None = None,
) -> str:
    """Sign a token for a principal (the members service's identity endpoints, development tooling, tests).

    The header's `kid` names the signing key (its RFC 7638 thumbprint), so verifiers pick the key from a JWKS;
    `extra` adds claims such as the rate limits `rl_s` / `rl_d` of an OAuth client.
    """
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
    claims.update(extra or {})
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": private_key_id(private_key)})


def verify_token(
    token: str, public_key: str | KeySet, *, issuer: str = "yutang", audience: str = "yutang-api"
) -> Principal:
    """Check signature, expiry, issuer and audience; return the principal the token names.

    `public_key` is one PEM key, or a KeySet that picks the key by the token's `kid` (call `KeySet.refresh_for`
    first so a newly rotated key is known).
    """
    return _verified(token, public_key, issuer=issuer, audience=audience)[0]


def _verified(token: str, public_key: str | KeySet, *, issuer: str, audience: str) -> tuple[Principal, float]:
    """The principal and the expiry (Unix time) of a token whose signature and claims check out."""
    try:
        key = public_key.key_for(token_key_id(token)) if isinstance(public_key, KeySet) else public_key
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            # Clocks differ by a little: the gateway also accepts an `iat` up to a minute ahead.
            leeway=CLOCK_SKEW_SECONDS,
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
    principal = Principal(
        subject=str(claims["sub"]),
        role=role,
        scopes=frozenset(scopes),
        stores=lists["stores"],
        regions=lists["regions"],
        staff_roles=lists["staff_roles"],
        client_id=client_id,
    )
    return principal, float(claims["exp"])


class VerifiedTokens:
    """The tokens one process has verified, kept until they expire (at most `size`, least recently used out).

    A client sends the same token with every request for its lifetime; an RS256 check costs about half a
    millisecond of CPU each time. The same bytes verify the same way, so a hit only re-checks the expiry. Keys
    are fixed per instance: build one per key set.
    """

    def __init__(self, public_key: str | KeySet, *, issuer: str, audience: str, size: int = 4096) -> None:
        self._key = public_key
        self._issuer = issuer
        self._audience = audience
        self._size = size
        self._seen: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def known(self, token: str) -> Principal | None:
        """The principal of a token verified before, or None; raises InvalidToken once a known token expired."""
        hit = self._seen.get(token)
        if hit is None:
            return None
        principal, expires = hit
        if time.time() < expires + CLOCK_SKEW_SECONDS:
            self._seen.move_to_end(token)
            return principal
        del self._seen[token]
        raise InvalidToken("token expired")

    def verify(self, token: str) -> Principal:
        """As `verify_token`; raises InvalidToken (an expired cached token says so)."""
        if (principal := self.known(token)) is not None:
            return principal
        principal, expires = _verified(token, self._key, issuer=self._issuer, audience=self._audience)
        self._seen[token] = (principal, expires)
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return principal


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


# ------------------------------------------------------------------------------------------- key ids and JWKS


def _thumbprint(public: rsa.RSAPublicKey) -> str:
    """The RFC 7638 JWK thumbprint of an RSA public key (base64url SHA-256 of its canonical JWK)."""
    numbers = public.public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    canonical = json.dumps({"e": b64(numbers.e), "kty": "RSA", "n": b64(numbers.n)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@lru_cache(maxsize=16)
def private_key_id(private_key_pem: str) -> str:
    """The `kid` of the key pair whose private half is `private_key_pem`."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the signing key is not an RSA private key")
    return _thumbprint(key.public_key())


@lru_cache(maxsize=16)
def public_key_id(public_key_pem: str) -> str:
    """The `kid` of a PEM RSA public key."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the JWT public key is not an RSA public key")
    return _thumbprint(key)


def public_jwk(public_key_pem: str) -> dict[str, str]:
    """One entry of a JWKS: the public key with its `kid`, for RS256 signatures."""
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the JWT public key is not an RSA public key")
    jwk: dict[str, str] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": public_key_id(public_key_pem), "use": "sig", "alg": ALGORITHM}


def token_key_id(token: str) -> str | None:
    """The `kid` in a token's header, unverified (None when absent); InvalidToken when the header is malformed."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if kid is not None and not isinstance(kid, str):
        raise InvalidToken("kid must be a string")
    return kid


class KeySet:
    """The keys tokens may be signed with: a static PEM key (optional when a JWKS URL is given) and the keys of
    the identity service's JWKS, fetched on the first unknown `kid` and again at most every
    `min_refresh_seconds` (so a rotated key is picked up without a restart, and garbage kids cannot make us
    hammer the JWKS). A token without `kid` is checked against the static key."""

    def __init__(
        self,
        static_key: str | None,
        *,
        jwks_url: str | None = None,
        min_refresh_seconds: float = 30.0,
        timeout: float = 3.0,
    ) -> None:
        if static_key is None and jwks_url is None:
            raise ValueError("a KeySet needs a static key or a JWKS URL")
        self.static_key = static_key
        self.static_kid = public_key_id(static_key) if static_key else None
        self.jwks_url = jwks_url
        self.min_refresh_seconds = min_refresh_seconds
        self.timeout = timeout
        self._remote: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    def key_for(self, kid: str | None) -> Any:
        """The verification key for `kid`; InvalidToken when no known key has that id."""
        if kid is None or kid == self.static_kid:
            if self.static_key is None:
                raise InvalidToken("token has no kid and no static key is configured")
            return self.static_key
        key = self._remote.get(kid)
        if key is None:
            raise InvalidToken("token signed with an unknown key (kid)")
        return key

    def knows(self, kid: str | None) -> bool:
        return kid is None or kid == self.static_kid or kid in self._remote

    async def refresh_for(self, kid: str | None) -> None:
        """Fetch the JWKS when `kid` is unknown and the last fetch is old enough; failures are logged, not raised."""
        if self.jwks_url is None or self.knows(kid):
            return
        async with self._lock:
            if self.knows(kid) or time.monotonic() - self._fetched_at < self.min_refresh_seconds:
                return
            self._fetched_at = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(self.jwks_url)
                    response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json()).keys
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("could not fetch the JWKS from %s: %s", self.jwks_url, exc)
                return
            self._remote = {k.key_id: k.key for k in keys if k.key_id}
