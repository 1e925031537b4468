"""ASGI middleware: request ids, and on /graphql only calls signed by the gateway carrying a valid token."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from pydantic_settings import BaseSettings, SettingsConfigDict

from yutang_shared.auth import (
    SIGNATURE_HEADER,
    InvalidSignature,
    InvalidToken,
    KeySet,
    VerifiedTokens,
    bearer_token,
    token_key_id,
    verify_signature,
)
from yutang_shared.logging import request_id_var
from yutang_shared.settings import MissingSecret, PlatformSettings

PRINCIPAL_KEY = "yutang_principal"
MAX_BODY_BYTES = 1 << 20
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

log = logging.getLogger("yutang.http")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _reply(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    body = json.dumps({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode())]
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    end: Any = {"type": "http.response.body", "body": body}
    await send(start)
    await send(end)


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The whole request body, or None when it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class JwksSettings(BaseSettings):
    """`YUTANG_JWKS_URL`: the identity service's JWKS (members' /.well-known/jwks.json), and how often at most it
    is fetched again for an unknown `kid` (`YUTANG_JWKS_MIN_REFRESH_SECONDS`)."""

    model_config = SettingsConfigDict(env_prefix="YUTANG_", extra="ignore", frozen=True)

    jwks_url: str | None = None
    jwks_min_refresh_seconds: float = 30.0


def key_set(settings: PlatformSettings, jwks: JwksSettings | None = None) -> KeySet:
    """The keys that verify tokens: the static public key (required unless a JWKS URL is configured: it is the
    fallback while the identity service is not up yet) and the JWKS, refreshed on an unknown `kid`."""
    jwks = jwks or JwksSettings()
    try:
        static: str | None = settings.public_key
    except MissingSecret:
        if not jwks.jwks_url:
            raise
        static = None
    return KeySet(static, jwks_url=jwks.jwks_url, min_refresh_seconds=jwks.jwks_min_refresh_seconds)


class GatewayTrust:
    """Wraps a subgraph app. Every request gets a request id (the gateway's, or a new one) for its logs.

    `/graphql` answers only requests the gateway signed (403 otherwise) that carry a valid token (401
    otherwise): a direct caller cannot reach `_service` or `_entities`, which bypass every gateway rule.
    """

    def __init__(
        self, app: ASGIApp, settings: PlatformSettings, *, graphql_path: str = "/graphql", keys: KeySet | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self.graphql_path = graphql_path
        self.keys = keys or key_set(settings)
        self.tokens = VerifiedTokens(self.keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: dict[str, int] = {}
        try:
            send_with_id = _with_request_id(send, request_id, status)
            if scope["path"] == self.graphql_path:
                await self._guarded(scope, receive, send_with_id, request_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope.get("method"),
                scope["path"],
                status.get("code"),
                extra={"status": status.get("code"), "ms": round((time.perf_counter() - started) * 1000, 1)},
            )
            request_id_var.reset(token)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        body = await read_body(receive)
        if body is None:
            await _reply(send, 413, "REQUEST_TOO_LARGE", "request body too large", request_id)
            return
        try:
            verify_signature(
                _header(scope, SIGNATURE_HEADER.encode()),
                self.settings.secret,
                body,
                tolerance=self.settings.signature_tolerance_seconds,
            )
        except InvalidSignature as exc:
            log.warning("refused unsigned call: %s", exc)
            await _reply(send, 403, "GATEWAY_SIGNATURE_REQUIRED", "call the API through the gateway", request_id)
            return
        try:
            token = bearer_token(_header(scope, b"authorization"))
            principal = self.tokens.known(token)
            if principal is None:
                await self.keys.refresh_for(token_key_id(token))
                principal = self.tokens.verify(token)
        except InvalidToken as exc:
            log.warning("refused token: %s", exc)
            await _reply(send, 401, "UNAUTHENTICATED", "a valid token is required", request_id)
            return
        scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        await self.app(scope, replay(body, receive), send)


def replay(body: bytes, receive: Receive) -> Receive:
    """Hand the buffered body to the app once, then pass through to the server (for disconnects)."""
    sent = False

    async def replayed() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _with_request_id(send: Send, request_id: str, status: dict[str, int]) -> Send:
    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            status["code"] = message["status"]
            message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
        await send(message)

    return wrapped
