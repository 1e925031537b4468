"""The audit log: every mutation (refusals included) and every full mobile reveal is recorded with actor, role,
client, request id, target and outcome; only operations read it; nothing can change it."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.members.factories import make_member_in, make_store, register
from tests.support import SubgraphClient, Tokens

LOG = """
query($filter: AuditLogFilter, $after: Cursor) {
  auditLog(filter: $filter, first: 50, after: $after) {
    totalCount edges { node { actor role clientId requestId action targetType targetId outcome } }
  }
}
"""
MEMBER = "query($id: UUID!) { member(id: $id) { mobile } }"
MEMBERS = "{ members(first: 10) { edges { node { mobile } } } }"
FREEZE = "mutation($id: UUID!) { freezeMember(memberId: $id) { __typename } }"
UPDATE = """
mutation($id: UUID!) { updateMemberProfile(input: {memberId: $id, birthday: "1800-01-01"}) { __typename } }
"""


async def entries(api: SubgraphClient, tokens: Tokens, **filter: str) -> list[dict[str, str]]:
    result = await api(LOG, {"filter": filter}, token=tokens.ops())
    return [edge["node"] for edge in result["data"]["auditLog"]["edges"]]


async def test_mutations_and_their_refusals_are_audited(members_api: SubgraphClient, tokens: Tokens) -> None:
    await make_store(members_api, tokens.ops(), "S1")
    member_id = await make_member_in(members_api, tokens.ops(), "13800138000", "S1")
    guide = tokens.staff_in("guide", stores=("S1",), subject="guide-1")

    await members_api(FREEZE, {"id": member_id}, token=guide)  # guides may not freeze
    await members_api(UPDATE, {"id": member_id}, token=tokens.partner_for("members:write", client_id="pos-1"))

    frozen = await entries(members_api, tokens, action="freezeMember")
    updates = await entries(members_api, tokens, action="updateMemberProfile", targetId=member_id)
    assert frozen == [
        {
            "actor": "guide-1",
            "role": "staff",
            "clientId": None,
            "requestId": frozen[0]["requestId"],
            "action": "freezeMember",
            "targetType": "member",
            "targetId": member_id,
            "outcome": "FORBIDDEN",
        }
    ]
    assert frozen[0]["requestId"]
    assert [(e["actor"], e["clientId"], e["outcome"]) for e in updates] == [
        ("pos-1", "pos-1", "MEMBERS_INVALID_BIRTHDAY"),
        ("ops-test", None, "ok"),
    ]
    stores = await entries(members_api, tokens, targetType="store")
    assert [(e["action"], e["targetId"]) for e in stores] == [("createStore", "S1")]


async def test_full_mobile_reveals_are_audited_once_per_member(members_api: SubgraphClient, tokens: Tokens) -> None:
    ids = [(await register(members_api, tokens.ops(), f"1380013800{i}"))["member"]["id"] for i in range(3)]

    await members_api(MEMBERS, token=tokens.service("members:read"))
    await members_api(MEMBER, {"id": ids[0]}, token=tokens.member(ids[0]))  # their own: not a reveal to others
    await members_api(MEMBER, {"id": ids[0]}, token=tokens.partner("members:read"))  # masked: no reveal

    by_service = await entries(members_api, tokens, action="reveal_mobile", actor="service-test")
    by_anyone = await entries(members_api, tokens, action="reveal_mobile")
    assert sorted(e["targetId"] for e in by_service) == sorted(ids)
    # registering answered the full mobile to ops: three more reveals; the member and the partner added none
    assert sorted(e["role"] for e in by_anyone) == ["ops"] * 3 + ["service"] * 3


async def test_only_operations_read_the_log_and_nothing_changes_it(
    members_api: SubgraphClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    await make_store(members_api, tokens.ops(), "S1")

    as_manager = await members_api(LOG, {}, token=tokens.staff_in("store_manager", stores=("S1",)))
    as_operations = await members_api(LOG, {}, token=tokens.staff_in("operations"))

    assert as_manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_operations["data"]["auditLog"]["totalCount"] == 2
    for statement in ("UPDATE members.audit_log SET outcome = 'ok'", "DELETE FROM members.audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
