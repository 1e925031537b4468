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
