"""The flows' service credential: an OAuth2 client (client credentials at the gateway's /oauth/token), with a
fixed `YUTANG_SERVICE_TOKEN` as the fallback when no client is configured.

Client tokens are cached per process until shortly before they expire, so a flow run asks for one token, not one
per request; a 401 from the gateway drops the cached token once (see `gateway.execute`).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

# A cached token is renewed this long before it expires (the gateway allows a minute of clock skew, and a flow's
# request must not start with a token that expires on the way).
RENEW_BEFORE_SECONDS = 120


class CredentialError(RuntimeError):
    """No service credential is configured, or the token endpoint refused or failed to issue a token.

    `status` is the token endpoint's HTTP status (0: no credential configured) and `code` its RFC 6749 `error`."""

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A registered client's id and secret, and the token endpoint they are presented to."""

    client_id: str
    client_secret: str
    token_url: str


@dataclass(frozen=True, slots=True)
class _Cached:
    token: str
    renew_at: float


_cache: dict[ClientCredentials, _Cached] = {}
_lock = threading.Lock()


def token_url(gateway_url: str) -> str:
    """The token endpoint on the gateway's origin: `https://host:port/graphql` → `https://host:port/oauth/token`."""
    parts = urlsplit(gateway_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/token"


def configured_client(gateway_url: str) -> ClientCredentials | None:
    """`YUTANG_CLIENT_ID` and `YUTANG_CLIENT_SECRET`, when both are set."""
    client_id = os.environ.get("YUTANG_CLIENT_ID", "")
    secret = os.environ.get("YUTANG_CLIENT_SECRET", "")
    if not client_id or not secret:
        return None
    return ClientCredentials(client_id, secret, token_url(gateway_url))


def bearer_token(gateway_url: str) -> tuple[str, ClientCredentials | None]:
    """The token to call the gateway with, and the client it was issued to (None: the fixed service token).

    Raises CredentialError when nothing is configured or the token endpoint refuses."""
    client = configured_client(gateway_url)
    if client is not None:
        return client_token(client), client
    token = os.environ.get("YUTANG_SERVICE_TOKEN", "")
    if not token:
        raise CredentialError(
            "no service credential: set YUTANG_CLIENT_ID and YUTANG_CLIENT_SECRET (a registered service client), "
            "or YUTANG_SERVICE_TOKEN"
        )
    return token, None


def client_token(client: ClientCredentials) -> str:
    """A live access token for `client`: the cached one, else a new one from the token endpoint."""
    with _lock:
        cached = _cache.get(client)
        if cached is not None and time.monotonic() < cached.renew_at:
            return cached.token
        token, lifetime = _request_token(client)
        _cache[client] = _Cached(token, time.monotonic() + max(lifetime - RENEW_BEFORE_SECONDS, lifetime / 2))
        return token


def forget_token(client: ClientCredentials, token: str) -> None:
    """Drop `token` from the cache (the gateway refused it: revoked key, clock skew…), unless already replaced."""
    with _lock:
        cached = _cache.get(client)
        if cached is not None and cached.token == token:
            del _cache[client]


def _request_token(client: ClientCredentials) -> tuple[str, float]:
    # Network errors propagate as httpx errors: the flows retry those like any unreachable gateway.
    response = httpx.post(
        client.token_url,
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
        timeout=30,
    )
    body = _json(response)
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        code = str(body.get("error", ""))
        raise CredentialError(
            f"token endpoint answered HTTP {response.status_code} {code or response.text[:200]}",
            status=response.status_code,
            code=code,
        )
    expires_in = body.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 300.0
    return str(body["access_token"]), lifetime


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
