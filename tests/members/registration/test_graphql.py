"""registerMember over HTTP: idempotent on the mobile, typed errors, emoji nicknames, statement counts."""

from tests.members.factories import make_store, register
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


AT_STORE = """
mutation($input: RegisterMemberInput!) { registerMember(input: $input) {
  __typename
  ... on RegisterMemberSuccess { created member { id homeStoreCode registrationStoreCode } }
  ... on StoreNotFoundError { code }
} }
"""


def at_store(mobile: str, store: str | None) -> dict[str, object]:
    return {"input": {"mobile": mobile, "sourceChannel": "STORE_QR", "storeCode": store}}


async def test_a_store_registers_its_members_and_its_staff_reach_them(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    await make_store(members_api, tokens.ops(), "S1", "R1")
    await make_store(members_api, tokens.ops(), "S2", "R1")
    guide = tokens.staff_in("guide", stores=("S1",))

    mine = await members_api(AT_STORE, at_store("13800138001", "S1"), token=guide)
    member = mine["data"]["registerMember"]["member"]
    seen = await members_api(MEMBER, {"id": member["id"]}, token=guide)
    elsewhere = await members_api(AT_STORE, at_store("13800138002", "S2"), token=guide)
    nowhere = await members_api(AT_STORE, at_store("13800138003", None), token=guide)
    by_ops = await members_api(AT_STORE, at_store("13800138004", None), token=tokens.ops())
    unknown = await members_api(AT_STORE, at_store("13800138005", "S9"), token=tokens.ops())

    assert member["homeStoreCode"] == member["registrationStoreCode"] == "S1"
    assert seen["data"]["member"]["mobile"] == "138****8001"
    assert elsewhere["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert nowhere["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_ops["data"]["registerMember"]["member"]["homeStoreCode"] is None
    assert unknown["data"]["registerMember"] == {"__typename": "StoreNotFoundError", "code": "MEMBERS_UNKNOWN_STORE"}
    listing = await members_api(MEMBERS, {"first": 10}, token=tokens.ops())
    assert len(listing["data"]["members"]["edges"]) == 2  # S1's and ops' member; nothing for the refusals
    log = await members_api("{ auditLog(first: 10) { edges { node { action outcome } } } }", {}, token=tokens.ops())
    outcomes = sorted(
        e["node"]["outcome"] for e in log["data"]["auditLog"]["edges"] if e["node"]["action"] == "registerMember"
    )
    assert outcomes == ["FORBIDDEN", "FORBIDDEN", "MEMBERS_UNKNOWN_STORE", "ok", "ok"]  # and the two registered


async def test_a_deactivated_store_is_unknown_to_registration(members_api: SubgraphClient, tokens: Tokens) -> None:
    store = await make_store(members_api, tokens.ops(), "S1", "R1")
    await members_api(
        "mutation($id: UUID!) { deactivateStore(id: $id) { __typename } }",
        {"id": store["id"]},
        token=tokens.ops(),
    )

    refused = await members_api(AT_STORE, at_store("13800138001", "S1"), token=tokens.ops())

    assert refused["data"]["registerMember"]["code"] == "MEMBERS_UNKNOWN_STORE"
