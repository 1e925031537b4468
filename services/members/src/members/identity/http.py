"""The identity endpoints of the members app (outside /graphql; the gateway forwards /auth/*, /oauth/* and
/.well-known/jwks.json to them): WeChat, H5 and WeCom logins, phone binding, refresh, logout, the OAuth2 token
endpoint and the JWKS."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from litestar import MediaType, Request, Response, get, post
from litestar.types import ControllerRouterHandler

from members.audit.service import AuditAction
from members.identity.config import IdentitySettings
from members.identity.errors import InvalidRequest, LoginRefused
from members.identity.logins import Logins, audit_refusal
from members.identity.oauth import TokenServer
from members.identity.ports import StaffDirectory
from members.identity.signing import Signer
from members.identity.staff import OrganisationStaff
from members.identity.views import PhoneRequired, TokenPair
from members.identity.wechat import WechatClient, WecomClient
from members.pii import MobileVault
from members.profile.models import SourceChannel
from yutang_shared.auth import Role
from yutang_shared.db import SessionFactory
from yutang_shared.settings import PlatformSettings

log = logging.getLogger(__name__)

_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
_MAX_FIELD = 512
# httpx logs every request URL at INFO, and WeChat's URLs carry the app secret and the user's code.
for _noisy in ("httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)


def _refused(error: LoginRefused) -> Response[dict[str, str]]:
    return Response(
        {"error": error.code, "error_description": error.description}, status_code=error.status, headers=_NO_STORE
    )


def _answer(result: TokenPair | PhoneRequired) -> Response[dict[str, Any]]:
    return Response(result.as_json(), status_code=200, headers=_NO_STORE)


async def _fields(request: Request[Any, Any, Any], *names: str, optional: Sequence[str] = ()) -> dict[str, str]:
    """The named string fields of a JSON object body; InvalidRequest for anything else."""
    try:
        body = await request.json()
    except Exception as exc:  # Litestar raises its own decode errors; any of them means "not JSON"
        raise InvalidRequest("the body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    out: dict[str, str] = {}
    for name in (*names, *optional):
        value = body.get(name)
        if value is None and name in optional:
            continue
        if not isinstance(value, str) or not value or len(value) > _MAX_FIELD:
            raise InvalidRequest(f"{name} must be a non-empty string of at most {_MAX_FIELD} characters")
        out[name] = value
    return out


def _source_channel(raw: str | None) -> SourceChannel:
    if raw is None:
        return SourceChannel.OTHER
    try:
        return SourceChannel(raw.lower())
    except ValueError as exc:
        raise InvalidRequest(f"source_channel must be one of {', '.join(c.value for c in SourceChannel)}") from exc


class IdentityWeb:
    """The identity endpoints and what they hold (one HTTP client for WeChat and WeCom, the signer)."""

    def __init__(
        self,
        settings: IdentitySettings,
        platform: PlatformSettings,
        vault: MobileVault,
        *,
        staff: StaffDirectory | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.vault = vault
        self.staff = staff  # None: the organisation's staff records (OrganisationStaff, built in `routes`)
        self.signer = Signer(settings, platform)
        self.http = httpx.AsyncClient(timeout=settings.wechat_timeout_seconds, transport=transport)
        # One client per app, shared by the login endpoints and GraphQL (phone binding): one cached access token.
        self.mini_program = self._wechat(settings.wechat_app_id, settings.wechat_app_secret.get_secret_value())
        self.official_account = self._wechat(
            settings.wechat_oa_app_id, settings.wechat_oa_app_secret.get_secret_value()
        )

    def _wechat(self, app_id: str, secret: str) -> WechatClient | None:
        if not app_id or not secret:
            return None
        return WechatClient(
            self.http,
            base_url=self.settings.wechat_api_base,
            app_id=app_id,
            app_secret=secret,
            retries=self.settings.wechat_retries,
        )

    def _wecom(self) -> WecomClient | None:
        s = self.settings
        if not s.wecom_corp_id or not s.wecom_corp_secret.get_secret_value():
            return None
        return WecomClient(
            self.http,
            base_url=s.wecom_api_base,
            corp_id=s.wecom_corp_id,
            corp_secret=s.wecom_corp_secret.get_secret_value(),
            retries=s.wechat_retries,
        )

    async def close(self) -> None:
        await self.http.aclose()

    def routes(self, sessions: SessionFactory) -> list[ControllerRouterHandler]:
        """The route handlers, over the app's session factory."""
        s = self.settings
        logins = Logins(
            sessions=sessions,
            vault=self.vault,
            signer=self.signer,
            settings=s,
            staff=self.staff or OrganisationStaff(sessions),
            mini_program=self.mini_program,
            official_account=self.official_account,
            wecom=self._wecom(),
        )
        server = TokenServer(sessions, self.signer, s)
        jwks = self.signer.jwks

        def refusing(
            handler: Callable[[Request[Any, Any, Any]], Awaitable[Response[Any]]],
            action: AuditAction,
            target_type: str,
        ) -> Callable[[Request[Any, Any, Any]], Awaitable[Response[Any]]]:
            async def wrapped(request: Request[Any, Any, Any]) -> Response[Any]:
                try:
                    return await handler(request)
                except LoginRefused as error:
                    log.info("login refused: %s", error.code, extra={"path": request.url.path})
                    await audit_refusal(sessions, action, error, target_type=target_type)
                    return _refused(error)
                except Exception:
                    log.exception("identity endpoint failed", extra={"path": request.url.path})
                    raise

            wrapped.__name__ = handler.__name__
            wrapped.__doc__ = handler.__doc__
            return wrapped

        async def miniprogram(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await _fields(request, "code")
            return _answer(await logins.wechat_login(logins.mini_program, body["code"], h5=False))

        async def h5(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await _fields(request, "code")
            return _answer(await logins.wechat_login(logins.official_account, body["code"], h5=True))

        async def phone(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await _fields(request, "login_ticket", "code", optional=("source_channel",))
            channel = _source_channel(body.get("source_channel"))
            return _answer(
                await logins.bind_phone(login_ticket=body["login_ticket"], code=body["code"], source_channel=channel)
            )

        async def wecom(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await _fields(request, "code")
            return _answer(await logins.wecom_login(body["code"]))

        async def refresh(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await _fields(request, "refresh_token")
            return _answer(await logins.refresh(body["refresh_token"]))

        async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
            body = await _fields(request, "refresh_token")
            await logins.logout(body["refresh_token"])
            return Response({"status": "logged_out"}, headers=_NO_STORE)

        async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
            return await server.token_response(request)

        async def keys() -> Response[dict[str, Any]]:
            return Response(jwks, headers={"cache-control": "public, max-age=300"})

        def route(
            path: str,
            handler: Callable[[Request[Any, Any, Any]], Awaitable[Response[Any]]],
            action: AuditAction,
            target_type: str,
        ) -> Any:
            refused = refusing(handler, action, target_type)
            return post(path, media_type=MediaType.JSON, status_code=200, include_in_schema=False)(refused)

        # A refusal is audited with the action and, when the refused caller is unknown, this target type.
        member, staff, anyone = Role.MEMBER.value, Role.STAFF.value, "token"
        return [
            route("/auth/wechat/miniprogram", miniprogram, AuditAction.LOGIN, member),
            route("/auth/wechat/h5", h5, AuditAction.LOGIN, member),
            route("/auth/wechat/phone", phone, AuditAction.LOGIN, member),
            route("/auth/wecom", wecom, AuditAction.LOGIN, staff),
            route("/auth/refresh", refresh, AuditAction.REFRESH, anyone),
            route("/auth/logout", logout, AuditAction.LOGOUT, anyone),
            post("/oauth/token", status_code=200, include_in_schema=False)(token),
            get("/.well-known/jwks.json", media_type=MediaType.JSON, include_in_schema=False)(keys),
        ]
