"""Errors the caller caused before execution carry a code; unexpected errors are masked."""

from tests.support import SubgraphClient, Tokens

MEMBER = "query($id: UUID!) { member(id: $id) { id } }"


async def test_bad_variables_are_bad_user_input(members_api: SubgraphClient, tokens: Tokens) -> None:
    result = await members_api(MEMBER, {"id": "not-a-uuid"}, token=tokens.ops())

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_syntax_errors_are_parse_failures(members_api: SubgraphClient, tokens: Tokens) -> None:
    result = await members_api("{ member(id: ", token=tokens.ops())

    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unknown_fields_are_validation_failures(members_api: SubgraphClient, tokens: Tokens) -> None:
    result = await members_api("{ nosuchfield }", token=tokens.ops())

    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_permission_codes_are_kept(members_api: SubgraphClient, tokens: Tokens) -> None:
    result = await members_api("{ members(first: 1) { edges { cursor } } }", token=tokens.partner())

    assert result["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


BY_MOBILE = "query($m: String!) { memberByMobile(mobile: $m) { id } }"


async def test_a_nul_byte_in_a_variable_is_bad_input_before_any_sql(
    members_api: SubgraphClient, tokens: Tokens
) -> None:
    # schemathesis found NUL bytes reaching asyncpg (a masked error): PostgreSQL cannot store them.
    result = await members_api(BY_MOBILE, {"m": "1380013\x008000"}, token=tokens.ops())

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]


async def test_a_nul_byte_in_a_literal_is_bad_input(members_api: SubgraphClient, tokens: Tokens) -> None:
    result = await members_api('{ memberByMobile(mobile: "138\\u00000138000") { id } }', token=tokens.ops())

    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
