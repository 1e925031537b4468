"""Refused logins and token requests are audited: outcome the error code answered, actor and target the refused
member, staff member or client when known; for a caller who is nobody of ours, a keyed pseudonym of their WeChat
openid or WeCom userid when known (else anonymous) and the app they came through as client; and nothing the
caller sent (codes, tickets, refresh tokens, secrets) nor an openid or userid in clear in the record."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from members.config import MembersSettings
from members.identity.ports import StaffClaims
from members.pii import MobileVault
from tests.members.identity.conftest import APP_ID, CORP_ID, FakeStaff
from tests.members.identity.test_clients import REVOKE, register, token
from tests.members.identity.test_member_login import first_login
from tests.support import SubgraphClient, Tokens
from yutang_dev.fake_wechat import FakeWechat

AUDITED = (
    "SELECT actor, role, client_id, action, target_type, target_id, outcome FROM members.audit_log "
    "WHERE outcome <> 'ok'"
)
EVERYTHING = "SELECT * FROM members.audit_log"


async def _rows(engine: AsyncEngine, query: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(query))]


async def test_refused_member_and_staff_logins_are_audited_without_codes(
    identity_api: httpx.AsyncClient, fake: FakeWechat, staff: FakeStaff, engine: AsyncEngine
) -> None:
    sent: list[str] = []

    async def post(path: str, **body: str) -> int:
        sent.extend(body.values())
        return (await identity_api.post(path, json=body)).status_code

    pair = await first_login(identity_api, fake, openid="o-refused", phone="13811117777")
    member = pair["subject"]
    await post("/auth/wechat/miniprogram", code="never-issued-code")  # unknown code
    used = fake.issue("login", openid="o-refused")
    await post("/auth/wechat/miniprogram", code=used)
    await post("/auth/wechat/miniprogram", code=used)  # reused code
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.members SET status = 'frozen' WHERE id = :id"), {"id": member})
    await post("/auth/wechat/miniprogram", code=fake.issue("login", openid="o-refused"))  # frozen
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members.members SET status = 'closed' WHERE id = :id"), {"id": member})
    await post("/auth/wechat/miniprogram", code=fake.issue("login", openid="o-refused"))  # closed
    await post("/auth/refresh", refresh_token=pair["refresh_token"])  # closed member refreshing
    staff.by_userid["zhaoliu"] = StaffClaims("staff-9", frozenset({"guide"}), frozenset({"S001"}), active=False)
    await post("/auth/wecom", code=fake.issue("wecom", userid="stranger-9"))  # unknown staff
    await post("/auth/wecom", code=fake.issue("wecom", userid="zhaoliu"))  # staff who left
    await post("/auth/refresh", refresh_token="made-up-refresh-token")
    await post("/auth/wechat/phone", login_ticket="made-up-ticket", code=fake.issue("phone"))  # unknown ticket
    started = await identity_api.post("/auth/wechat/miniprogram", json={"code": fake.issue("login", openid="o-new")})
    await post("/auth/wechat/phone", login_ticket=started.json()["login_ticket"], code="never-issued-phone-code")

    rows = await _rows(engine, AUDITED)

    vault = MobileVault(MembersSettings().pii_key_bytes())
    anonymous = ("anonymous", "anonymous")
    new_user = (vault.pseudonym("wechat-openid", "o-new"), "anonymous")
    assert sorted(rows, key=str) == sorted(
        [
            (*anonymous, APP_ID, "login", "member", None, "invalid_code"),
            (*anonymous, APP_ID, "login", "member", None, "code_used"),
            (member, "member", None, "login", "member", member, "member_frozen"),
            (member, "member", None, "login", "member", member, "member_closed"),
            (member, "member", None, "refresh", "member", member, "member_closed"),
            (
                vault.pseudonym("wecom-userid", "stranger-9"),
                "anonymous",
                CORP_ID,
                "login",
                "staff",
                None,
                "unknown_staff",
            ),
            ("staff-9", "staff", None, "login", "staff", "staff-9", "staff_inactive"),
            (*anonymous, None, "refresh", "token", None, "invalid_grant"),
            (*anonymous, APP_ID, "login", "member", None, "invalid_grant"),
            (*new_user, APP_ID, "login", "member", None, "invalid_code"),
        ],
        key=str,
    )
    everything = repr(await _rows(engine, EVERYTHING))
    in_clear = (*sent, pair["refresh_token"], pair["access_token"], "stranger-9", "o-new", "o-refused")
    assert not [value for value in in_clear if value in everything]


async def test_a_reused_refresh_token_is_audited_once(
    identity_api: httpx.AsyncClient, fake: FakeWechat, engine: AsyncEngine
) -> None:
    pair = await first_login(identity_api, fake, openid="o-reuse", phone="13811118888")
    await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    reused = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert reused.json()["error"] == "invalid_grant"
    member = pair["subject"]
    assert await _rows(engine, AUDITED) == [
        (member, "member", None, "refresh", "member", member, "refresh_token_reused")
    ]


async def test_refused_token_requests_are_audited_without_secrets(
    identity_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    registered = await register(identity_api, tokens)
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]

    wrong = await token(identity_api, client_id, "wrong-secret-value")
    unknown = await token(identity_api, "cli_nobody", "some-secret-value")
    scope = await token(identity_api, client_id, secret, scope="groups:write")
    await SubgraphClient(identity_api, tokens)(REVOKE, {"id": client_id}, token=tokens.ops())
    revoked = await identity_api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )

    # invalid_client is 401 with HTTP Basic, 400 with the secret in the form (RFC 6749 §5.2)
    assert [r.status_code for r in (wrong, unknown, scope, revoked)] == [401, 401, 400, 400]
    anonymous = ("anonymous", "anonymous", None, "token_issue", "client")
    assert sorted(await _rows(engine, AUDITED), key=str) == sorted(
        [
            (*anonymous, client_id, "invalid_client"),
            (*anonymous, "cli_nobody", "invalid_client"),
            (*anonymous, client_id, "invalid_scope"),
            (*anonymous, client_id, "invalid_client"),
        ],
        key=str,
    )
    everything = repr(await _rows(engine, EVERYTHING))
    assert secret not in everything
    assert "wrong-secret-value" not in everything
    assert "some-secret-value" not in everything
