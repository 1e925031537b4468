"""registerMember over HTTP: idempotent on the mobile, typed errors, emoji nicknames, statement counts."""

from tests.members.factories import register
from tests.queries import count_selects
from tests.support import SubgraphClient, Tokens

MEMBER = "query($id: UUID!) { member(id: $id) { id nickname mobile sourceChannel } }"
MEMBERS = """
query($first: Int!, $after: Cursor) {
  members(first: $first, after: $after) { edges { cursor node { id nickname } } pageInfo { hasNextPage endCursor } }
}
"""
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
FLAG, SKIN_TONE, KEYCAP = "\U0001f1e8\U0001f1f3", "\U0001f44d\U0001f3fd", "1\ufe0f\u20e3"  # 🇨🇳 👍🏽 1️⃣


async def test_registering_the_same_mobile_returns_the_existing_member(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    first = await register(members_api, tokens.ops(), "13800138000")

    again = await register(members_api, tokens.ops(), "+8613800138000", nickname="other")

    assert again["created"] is False
    assert again["member"]["id"] == first["member"]["id"]


async def test_invalid_input_is_a_typed_error(members_api: SubgraphClient, tokens: Tokens) -> None:
    bad_mobile = await register(members_api, tokens.ops(), "12345")
    bad_nickname = await register(members_api, tokens.ops(), "13800138000", nickname="x" * 40)

    assert bad_mobile == {
        "__typename": "InvalidMobileError",
        "message": bad_mobile["message"],
        "code": "MEMBERS_INVALID_MOBILE",
    }
    assert bad_nickname["code"] == "MEMBERS_INVALID_NICKNAME"
    listing = await members_api(MEMBERS, {"first": 10}, token=tokens.ops())
    assert listing["data"]["members"]["edges"] == []


async def test_registering_a_new_mobile_needs_no_select(members_api: SubgraphClient, tokens: Tokens) -> None:
    engine = members_api.client._transport.app.state.engine  # type: ignore[attr-defined]

    with count_selects(engine) as new:
        await register(members_api, tokens.ops(), "13500135000")
    with count_selects(engine) as again:
        await register(members_api, tokens.ops(), "13500135000")

    assert new == []
    assert len(again) == 1


async def test_ops_registers_and_reads_a_member_in_full(members_api: SubgraphClient, tokens: Tokens) -> None:
    created = await register(members_api, tokens.ops(), "138 0013 8000")

    assert created["__typename"] == "RegisterMemberSuccess"
    assert created["created"] is True
    member = created["member"]
    assert member["mobile"] == "13800138000"
    assert member["sourceChannel"] == "STORE_QR"
    assert member["status"] == "ACTIVE"

    read = await members_api(MEMBER, {"id": member["id"]}, token=tokens.ops())
    assert read["data"]["member"]["nickname"] == "小鱼"


async def test_a_nickname_of_emoji_sequences_is_registered_and_read_back(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    nickname = "小鱼" + FLAG + SKIN_TONE + KEYCAP + FAMILY * 27  # 32 characters, 198 code points

    created = await register(members_api, tokens.ops(), "13800138000", nickname=nickname)
    assert created["__typename"] == "RegisterMemberSuccess"
    read = await members_api(MEMBER, {"id": created["member"]["id"]}, token=tokens.ops())

    assert created["member"]["nickname"] == nickname
    assert read["data"]["member"]["nickname"] == nickname


async def test_a_nickname_one_emoji_too_long_is_a_typed_error(members_api: SubgraphClient, tokens: Tokens) -> None:
    refused = await register(members_api, tokens.ops(), "13800138000", nickname=FAMILY * 33)

    assert refused["__typename"] == "InvalidNicknameError"
    assert refused["code"] == "MEMBERS_INVALID_NICKNAME"
