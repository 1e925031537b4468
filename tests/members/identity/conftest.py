"""Fixtures of the identity tests: a fake WeChat/WeCom server on a free port, and a members app that uses it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from members.app import create_app
from members.config import MembersSettings
from members.identity.config import IdentitySettings
from members.identity.ports import StaffClaims
from yutang_dev.fake_wechat import FakeWechat, serve_in_thread

APP_ID = "wx-mini-test"
OA_APP_ID = "wx-oa-test"
CORP_ID = "ww-corp-test"
SECRET = "app-secret-do-not-log"
CORP_SECRET = "corp-secret-do-not-log"


@dataclass
class FakeStaff:
    """The organisation's staff, as identity asks for them (StaffDirectory)."""

    by_userid: dict[str, StaffClaims] = field(default_factory=dict)

    async def by_wecom_userid(self, userid: str) -> StaffClaims | None:
        return self.by_userid.get(userid)

    async def by_id(self, staff_id: str) -> StaffClaims | None:
        return next((c for c in self.by_userid.values() if c.staff_id == staff_id), None)


@pytest.fixture(scope="session")
def wechat() -> Iterator[tuple[FakeWechat, str]]:
    with serve_in_thread(FakeWechat(app_secret=SECRET, corp_secret=CORP_SECRET)) as running:
        yield running


@pytest.fixture
def fake(wechat: tuple[FakeWechat, str]) -> FakeWechat:
    wechat[0].busy = 0
    return wechat[0]


def identity_settings(base_url: str, **overrides: object) -> IdentitySettings:
    values: dict[str, object] = {
        "wechat_api_base": base_url,
        "wecom_api_base": base_url,
        "wechat_app_id": APP_ID,
        "wechat_app_secret": SecretStr(SECRET),
        "wechat_oa_app_id": OA_APP_ID,
        "wechat_oa_app_secret": SecretStr(SECRET),
        "wecom_corp_id": CORP_ID,
        "wecom_corp_secret": SecretStr(CORP_SECRET),
        "wechat_timeout_seconds": 2.0,
        **overrides,
    }
    return IdentitySettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def staff() -> FakeStaff:
    return FakeStaff()


@pytest.fixture(scope="session")
async def identity_api(
    engine: AsyncEngine, wechat: tuple[FakeWechat, str], staff: FakeStaff
) -> AsyncIterator[httpx.AsyncClient]:
    """The members app (identity endpoints and GraphQL) in-process, over the fake WeChat; a loopback base URL,
    as Authlib accepts plain HTTP only there."""
    app = create_app(MembersSettings(identity=identity_settings(wechat[1])), staff=staff)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    await app.state.engine.dispose()
