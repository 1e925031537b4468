"""Member intelligence over GraphQL: reach (staff see their stores' members only, in SQL), typed rule errors,
audited and scoped exports, idempotent snapshots, and who may refresh."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.members.insights.builders import member, order, refresh
from tests.members.orders.conftest import make_stores
from tests.support import SubgraphClient, Tokens

SUMMARY = "query($store: String) { lifecycleSummary(storeCode: $store) { stages { stage count } } }"
PREVIEW = """
query($rule: JSON!) {
  previewAudience(rule: $rule) { __typename ... on AudiencePreview { size } ... on Error { message }
    ... on UnknownConditionError { code } ... on RuleTooDeepError { code } ... on EmptyRuleGroupError { code }
    ... on InvalidConditionValueError { code } }
}
"""
SAVE = """
mutation($input: SaveAudienceInput!) {
  saveAudience(input: $input) { __typename ... on SaveAudienceSuccess { audience { id size } } }
}
"""
EXPORT = """
mutation($id: UUID!) {
  exportAudience(id: $id) { __typename ... on ExportAudienceSuccess { csv rows truncated } }
}
"""
MATERIALIZE = """
mutation($id: UUID!, $key: String!) {
  materializeAudience(id: $id, key: $key) {
    __typename ... on MaterializeAudienceSuccess { replayed snapshot { size } } ... on Error { message }
  }
}
"""
REFRESH = """
mutation { refreshInsights(asOf: "2026-06-30") { __typename ... on RefreshInsightsSuccess { members } } }
"""
MEMBER = """
query($id: UUID!) { member(id: $id) { insights { lifecycleStage frequency rScore segment } tags { name } } }
"""
EVERY_BUYER = {"condition": "bought_within", "days": 3650}


async def _two_stores(engine: AsyncEngine) -> tuple[Any, Any]:
    await make_stores(engine, "S001", "S002")
    mine, theirs = await member(engine, store="S001"), await member(engine, store="S002")
    await order(engine, mine, 10)
    await order(engine, theirs, 10)
    await refresh(engine)
    return mine, theirs


def _counts(result: dict[str, Any]) -> dict[str, int]:
    return {row["stage"]: row["count"] for row in result["data"]["lifecycleSummary"]["stages"]}


async def test_staff_count_and_export_only_their_stores_members(
    engine: AsyncEngine, members_api: SubgraphClient, tokens: Tokens
) -> None:
    # given a member at each of two stores, and a store manager of S001
    mine, theirs = await _two_stores(engine)
    manager = tokens.staff_in("store_manager", stores=("S001",))
    # when / then: the lifecycle summary and the preview count one member for the manager, two for ops
    assert _counts(await members_api(SUMMARY, token=manager))["NEW"] == 1
    assert _counts(await members_api(SUMMARY, token=tokens.ops()))["NEW"] == 2
    preview = await members_api(PREVIEW, {"rule": EVERY_BUYER}, token=manager)
    assert preview["data"]["previewAudience"] == {"__typename": "AudiencePreview", "size": 1}
    # the export holds the manager's member only, and is audited
    saved = await members_api(SAVE, {"input": {"name": "buyers", "rule": EVERY_BUYER}}, token=tokens.ops())
    audience = saved["data"]["saveAudience"]["audience"]
    assert audience["size"] == 2
    export = (await members_api(EXPORT, {"id": audience["id"]}, token=manager))["data"]["exportAudience"]
    assert export["rows"] == 1
    assert str(mine) in export["csv"]
    assert str(theirs) not in export["csv"]
    async with engine.connect() as connection:
        audited = (
            await connection.execute(
                text("SELECT action, target_id, outcome FROM members.audit_log WHERE action = 'export'")
            )
        ).all()
    assert [tuple(a) for a in audited] == [("export", audience["id"], "ok")]


async def test_a_member_out_of_reach_shows_no_insights_and_a_member_in_reach_does(
    engine: AsyncEngine, members_api: SubgraphClient, tokens: Tokens
) -> None:
    mine, theirs = await _two_stores(engine)
    manager = tokens.staff_in("store_manager", stores=("S001",))
    ok = await members_api(MEMBER, {"id": str(mine)}, token=manager)
    refused = await members_api(MEMBER, {"id": str(theirs)}, token=manager)
    assert ok["data"]["member"]["insights"] == {
        "lifecycleStage": "NEW",
        "frequency": 1,
        "rScore": 5,
        "segment": "GENERAL_RETAIN",
    }
    assert ok["data"]["member"] is not None, ok
    assert ok["data"]["member"]["tags"] == []
    assert "errors" not in ok
    assert refused["data"]["member"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_rule_errors_are_typed(members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine) -> None:
    cases = [
        ({"condition": "shoe_size"}, "MEMBERS_UNKNOWN_CONDITION"),
        ({"all": []}, "MEMBERS_EMPTY_RULE_GROUP"),
        ({"condition": "points_balance", "min": "lots"}, "MEMBERS_INVALID_CONDITION_VALUE"),
        ({"all": [{"all": [{"all": [{"all": [{"all": [{"all": [EVERY_BUYER]}]}]}]}]}]}, "MEMBERS_RULE_TOO_DEEP"),
    ]
    for rule, code in cases:
        result = await members_api(PREVIEW, {"rule": rule}, token=tokens.ops())
        assert result.get("data") is not None, result
        assert result["data"]["previewAudience"]["code"] == code


async def test_materialising_twice_with_one_key_is_one_snapshot(
    engine: AsyncEngine, members_api: SubgraphClient, tokens: Tokens
) -> None:
    await _two_stores(engine)
    saved = await members_api(SAVE, {"input": {"name": "buyers", "rule": EVERY_BUYER}}, token=tokens.ops())
    audience_id = saved["data"]["saveAudience"]["audience"]["id"]
    first = await members_api(MATERIALIZE, {"id": audience_id, "key": "camp-1"}, token=tokens.ops())
    second = await members_api(MATERIALIZE, {"id": audience_id, "key": "camp-1"}, token=tokens.ops())
    assert first["data"]["materializeAudience"] == {
        "__typename": "MaterializeAudienceSuccess",
        "replayed": False,
        "snapshot": {"size": 2},
    }
    assert second["data"]["materializeAudience"]["replayed"] is True
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT count(*) FROM members.audience_snapshot_members"))).scalar_one()
    assert rows == 2


async def test_only_operations_and_services_with_insights_write_refresh(
    engine: AsyncEngine, members_api: SubgraphClient, tokens: Tokens
) -> None:
    manager = tokens.staff_in("store_manager", stores=("S001",))
    refused = await members_api(REFRESH, token=manager)
    without_scope = await members_api(REFRESH, token=tokens.service("members:read"))
    allowed = await members_api(REFRESH, token=tokens.service("insights:write"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert without_scope["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert allowed["data"]["refreshInsights"] == {"__typename": "RefreshInsightsSuccess", "members": 0}
