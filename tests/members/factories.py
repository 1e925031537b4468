"""Small factories of the members tests: registering a member through the subgraph."""

from __future__ import annotations

from typing import Any

from tests.support import SubgraphClient

REGISTER = """
mutation Register($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename
    ... on RegisterMemberSuccess { created member { id nickname mobile sourceChannel status registeredAt } }
    ... on Error { message }
    ... on InvalidMobileError { code }
    ... on InvalidNicknameError { code }
  }
}
"""


async def register(api: SubgraphClient, token: str, mobile: str, nickname: str | None = "小鱼") -> dict[str, Any]:
    """The registerMember payload of registering `mobile` from a store QR code."""
    variables = {"input": {"mobile": mobile, "nickname": nickname, "sourceChannel": "STORE_QR"}}
    result = await api(REGISTER, variables, token=token)
    payload: dict[str, Any] = result["data"]["registerMember"]
    return payload


ORGANISE = """
mutation($region: String!, $store: String!) {
  createRegion(input: {code: $region, name: "华东"}) { __typename }
  createStore(input: {code: $store, name: "一号店", regionCode: $region}) {
    __typename ... on StoreSuccess { store { id code regionCode } }
  }
}
"""
ADD_STORE = """
mutation($region: String!, $store: String!) {
  createStore(input: {code: $store, name: "门店", regionCode: $region}) {
    __typename ... on StoreSuccess { store { id code regionCode } }
  }
}
"""
SET_HOME_STORE = """
mutation($id: UUID!, $store: String) {
  updateMemberProfile(input: {memberId: $id, homeStoreCode: $store}) {
    __typename ... on MemberSuccess { member { id homeStoreCode } } ... on Error { message }
  }
}
"""


async def make_store(api: SubgraphClient, ops: str, store: str = "S1", region: str = "R1") -> dict[str, Any]:
    """A store in a region (the region is created when it is new)."""
    result = await api(ORGANISE, {"region": region, "store": store}, token=ops)
    if result["data"]["createStore"]["__typename"] != "StoreSuccess":
        result = await api(ADD_STORE, {"region": region, "store": store}, token=ops)
        payload: dict[str, Any] = result["data"]["createStore"]
    else:
        payload = result["data"]["createStore"]
    assert payload["__typename"] == "StoreSuccess", result
    store_row: dict[str, Any] = payload["store"]
    return store_row


async def make_member_in(api: SubgraphClient, ops: str, mobile: str, store: str | None) -> str:
    """A registered member whose home store is `store`; their id."""
    member_id: str = (await register(api, ops, mobile))["member"]["id"]
    if store is not None:
        moved = await api(SET_HOME_STORE, {"id": member_id, "store": store}, token=ops)
        assert moved["data"]["updateMemberProfile"]["__typename"] == "MemberSuccess", moved
    return member_id
