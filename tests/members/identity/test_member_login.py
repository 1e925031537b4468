"""Member logins through the fake WeChat: first login binds a phone, later logins answer tokens at once; refresh
rotation, reuse detection, logout; refusals change nothing; no secret, code or token reaches the logs."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.members.identity.conftest import APP_ID, OA_APP_ID
from tests.support import SubgraphClient, Tokens
from yutang_dev.fake_wechat import FakeWechat

ME = "query Me($id: UUID!) { member(id: $id) { id mobile status } }"


async def first_login(api: httpx.AsyncClient, fake: FakeWechat, *, openid: str, phone: str) -> dict[str, Any]:
    """Log in a new WeChat user and bind their phone: the token pair."""
    started = await api.post("/auth/wechat/miniprogram", json={"code": fake.issue("login", openid=openid)})
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "phone_required"
    ticket = started.json()["login_ticket"]
    bound = await api.post(
        "/auth/wechat/phone",
        json={"login_ticket": ticket, "code": fake.issue("phone", phone=phone), "source_channel": "store_qr"},
    )
    assert bound.status_code == 200, bound.text
    pair: dict[str, Any] = bound.json()
    return pair


async def test_a_new_user_binds_a_phone_then_reads_their_own_member(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens
) -> None:
    pair = await first_login(identity_api, fake, openid="o-new", phone="13811112222")

    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    me = await SubgraphClient(identity_api, tokens)(ME, {"id": claims["sub"]}, token=pair["access_token"])
    assert (claims["role"], pair["expires_in"], pair["refresh_expires_in"]) == ("member", 900, 30 * 86400)
    assert jwt.get_unverified_header(pair["access_token"])["kid"]
    assert me["data"]["member"] == {"id": claims["sub"], "mobile": "13811112222", "status": "ACTIVE"}


async def test_a_known_user_gets_tokens_at_once(identity_api: httpx.AsyncClient, fake: FakeWechat) -> None:
    first = await first_login(identity_api, fake, openid="o-known", phone="13811113333")

    again = await identity_api.post("/auth/wechat/miniprogram", json={"code": fake.issue("login", openid="o-known")})

    assert again.status_code == 200
    assert again.json()["subject"] == first["subject"]


async def test_the_same_unionid_in_h5_logs_in_as_the_same_member(
    identity_api: httpx.AsyncClient, fake: FakeWechat
) -> None:
    started = await identity_api.post(
        "/auth/wechat/miniprogram", json={"code": fake.issue("login", openid="o-mp", unionid="u-shared")}
    )
    bound = await identity_api.post(
        "/auth/wechat/phone",
        json={"login_ticket": started.json()["login_ticket"], "code": fake.issue("phone", phone="13811114444")},
    )

    h5 = await identity_api.post(
        "/auth/wechat/h5", json={"code": fake.issue("oauth", openid="o-h5", unionid="u-shared")}
    )

    assert h5.status_code == 200, h5.text
    assert h5.json()["subject"] == bound.json()["subject"]


WECHAT_IDS = """
query($unionid: String!, $app: String!, $openid: String!) {
  byUnionid: memberByWechat(unionid: $unionid) { id wechatUnionid wechatOpenids { appId openid } }
  byOpenid: memberByWechat(appId: $app, openid: $openid) { id }
}
"""


async def test_a_wechat_login_keeps_the_wechat_ids_on_the_profile_for_memberbywechat(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens
) -> None:
    # given: a member registered through the mini-program, then logged in through H5 with the same unionid
    started = await identity_api.post(
        "/auth/wechat/miniprogram", json={"code": fake.issue("login", openid="o-mp-ids", unionid="u-ids")}
    )
    bound = await identity_api.post(
        "/auth/wechat/phone",
        json={"login_ticket": started.json()["login_ticket"], "code": fake.issue("phone", phone="13811114455")},
    )
    await identity_api.post("/auth/wechat/h5", json={"code": fake.issue("oauth", openid="o-h5-ids", unionid="u-ids")})

    # when: staff look the member up by their WeChat ids
    variables = {"unionid": "u-ids", "app": OA_APP_ID, "openid": "o-h5-ids"}
    found = await SubgraphClient(identity_api, tokens)(WECHAT_IDS, variables, token=tokens.ops())

    # then: both lookups find them, and the profile lists the unionid and an openid per app
    member = bound.json()["subject"]
    assert found["data"]["byUnionid"] == {
        "id": member,
        "wechatUnionid": "u-ids",
        "wechatOpenids": sorted(
            [{"appId": APP_ID, "openid": "o-mp-ids"}, {"appId": OA_APP_ID, "openid": "o-h5-ids"}],
            key=lambda o: o["appId"],
        ),
    }
    assert found["data"]["byOpenid"] == {"id": member}


@pytest.mark.parametrize(
    ("code", "error"),
    [pytest.param("never-issued", "invalid_code", id="unknown"), pytest.param(None, "code_used", id="reused")],
)
async def test_bad_codes_are_refused(
    identity_api: httpx.AsyncClient, fake: FakeWechat, engine: AsyncEngine, code: str | None, error: str
) -> None:
    if code is None:
        code = fake.issue("login")
        await identity_api.post("/auth/wechat/miniprogram", json={"code": code})
    before = await _count(engine, "wechat_logins")

    response = await identity_api.post("/auth/wechat/miniprogram", json={"code": code})

    assert (response.status_code, response.json()["error"]) == (400, error)
    assert await _count(engine, "wechat_logins") == before


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 7}, []])
async def test_malformed_bodies_are_invalid_requests(identity_api: httpx.AsyncClient, body: Any) -> None:
    response = await identity_api.post("/auth/wechat/miniprogram", json=body)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_an_unknown_ticket_is_an_invalid_grant(identity_api: httpx.AsyncClient, fake: FakeWechat) -> None:
    response = await identity_api.post(
        "/auth/wechat/phone", json={"login_ticket": "made-up", "code": fake.issue("phone")}
    )

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(
    identity_api: httpx.AsyncClient, fake: FakeWechat
) -> None:
    pair = await first_login(identity_api, fake, openid="o-rot", phone="13811115555")

    rotated = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    reused = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    after_reuse = await identity_api.post("/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})

    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != pair["refresh_token"]
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    assert (after_reuse.status_code, after_reuse.json()["error"]) == (400, "invalid_grant")


async def test_logout_revokes_the_refresh_token(identity_api: httpx.AsyncClient, fake: FakeWechat) -> None:
    pair = await first_login(identity_api, fake, openid="o-out", phone="13811116666")

    out = await identity_api.post("/auth/logout", json={"refresh_token": pair["refresh_token"]})
    refresh = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert out.status_code == 200
    assert refresh.json()["error"] == "invalid_grant"


async def test_an_expired_refresh_token_is_refused(
    identity_api: httpx.AsyncClient, fake: FakeWechat, engine: AsyncEngine
) -> None:
    pair = await first_login(identity_api, fake, openid="o-exp", phone="13811117777")
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.refresh_tokens SET expires_at = now() - interval '1 second'"))

    response = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(("status", "error"), [("frozen", "member_frozen"), ("closed", "member_closed")])
async def test_frozen_and_closed_members_cannot_log_in_or_refresh(
    identity_api: httpx.AsyncClient, fake: FakeWechat, engine: AsyncEngine, status: str, error: str
) -> None:
    pair = await first_login(identity_api, fake, openid=f"o-{status}", phone="13811118888")
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.members SET status = :s"), {"s": status})

    login = await identity_api.post(
        "/auth/wechat/miniprogram", json={"code": fake.issue("login", openid=f"o-{status}")}
    )
    refresh = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    retry = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert (login.status_code, login.json()["error"]) == (401, error)
    assert (refresh.status_code, refresh.json()["error"]) == (401, error)
    assert retry.json()["error"] == error  # the refused refresh did not use the token up


async def test_codes_secrets_and_tokens_never_reach_the_logs(
    identity_api: httpx.AsyncClient, fake: FakeWechat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login_code, phone_code = fake.issue("login", openid="o-log"), fake.issue("phone", phone="13811119999")
    started = await identity_api.post("/auth/wechat/miniprogram", json={"code": login_code})
    ticket = started.json()["login_ticket"]
    pair = (await identity_api.post("/auth/wechat/phone", json={"login_ticket": ticket, "code": phone_code})).json()
    await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    await identity_api.post("/auth/wechat/miniprogram", json={"code": login_code})  # refused: used

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "member logged in" in logged or "member bound a phone" in logged
    for secret in (
        login_code,
        phone_code,
        ticket,
        pair["refresh_token"],
        pair["access_token"],
        "app-secret-do-not-log",
    ):
        assert secret not in logged


async def _count(engine: AsyncEngine, table: str) -> int:
    assert table.isidentifier()
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM members.{table}"))).scalar_one())  # noqa: S608


CLOSE = "mutation($id: UUID!) { closeMember(memberId: $id) { __typename } }"


async def test_closing_a_member_revokes_their_refresh_tokens_and_forgets_their_wechat_logins(
    identity_api: httpx.AsyncClient, fake: FakeWechat, tokens: Tokens, engine: AsyncEngine
) -> None:
    # given: a member logged in through WeChat
    pair = await first_login(identity_api, fake, openid="o-closing", phone="13811117777")

    # when: they close their account
    closed = await SubgraphClient(identity_api, tokens)(CLOSE, {"id": pair["subject"]}, token=pair["access_token"])

    # then: the refresh token is dead, the WeChat ids are gone, and the same WeChat user starts from scratch
    refresh = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    again = await identity_api.post("/auth/wechat/miniprogram", json={"code": fake.issue("login", openid="o-closing")})
    async with engine.connect() as connection:
        logins = await connection.scalar(
            text("SELECT count(*) FROM members.wechat_logins WHERE member_id = :m"), {"m": pair["subject"]}
        )
    assert closed["data"]["closeMember"]["__typename"] == "MemberSuccess"
    assert (refresh.status_code, refresh.json()["error"]) == (400, "invalid_grant")
    assert logins == 0
    assert again.json()["status"] == "phone_required"


AUDITED = "SELECT actor, role, action, target_type, target_id, outcome FROM members.audit_log ORDER BY at, action"


async def test_logins_refreshes_and_logouts_are_audited(
    identity_api: httpx.AsyncClient, fake: FakeWechat, engine: AsyncEngine
) -> None:
    pair = await first_login(identity_api, fake, openid="o-audit", phone="13811116666")
    member = pair["subject"]
    again = await identity_api.post("/auth/wechat/miniprogram", json={"code": fake.issue("login", openid="o-audit")})
    renewed = (await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})).json()
    await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})  # reused: refused
    await identity_api.post("/auth/logout", json={"refresh_token": again.json()["refresh_token"]})

    async with engine.connect() as connection:
        rows = [tuple(row) for row in await connection.execute(text(AUDITED))]

    assert renewed["subject"] == member
    entry = (member, "member")
    assert [row for row in rows if row[2] in ("login", "refresh", "logout")] == [
        (*entry, "login", "member", member, "ok"),
        (*entry, "login", "member", member, "ok"),
        (*entry, "refresh", "member", member, "ok"),
        (*entry, "refresh", "member", member, "refresh_token_reused"),
        (*entry, "logout", "member", member, "ok"),
    ]
