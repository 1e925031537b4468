"""A local stand-in for WeChat's and WeCom's server APIs, for development and tests (`make run` starts it unless
WeChat credentials are configured). It speaks the documented HTTP API the members service calls:

  GET  /sns/jscode2session            mini-program login code → openid, session_key, unionid
  GET  /sns/oauth2/access_token       official-account (H5) web authorisation code → openid, unionid
  GET  /cgi-bin/token, POST /cgi-bin/stable_token     app access token (client_credential)
  POST /wxa/business/getuserphonenumber?access_token  phone code → phone_info
  GET  /cgi-bin/gettoken              WeCom corp access token
  GET  /cgi-bin/auth/getuserinfo      WeCom OAuth code → userid

Codes are issued by this server (`POST /fake/codes`), are good for one exchange (again: errcode 40163), and
unknown ones answer 40029, as WeChat does. `POST /fake/busy {"count": n}` makes the next n API calls answer -1
(system busy). `python -m yutang_dev.fake_wechat --port 4010` runs it.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from litestar import Litestar, Request, get, post

__all__ = ["FakeWechat", "serve_in_thread"]

log = logging.getLogger(__name__)

KINDS = ("login", "oauth", "phone", "wecom")


@dataclass
class FakeWechat:
    """The fake's state; `app()` is its ASGI app. With `app_id`/`app_secret` (or corp id/secret) set, other
    credentials are refused with 40013 / 40125 as WeChat does; empty accepts any."""

    app_secret: str = ""
    corp_secret: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    busy: int = 0
    calls: int = 0

    def issue(self, kind: str, **values: str) -> str:
        """A new single-use code of `kind` for the identity in `values` (openid, unionid, phone, userid)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        code = f"{kind}-{secrets.token_hex(12)}"
        defaults = {"openid": f"o{secrets.token_hex(8)}"} if kind in ("login", "oauth") else {}
        self.codes[code] = {"kind": kind, **defaults, **{k: v for k, v in values.items() if v}}
        return code

    def _redeem(self, code: str | None, kind: str) -> dict[str, str] | dict[str, Any]:
        if self.busy > 0:
            self.busy -= 1
            return {"errcode": -1, "errmsg": "system error"}
        if code in self.used:
            return {"errcode": 40163, "errmsg": "code been used"}
        found = self.codes.get(code or "")
        if found is None or found["kind"] != kind:
            return {"errcode": 40029, "errmsg": "invalid code"}
        self.used.add(code or "")
        del self.codes[code or ""]
        return found

    def _token(self, secret: str | None, expected: str) -> dict[str, Any]:
        if self.busy > 0:
            self.busy -= 1
            return {"errcode": -1, "errmsg": "system error"}
        if not secret or (expected and secret != expected):
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    def app(self) -> Litestar:
        """The ASGI app speaking WeChat's and WeCom's HTTP API."""
        fake = self

        def counted() -> None:
            fake.calls += 1

        @get("/sns/jscode2session", sync_to_thread=False)
        def jscode2session(appid: str = "", secret: str = "", js_code: str = "") -> dict[str, Any]:
            counted()
            if not appid:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if fake.app_secret and secret != fake.app_secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            found = fake._redeem(js_code, "login")
            if "errcode" in found:
                return dict(found)
            answer = {"openid": found["openid"], "session_key": secrets.token_urlsafe(16)}
            return {**answer, **({"unionid": found["unionid"]} if "unionid" in found else {})}

        @get("/sns/oauth2/access_token", sync_to_thread=False)
        def oauth_access_token(appid: str = "", secret: str = "", code: str = "") -> dict[str, Any]:
            counted()
            if not appid:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            found = fake._redeem(code, "oauth")
            if "errcode" in found:
                return dict(found)
            answer = {"access_token": secrets.token_hex(16), "expires_in": 7200, "openid": found["openid"]}
            return {**answer, "scope": "snsapi_base", **({"unionid": found["unionid"]} if "unionid" in found else {})}

        @get("/cgi-bin/token", sync_to_thread=False)
        def token(appid: str = "", secret: str = "") -> dict[str, Any]:
            counted()
            return fake._token(secret, fake.app_secret)

        @post("/cgi-bin/stable_token", sync_to_thread=False, status_code=200)
        def stable_token(data: dict[str, Any]) -> dict[str, Any]:
            counted()
            return fake._token(str(data.get("secret") or ""), fake.app_secret)

        @post("/wxa/business/getuserphonenumber", sync_to_thread=False, status_code=200)
        def phone(data: dict[str, Any], access_token: str = "") -> dict[str, Any]:
            counted()
            if access_token not in fake.tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            found = fake._redeem(str(data.get("code") or ""), "phone")
            if "errcode" in found:
                return dict(found)
            number = found.get("phone", "13800138000")
            info = {"phoneNumber": number, "purePhoneNumber": number, "countryCode": "86"}
            return {"errcode": 0, "errmsg": "ok", "phone_info": {**info, "watermark": {"timestamp": int(time.time())}}}

        @get("/cgi-bin/gettoken", sync_to_thread=False)
        def gettoken(corpid: str = "", corpsecret: str = "") -> dict[str, Any]:
            counted()
            if not corpid:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            return {"errcode": 0, "errmsg": "ok", **fake._token(corpsecret, fake.corp_secret)}

        @get("/cgi-bin/auth/getuserinfo", sync_to_thread=False)
        def getuserinfo(access_token: str = "", code: str = "") -> dict[str, Any]:
            counted()
            if access_token not in fake.tokens:
                return {"errcode": 40014, "errmsg": "invalid access_token"}
            found = fake._redeem(code, "wecom")
            if "errcode" in found:
                return dict(found)
            who = {"userid": found["userid"]} if "userid" in found else {"openid": f"o{secrets.token_hex(8)}"}
            return {"errcode": 0, "errmsg": "ok", **who}

        @post("/fake/codes", sync_to_thread=False, status_code=200)
        def codes(data: dict[str, Any]) -> dict[str, Any]:
            values = {k: str(data[k]) for k in ("openid", "unionid", "phone", "userid") if data.get(k)}
            try:
                return {"code": fake.issue(str(data.get("kind", "login")), **values)}
            except ValueError as exc:
                return {"error": str(exc)}

        @post("/fake/busy", sync_to_thread=False, status_code=200)
        def busy(data: dict[str, Any]) -> dict[str, int]:
            fake.busy = int(data.get("count", 1))
            return {"busy": fake.busy}

        @get("/health", sync_to_thread=False)
        def health(request: Request[Any, Any, Any]) -> dict[str, str]:
            return {"status": "ok", "service": "fake-wechat"}

        handlers = [jscode2session, oauth_access_token, token, stable_token, phone, gettoken, getuserinfo]
        return Litestar(route_handlers=[*handlers, codes, busy, health], openapi_config=None, logging_config=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(fake: FakeWechat | None = None, port: int | None = None) -> Iterator[tuple[FakeWechat, str]]:
    """Run a fake on a free port in a background thread; yields it and its base URL."""
    fake = fake or FakeWechat()
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake WeChat server did not start")
        time.sleep(0.02)
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m yutang_dev.fake_wechat", description=__doc__)
    parser.add_argument("--port", type=int, default=4010)
    args = parser.parse_args()
    uvicorn.run(FakeWechat().app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
