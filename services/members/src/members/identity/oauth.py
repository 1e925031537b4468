"""OAuth2 client credentials (RFC 6749 §4.4) at POST /oauth/token, on Authlib's server parts.

Authlib is synchronous; this is its framework integration for Litestar (as authlib.integrations.django_oauth2
is for Django): the request's parsed form and headers become an OAuth2Request, Authlib's answer a Litestar
Response. The grant runs in a worker thread (the scrypt check is CPU work); its client lookup hops back to the
event loop for the database. Errors are Authlib's RFC 6749 JSON: invalid_client (401), invalid_grant,
invalid_scope, unsupported_grant_type, invalid_request (400).
"""

from __future__ import annotations

import base64
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from anyio import from_thread, to_thread
from authlib.common.encoding import json_dumps  # type: ignore[import-untyped]
from authlib.oauth2 import AuthorizationServer  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.errors import InsecureTransportError, InvalidScopeError  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant  # type: ignore[import-untyped]
from litestar import Request, Response

from members.audit.service import Actor, AuditAction, record_refusal
from members.identity.clients import live_client
from members.identity.config import IdentitySettings
from members.identity.logins import audit
from members.identity.rules import check_secret
from members.identity.signing import Signer
from members.identity.views import ClientView
from members.uow import MembersUnitOfWork
from yutang_shared.auth import Principal, Role
from yutang_shared.db import SessionFactory
from yutang_shared.logging import request_id_var

log = logging.getLogger(__name__)


class RegisteredClient(ClientMixin):  # type: ignore[misc]  # Authlib is untyped
    """A live client as Authlib sees it: confidential, client credentials only, basic or post authentication."""

    def __init__(self, view: ClientView) -> None:
        self.view = view

    def get_client_id(self) -> str:
        return self.view.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(check_secret(client_secret, self.view.secret_hash))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scopes asked for, which validate_requested_scope checked are the client's; all of them when none."""
        return scope or " ".join(self.view.scopes)


class YutangClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    """Client credentials with both secret methods; a scope the client was not registered with is invalid_scope."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012  # Authlib's API

    def validate_requested_scope(self) -> None:
        requested = set((self.request.payload.scope or "").split())
        client: RegisteredClient = self.request.client
        if not requested <= set(client.view.scopes):
            raise InvalidScopeError(description="the client is not registered for every scope it asked for")


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, form: Mapping[str, list[str]]) -> None:
        self._datalist = defaultdict(list, {key: list(values) for key, values in form.items()})
        self._data = {key: values[-1] for key, values in form.items() if values}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class LitestarOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """A Litestar request's method, URL, headers and already-parsed form, as Authlib reads a request."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], form: Mapping[str, list[str]]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _FormPayload(form)
        self._form = {key: values[-1] for key, values in form.items() if values}

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


class TokenServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's AuthorizationServer for Litestar, issuing our JWTs to registered clients."""

    def __init__(self, sessions: SessionFactory, signer: Signer, settings: IdentitySettings) -> None:
        super().__init__()
        self.sessions = sessions
        self.signer = signer
        self.ttl = timedelta(minutes=settings.client_token_minutes)
        self.register_grant(YutangClientCredentials)
        self.register_token_generator("default", self._generate)

    def query_client(self, client_id: str) -> RegisteredClient | None:
        view = from_thread.run(live_client, MembersUnitOfWork(self.sessions), client_id)
        return RegisteredClient(view) if view is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs: nothing to store; the issue is logged (without the token) and
        audited (in the worker thread: the audit entry is written on the event loop)."""
        view: ClientView = request.client.view
        log.info("client token issued", extra={"client_id": view.client_id})
        from_thread.run(self._audit_issue, view)

    async def _audit_issue(self, view: ClientView) -> None:
        principal = Principal(subject=view.client_id, role=Role(view.role.value), client_id=view.client_id)
        uow = MembersUnitOfWork(self.sessions)
        async with uow:
            await audit(uow, principal, AuditAction.TOKEN_ISSUE)
            await uow.commit()

    def _generate(
        self,
        grant_type: str,
        client: RegisteredClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        view = client.view
        granted = sorted(set(client.get_allowed_scope(scope).split()))
        principal = Principal(
            subject=view.client_id,
            role=Role(view.role.value),
            scopes=frozenset(granted),
            stores=frozenset(view.allowed_stores),
            client_id=view.client_id,
        )
        limits: dict[str, int | str] = {"rl_s": view.rate_limit_per_second, "rl_d": view.rate_limit_per_day}
        return {
            "token_type": "Bearer",
            "access_token": self.signer.sign(principal, self.ttl, limits),
            "expires_in": int(self.ttl.total_seconds()),
            "scope": " ".join(granted),
        }

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # built by `token_response` from the Litestar request before the worker thread starts

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response[bytes]:
        payload = body if isinstance(body, str) else json_dumps(body)
        return Response(payload.encode(), status_code=status, headers=dict(headers), media_type="application/json")

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No framework signals here."""

    async def token_response(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Answer a token request: the form (urlencoded) parsed by Litestar, everything else by Authlib."""
        form = await request.form()
        fields = {key: [str(v) for v in form.getall(key)] for key in form}
        proto = request.headers.get("x-forwarded-proto", request.url.scheme)
        uri = str(request.url.with_replacements(scheme=proto))
        try:
            oauth_request = LitestarOAuth2Request(request.method, uri, request.headers, fields)
        except InsecureTransportError as error:
            return self.handle_response(*error())
        respond: Callable[[], Response[bytes]] = lambda: self.create_token_response(oauth_request)  # noqa: E731
        response: Response[bytes] = await to_thread.run_sync(respond)
        if (response.status_code or 200) >= 400:
            await self._audit_refusal(response, request.headers, fields)
        return response

    async def _audit_refusal(
        self, response: Response[bytes], headers: Mapping[str, str], form: Mapping[str, list[str]]
    ) -> None:
        """Audit a refused token request: outcome the RFC 6749 error code (invalid_client for an unknown, revoked or
        wrongly authenticated client), target the client id the caller named (never the secret)."""
        try:
            code = str(json.loads(response.content)["error"])[:64]
        except (ValueError, KeyError, TypeError):
            code = "invalid_request"
        actor = Actor("anonymous", "anonymous", None, request_id_var.get())
        target = claimed_client_id(headers, form)
        await record_refusal(
            self.sessions, actor, action=AuditAction.TOKEN_ISSUE, target_type="client", target_id=target, code=code
        )


def claimed_client_id(headers: Mapping[str, str], form: Mapping[str, list[str]]) -> str | None:
    """The client id a token request names (HTTP Basic user or the form's client_id), without its secret."""
    authorization = headers.get("authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            user = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return None
        return unquote(user) or None
    values = form.get("client_id") or []
    return values[-1] if values and values[-1] else None
