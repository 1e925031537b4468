"""The WeChat and WeCom clients against the fake server: the documented calls, error codes, retries, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from members.identity.wechat import (
    WechatBadCredential,
    WechatBusy,
    WechatClient,
    WechatCodeUsed,
    WechatInvalidCode,
    WechatUnreachable,
    WecomClient,
)
from tests.members.identity.conftest import APP_ID, CORP_ID, CORP_SECRET, SECRET
from yutang_dev.fake_wechat import FakeWechat, free_port


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2) as client:
        yield client


def mini(http: httpx.AsyncClient, base: str, secret: str = SECRET) -> WechatClient:
    return WechatClient(http, base_url=base, app_id=APP_ID, app_secret=secret, backoff=0.01)


async def test_a_login_code_gives_the_openid_and_unionid(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    code = fake.issue("login", openid="o-1", unionid="u-1")

    session = await mini(http, wechat[1]).code_to_session(code)

    assert (session.openid, session.unionid) == ("o-1", "u-1")


async def test_a_used_code_is_40163_and_an_unknown_code_40029(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    client = mini(http, wechat[1])
    code = fake.issue("login")
    await client.code_to_session(code)

    with pytest.raises(WechatCodeUsed) as used:
        await client.code_to_session(code)
    with pytest.raises(WechatInvalidCode) as unknown:
        await client.code_to_session("never-issued")

    assert (used.value.errcode, unknown.value.errcode) == (40163, 40029)


async def test_system_busy_is_retried(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    code = fake.issue("login", openid="o-busy")
    fake.busy = 2  # the client tries three times

    session = await mini(http, wechat[1]).code_to_session(code)

    assert session.openid == "o-busy"


async def test_busy_beyond_the_retries_is_raised(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    code = fake.issue("login")
    fake.busy = 3

    with pytest.raises(WechatBusy):
        await mini(http, wechat[1]).code_to_session(code)


async def test_a_wrong_app_secret_is_a_bad_credential(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    with pytest.raises(WechatBadCredential):
        await mini(http, wechat[1], secret="wrong").code_to_session(fake.issue("login"))


async def test_network_errors_are_retried_then_raised_as_unreachable(http: httpx.AsyncClient) -> None:
    client = mini(http, f"http://127.0.0.1:{free_port()}")

    with pytest.raises(WechatUnreachable):
        await client.code_to_session("any")


async def test_the_phone_number_uses_one_cached_access_token(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    client = mini(http, wechat[1])
    first = await client.phone_number(fake.issue("phone", phone="13900001111"))
    calls = fake.calls

    second = await client.phone_number(fake.issue("phone", phone="13900002222"))

    assert (first.number, second.number) == ("13900001111", "13900002222")
    assert fake.calls == calls + 1  # no second /cgi-bin/token


async def test_an_official_account_code_gives_the_openid(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    session = await mini(http, wechat[1]).oauth_code(fake.issue("oauth", openid="o-h5", unionid="u-h5"))

    assert (session.openid, session.unionid) == ("o-h5", "u-h5")


async def test_a_wecom_code_gives_the_userid_and_a_non_member_none(
    http: httpx.AsyncClient, wechat: tuple[FakeWechat, str], fake: FakeWechat
) -> None:
    client = WecomClient(http, base_url=wechat[1], corp_id=CORP_ID, corp_secret=CORP_SECRET, backoff=0.01)

    code = fake.issue("wecom", userid="zhangsan")

    assert await client.user_id(code) == "zhangsan"
    assert await client.user_id(fake.issue("wecom")) is None
    with pytest.raises(WechatCodeUsed):
        await client.user_id(code)
