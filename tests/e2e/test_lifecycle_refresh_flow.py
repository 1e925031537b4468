"""The lifecycle-refresh flow, run by Prefect against the real gateway twice for the same as_of: the second run
changes no stage, history or tag and writes no event."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tests.e2e.factories import make_member_at, make_organisation, wait_for_events
from tests.stack import Stack
from yutang_dev.flows_client import FlowsClient
from yutang_flows.lifecycle_refresh import BRAND_ZONE, lifecycle_refresh

RECORD = """
mutation($input: RecordOrderInput!) { recordOrder(input: $input) { __typename ... on Error { message } } }
"""
MEMBER = """
query($id: UUID!) {
  member(id: $id) {
    insights { lifecycleStage stageSince frequency monetaryFen segment consumerTypes }
    tags { name appliedBy }
  }
}
"""
SUMMARY = """
query { lifecycleSummary { asOf stages { stage count } movements { fromStage toStage count } } }
"""


def today() -> date:
    return datetime.now(BRAND_ZONE).date()


def record_order(stack: Stack, ops: str, member_id: str, days_ago: int, paid: int, key: str) -> None:
    day = today() - timedelta(days=days_ago)
    at = datetime.combine(day, time(12), BRAND_ZONE).astimezone(UTC)
    order = {
        "externalId": key,
        "storeCode": "S1",
        "channel": "MINI_PROGRAM",
        "paidFen": paid,
        "lines": [{"sku": "T1", "category": "tea", "quantity": 1, "unitPriceFen": paid}],
        "occurredAt": at.isoformat(),
        "memberId": member_id,
    }
    result = stack.query(RECORD, {"input": order}, token=ops).json()
    assert result["data"]["recordOrder"]["__typename"] == "RecordOrderSuccess", result


def state(stack: Stack, ops: str, member_id: str) -> dict[str, Any]:
    data: dict[str, Any] = stack.query(MEMBER, {"id": member_id}, token=ops).json()["data"]["member"]
    data["tags"] = sorted(tag["name"] for tag in data["tags"])
    return data


def test_running_the_flow_twice_for_one_date_changes_nothing_the_second_time(
    stack: Stack, ops: str, prefect: FlowsClient
) -> None:
    # given a new buyer, a repeat buyer and a prospect
    make_organisation(stack, ops)
    new = make_member_at(stack, ops, "13700137001", "S1")
    repeat = make_member_at(stack, ops, "13700137002", "S1")
    prospect = make_member_at(stack, ops, "13700137003", "S3")
    record_order(stack, ops, new, 10, 2_000, "LR-1")
    record_order(stack, ops, repeat, 60, 1_000, "LR-2")
    record_order(stack, ops, repeat, 5, 1_000, "LR-3")
    as_of = today()  # the members registered today: a refresh as of yesterday would not include them

    # when the flow runs twice for the same date
    first = lifecycle_refresh(as_of=as_of, shards=2)
    before = {m: state(stack, ops, m) for m in (new, repeat, prospect)}
    second = lifecycle_refresh(as_of=as_of, shards=3)
    after = {m: state(stack, ops, m) for m in (new, repeat, prospect)}

    # then the first run placed everyone and the second changed nothing
    assert (first.members, first.transitions, first.events) == (3, 3, 3)
    assert (second.members, second.transitions, second.events) == (3, 0, 0)
    assert first.tags == second.tags > 0
    assert (second.tags_applied, second.tags_removed) == (0, 0)
    assert before == after
    assert [before[m]["insights"]["lifecycleStage"] for m in (new, repeat, prospect)] == ["NEW", "REPEAT", "PROSPECT"]
    assert before[new]["insights"]["stageSince"] == as_of.isoformat()
    # the default automatic tags: first-order channel, source and consumer type among them
    assert "mini_program" in before[new]["tags"]
    assert "store_qr" in before[prospect]["tags"]
    summary = stack.query(SUMMARY, token=ops).json()["data"]["lifecycleSummary"]
    counts = {row["stage"]: row["count"] for row in summary["stages"]}
    assert (counts["NEW"], counts["REPEAT"], counts["PROSPECT"], summary["asOf"]) == (1, 1, 1, as_of.isoformat())
    assert sorted((m["fromStage"], m["toStage"], m["count"]) for m in summary["movements"]) == [
        (None, "NEW", 1),
        (None, "PROSPECT", 1),
        (None, "REPEAT", 1),
    ]
    wait_for_events(stack)  # the three member.stage-changed events left the outbox
