"""Async clients of WeChat's and WeCom's documented server APIs: code exchanges, phone numbers, access tokens.

Mini-program login: GET /sns/jscode2session. Phone: POST /wxa/business/getuserphonenumber with an access token
from GET /cgi-bin/token (cached until shortly before it expires). H5 (official account OAuth): GET
/sns/oauth2/access_token. WeCom: GET /cgi-bin/gettoken, GET /cgi-bin/auth/getuserinfo. Every answer carries
`errcode`/`errmsg`; non-zero codes become typed WechatError subclasses. Network errors and errcode -1 (system busy)
are retried a bounded number of times; codes are single-use, so a retry after an answered request never happens.
Codes, secrets and tokens are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

log = logging.getLogger(__name__)

_TOKEN_MARGIN_SECONDS = 300  # refresh an access token this long before WeChat says it expires


class WechatError(Exception):
    """WeChat or WeCom answered a non-zero errcode (or could not be reached: errcode None)."""

    errcodes: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WechatInvalidCode(WechatError):
    """40029: the code is invalid or expired."""

    errcodes = frozenset({40029})


class WechatCodeUsed(WechatError):
    """40163: the code has been used."""

    errcodes = frozenset({40163})


class WechatRateLimited(WechatError):
    """45011: API minute-quota reached (WeChat limits each user's code exchanges)."""

    errcodes = frozenset({45011})


class WechatBusy(WechatError):
    """-1: system busy, try again."""

    errcodes = frozenset({-1})


class WechatBadCredential(WechatError):
    """Our app id, secret or access token is refused (40001, 40013, 40125, 40014, 42001, 40164 IP not allowed)."""

    errcodes = frozenset({40001, 40013, 40125, 40014, 42001, 40164})


class WechatUnreachable(WechatError):
    """No answer: timeouts or connection errors on every try."""


_TYPED: dict[int, type[WechatError]] = {
    code: cls
    for cls in (WechatInvalidCode, WechatCodeUsed, WechatRateLimited, WechatBusy, WechatBadCredential)
    for code in cls.errcodes
}


def error_of(errcode: int, errmsg: str) -> WechatError:
    """The typed error for a WeChat or WeCom errcode."""
    return _TYPED.get(errcode, WechatError)(errcode, errmsg)


@dataclass(frozen=True, slots=True)
class WechatSession:
    """Who logged in: the openid of this app, and the unionid when the app is bound to an open platform account."""

    openid: str
    unionid: str | None


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """The phone number the user agreed to share (purePhoneNumber and its country code)."""

    number: str
    country_code: str


class _Api:
    """HTTP to one WeChat-style API: JSON answers with errcode, timeouts, bounded retries on network errors and -1."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, retries: int, backoff: float) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff

    async def call(
        self, method: str, path: str, *, params: dict[str, str], json: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The answer's JSON when errcode is 0 or absent; raises the typed WechatError otherwise."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = await self.http.request(method, f"{self.base_url}{path}", params=params, json=json)
                response.raise_for_status()
                body: dict[str, Any] = response.json()
            except (httpx.TransportError, httpx.HTTPStatusError, ValueError) as exc:
                # The URL holds secrets and codes: log the path and the kind of failure only.
                log.warning("wechat %s failed (%s), try %d", path, type(exc).__name__, attempt + 1)
                if last:
                    raise WechatUnreachable(None, f"{path}: {type(exc).__name__}") from None
            else:
                errcode = int(body.get("errcode") or 0)
                if errcode == 0:
                    return body
                error = error_of(errcode, str(body.get("errmsg", "")))
                log.warning("wechat %s answered errcode %d", path, errcode)
                if not isinstance(error, WechatBusy) or last:
                    raise error
            await asyncio.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")


class _CachedToken:
    """An access token fetched on first use and again shortly before it expires; one fetch at a time."""

    def __init__(self) -> None:
        self.value: str | None = None
        self.expires_at = 0.0
        self.lock = asyncio.Lock()

    async def get(self, fetch: Any) -> str:
        async with self.lock:
            if self.value is None or time.monotonic() >= self.expires_at:
                body = await fetch()
                self.value = str(body["access_token"])
                self.expires_at = time.monotonic() + max(0, int(body.get("expires_in", 7200)) - _TOKEN_MARGIN_SECONDS)
            return self.value

    def forget(self) -> None:
        self.value = None


class WechatClient:
    """A WeChat app (mini-program, or official account for H5) identified by app id and secret."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self.api = _Api(http, base_url, retries=retries, backoff=backoff)
        self.app_id = app_id
        self._secret = app_secret
        self._token = _CachedToken()

    async def code_to_session(self, code: str) -> WechatSession:
        """Mini-program login: exchange a `wx.login()` code (jscode2session); the session key is not kept."""
        params = {"appid": self.app_id, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"}
        body = await self.api.call("GET", "/sns/jscode2session", params=params)
        return WechatSession(openid=str(body["openid"]), unionid=body.get("unionid"))

    async def oauth_code(self, code: str) -> WechatSession:
        """H5 login through the official account's web authorisation (sns/oauth2/access_token)."""
        params = {"appid": self.app_id, "secret": self._secret, "code": code, "grant_type": "authorization_code"}
        body = await self.api.call("GET", "/sns/oauth2/access_token", params=params)
        return WechatSession(openid=str(body["openid"]), unionid=body.get("unionid"))

    async def phone_number(self, code: str) -> PhoneNumber:
        """The phone number behind a `getPhoneNumber` button's code (wxa/business/getuserphonenumber)."""
        try:
            body = await self._phone(code)
        except WechatBadCredential:
            self._token.forget()  # our cached access token was invalidated (e.g. fetched elsewhere): once more
            body = await self._phone(code)
        info = body["phone_info"]
        return PhoneNumber(number=str(info["purePhoneNumber"]), country_code=str(info.get("countryCode", "86")))

    async def _phone(self, code: str) -> dict[str, Any]:
        token = await self._token.get(self._fetch_token)
        path = "/wxa/business/getuserphonenumber"
        return await self.api.call("POST", path, params={"access_token": token}, json={"code": code})

    async def _fetch_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        return await self.api.call("GET", "/cgi-bin/token", params=params)


class WecomClient:
    """A WeCom (企业微信) self-built app of the brand's corp: staff log in with its OAuth code."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        corp_id: str,
        corp_secret: str,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self.api = _Api(http, base_url, retries=retries, backoff=backoff)
        self.corp_id = corp_id
        self._secret = corp_secret
        self._token = _CachedToken()

    async def user_id(self, code: str) -> str | None:
        """The WeCom userid behind an OAuth code; None when the user is not a member of the corp."""
        try:
            body = await self._user_info(code)
        except WechatBadCredential:
            self._token.forget()
            body = await self._user_info(code)
        user = body.get("userid") or body.get("UserId")
        return str(user) if user else None

    async def _user_info(self, code: str) -> dict[str, Any]:
        token = await self._token.get(self._fetch_token)
        return await self.api.call("GET", "/cgi-bin/auth/getuserinfo", params={"access_token": token, "code": code})

    async def _fetch_token(self) -> dict[str, Any]:
        return await self.api.call(
            "GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self._secret}
        )
