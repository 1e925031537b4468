"""Staff log in with a WeCom OAuth code; their tokens carry staff id, roles, stores and regions; staff who left
and WeCom users who are not staff are refused."""

from __future__ import annotations

import httpx
import jwt

from members.identity.ports import StaffClaims
from tests.members.identity.conftest import FakeStaff
from yutang_dev.fake_wechat import FakeWechat


async def test_a_staff_member_gets_tokens_with_their_claims(
    identity_api: httpx.AsyncClient, fake: FakeWechat, staff: FakeStaff
) -> None:
    staff.by_userid["lisi"] = StaffClaims("staff-1", frozenset({"guide"}), frozenset({"S001"}), frozenset({"R01"}))

    response = await identity_api.post("/auth/wecom", json={"code": fake.issue("wecom", userid="lisi")})
    refreshed = await identity_api.post("/auth/refresh", json={"refresh_token": response.json()["refresh_token"]})

    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["staff_roles"]) == ("staff-1", "staff", ["guide"])
    assert (claims["stores"], claims["regions"]) == (["S001"], ["R01"])
    assert refreshed.status_code == 200


async def test_staff_who_left_are_refused_at_login_and_refresh(
    identity_api: httpx.AsyncClient, fake: FakeWechat, staff: FakeStaff
) -> None:
    staff.by_userid["wangwu"] = StaffClaims("staff-2", frozenset({"guide"}), frozenset({"S001"}))
    pair = (await identity_api.post("/auth/wecom", json={"code": fake.issue("wecom", userid="wangwu")})).json()
    staff.by_userid["wangwu"] = StaffClaims("staff-2", frozenset({"guide"}), frozenset({"S001"}), active=False)

    login = await identity_api.post("/auth/wecom", json={"code": fake.issue("wecom", userid="wangwu")})
    refresh = await identity_api.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert (login.status_code, login.json()["error"]) == (401, "staff_inactive")
    assert (refresh.status_code, refresh.json()["error"]) == (401, "staff_inactive")


async def test_a_wecom_user_who_is_not_staff_is_refused(identity_api: httpx.AsyncClient, fake: FakeWechat) -> None:
    not_corp = await identity_api.post("/auth/wecom", json={"code": fake.issue("wecom")})
    not_staff = await identity_api.post("/auth/wecom", json={"code": fake.issue("wecom", userid="stranger")})

    assert (not_corp.status_code, not_corp.json()["error"]) == (401, "unknown_staff")
    assert (not_staff.status_code, not_staff.json()["error"]) == (401, "unknown_staff")
