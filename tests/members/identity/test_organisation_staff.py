"""Staff created through the organisation's GraphQL mutations log in through WeCom (the fake) with the claims of
their staff record: identity's StaffDirectory is the organisation feature (`identity.staff.OrganisationStaff`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from members.app import create_app
from members.config import MembersSettings
from tests.members.identity.conftest import identity_settings
from tests.support import SubgraphClient, Tokens
from yutang_dev.fake_wechat import FakeWechat

ORGANISATION = """
mutation {
  createRegion(input: {code: "R-EAST", name: "华东"}) { __typename }
  createStore(input: {code: "S-HZ1", name: "杭州一店", regionCode: "R-EAST"}) { __typename }
}
"""
CREATE_STAFF = """
mutation($userid: String!, $roles: [StaffRole!]!, $store: String, $region: String) {
  createStaff(input: {name: "李四", wecomUserid: $userid, roles: $roles, storeCode: $store, regionCode: $region}) {
    __typename ... on StaffSuccess { staff { id } }
  }
}
"""
DEACTIVATE = "mutation($id: UUID!) { deactivateStaff(id: $id) { __typename } }"


@pytest.fixture(scope="module")
async def organisation_api(
    engine: AsyncEngine, wechat: tuple[FakeWechat, str], tokens: Tokens
) -> AsyncIterator[tuple[httpx.AsyncClient, SubgraphClient]]:
    """The members app as `make run` builds it (no staff directory passed in), over the fake WeCom."""
    app = create_app(MembersSettings(identity=identity_settings(wechat[1])))
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client, SubgraphClient(client, tokens)
    await app.state.engine.dispose()


async def create_staff(graphql: SubgraphClient, ops: str, userid: str, roles: list[str], **place: str) -> str:
    assert "errors" not in await graphql(ORGANISATION, token=ops)
    result = await graphql(CREATE_STAFF, {"userid": userid, "roles": roles, **place}, token=ops)
    staff = result["data"]["createStaff"]
    assert staff["__typename"] == "StaffSuccess", result
    staff_id: str = staff["staff"]["id"]
    return staff_id


async def test_a_staff_member_created_by_operations_logs_in_with_their_store_region_and_roles(
    organisation_api: tuple[httpx.AsyncClient, SubgraphClient], fake: FakeWechat, tokens: Tokens
) -> None:
    # given
    client, graphql = organisation_api
    guide = await create_staff(graphql, tokens.ops(), "lisi", ["GUIDE", "STORE_MANAGER"], store="S-HZ1")
    supervisor = await create_staff(graphql, tokens.ops(), "zhaoliu", ["SUPERVISOR"], region="R-EAST")

    # when
    as_guide = await client.post("/auth/wecom", json={"code": fake.issue("wecom", userid="lisi")})
    as_supervisor = await client.post("/auth/wecom", json={"code": fake.issue("wecom", userid="zhaoliu")})

    # then (an empty list is left out of the token)
    assert as_guide.status_code == 200, as_guide.text
    claims = jwt.decode(as_guide.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"]) == (guide, "staff")
    assert (sorted(claims["staff_roles"]), claims["stores"], claims.get("regions", [])) == (
        ["guide", "store_manager"],
        ["S-HZ1"],
        [],
    )
    claims = jwt.decode(as_supervisor.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["staff_roles"], claims.get("stores", []), claims["regions"]) == (
        supervisor,
        ["supervisor"],
        [],
        ["R-EAST"],
    )


async def test_a_deactivated_staff_member_can_neither_log_in_nor_refresh(
    organisation_api: tuple[httpx.AsyncClient, SubgraphClient], fake: FakeWechat, tokens: Tokens
) -> None:
    client, graphql = organisation_api
    staff_id = await create_staff(graphql, tokens.ops(), "wangwu", ["GUIDE"], store="S-HZ1")
    pair = (await client.post("/auth/wecom", json={"code": fake.issue("wecom", userid="wangwu")})).json()

    deactivated = await graphql(DEACTIVATE, {"id": staff_id}, token=tokens.ops())
    login = await client.post("/auth/wecom", json={"code": fake.issue("wecom", userid="wangwu")})
    refresh = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert deactivated["data"]["deactivateStaff"]["__typename"] == "StaffSuccess"
    assert (login.status_code, login.json()["error"]) == (401, "staff_inactive")
    assert (refresh.status_code, refresh.json()["error"]) == (401, "staff_inactive")


async def test_a_wecom_user_without_a_staff_record_is_refused(
    organisation_api: tuple[httpx.AsyncClient, SubgraphClient], fake: FakeWechat
) -> None:
    client, _ = organisation_api

    response = await client.post("/auth/wecom", json={"code": fake.issue("wecom", userid="nobody")})

    assert (response.status_code, response.json()["error"]) == (401, "unknown_staff")
