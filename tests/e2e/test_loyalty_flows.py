"""The points-expiry and tier-review flows run by Prefect against the real gateway, with asOf stepped over a
year and more."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.factories import make_member, make_member_at, make_organisation, wait_for_events
from tests.stack import Stack
from tests.support import Tokens
from yutang_dev.flows_client import FlowsClient
from yutang_flows.points_expiry import points_expiry
from yutang_flows.tier_review import tier_review

RECORD_ORDER = """
mutation($i: RecordOrderInput!) { recordOrder(input: $i) {
  __typename ... on RecordOrderSuccess { order { id } } ... on Error { message } } }
"""
TIER = """query($id: UUID!, $asOf: Date) { member(id: $id) { loyalty {
  balance tier(asOf: $asOf) { level qualifyingSpendFen nextLevel toNextLevelFen reviewAt graceUntil
    benefits { vipEligible earnMultiplier } }
  tierHistory { fromLevel toLevel reason } } } }"""

PROFILE = """mutation($i: UpdateMemberProfileInput!) { updateMemberProfile(input: $i) {
  __typename ... on Error { message } } }"""

LOYALTY = """query($id: UUID!, $asOf: Date) { member(id: $id) { loyalty {
  balance expiringSoon(withinDays: 30, asOf: $asOf) { points expiresAt expiresOn } } } }"""


def loyalty(stack: Stack, ops: str, member_id: str, as_of: date | None = None) -> dict[str, object]:
    variables = {"id": member_id, "asOf": as_of.isoformat() if as_of else None}
    result = stack.query(LOYALTY, variables, token=ops).json()
    assert "errors" not in result, result
    data: dict[str, object] = result["data"]["member"]["loyalty"]
    return data


def tier(stack: Stack, ops: str, member_id: str, as_of: date) -> dict[str, Any]:
    result = stack.query(TIER, {"id": member_id, "asOf": as_of.isoformat()}, token=ops).json()
    assert "errors" not in result, result
    data: dict[str, Any] = result["data"]["member"]["loyalty"]
    return data


def test_tiers_rise_with_orders_and_the_review_steps_them_down_a_year_later(
    stack: Stack, ops: str, tokens: Tokens, prefect: FlowsClient
) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    make_organisation(stack, ops)
    member = make_member_at(stack, ops, "13800138111", "S1")
    pos = tokens.partner_for("orders:write", "members:read", stores=("S1",), client_id="pos-tiers")
    order = {
        "externalId": f"POS-{uuid.uuid4().hex[:10]}",
        "memberId": member,
        "storeCode": "S1",
        "channel": "IN_STORE",
        "paidFen": 600_000,
        "lines": [{"sku": "TEA-9", "category": "tea", "quantity": 1, "unitPriceFen": 600_000}],
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    recorded = stack.query(RECORD_ORDER, {"i": order}, token=pos).json()["data"]["recordOrder"]
    assert recorded["__typename"] == "RecordOrderSuccess", recorded
    started = time.monotonic()
    while tier(stack, ops, member, today)["tier"]["level"] == "normal" and time.monotonic() - started < 90:
        time.sleep(0.2)
    wait_for_events(stack, within=90, consumers={"loyalty-tiers"})

    gold = tier(stack, ops, member, today)
    month = tier_review(as_of=today + timedelta(days=31), members_per_call=1)
    again = tier_review(as_of=today + timedelta(days=31))
    year = today + timedelta(days=400)
    grace = tier_review(as_of=year)
    in_grace = tier(stack, ops, member, year)
    down = tier_review(as_of=year + timedelta(days=31))

    assert gold["tier"]["level"] == "gold"
    assert gold["tier"]["benefits"]["vipEligible"] is True
    assert gold["tier"]["qualifyingSpendFen"] == 600_000
    assert gold["tier"]["nextLevel"] == "diamond"
    assert gold["balance"] == 500  # gold's upgrade gift (the order's own points are still pending)
    assert (month.reviewed, month.downgraded, month.grace_started) == (1, 0, 0)
    assert again.reviewed == 0
    assert (grace.grace_started, in_grace["tier"]["level"]) == (1, "gold")
    assert in_grace["tier"]["graceUntil"] == (year + timedelta(days=30)).isoformat()
    assert down.downgraded == 1
    final = tier(stack, ops, member, year + timedelta(days=31))
    assert final["tier"]["level"] == "normal"
    assert [(h["fromLevel"], h["toLevel"], h["reason"]) for h in final["tierHistory"]] == [
        ("gold", "normal", "review"),
        ("normal", "gold", "qualified"),
    ]


def test_points_expire_at_the_end_of_the_year_after_they_were_earned(
    stack: Stack, ops: str, prefect: FlowsClient
) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    expires_on = date(today.year + 2, 1, 1)
    members = [make_member(stack, ops, f"1360013600{i}", points=100 * (i + 1)) for i in range(3)]

    now = points_expiry(as_of=today, shards=2)
    week_before = points_expiry(as_of=date(today.year + 1, 12, 26), shards=2)
    on_the_day = points_expiry(as_of=expires_on, shards=2, members_per_call=1)
    again = points_expiry(as_of=expires_on, shards=2)

    assert (now.lots, now.points, now.notice_members) == (0, 0, [])
    assert (week_before.lots, sorted(week_before.notice_members), week_before.notice_points) == (
        0,
        sorted(members),
        600,
    )
    assert (on_the_day.lots, on_the_day.points, on_the_day.members) == (3, 600, 3)
    assert (again.lots, again.points) == (0, 0)
    assert loyalty(stack, ops, members[0])["balance"] == 0
    assert loyalty(stack, ops, members[0], date(today.year + 1, 12, 20))["balance"] == 0


def test_member_loyalty_shows_points_expiring_soon(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    member = make_member(stack, ops, "13700137000", points=250)

    far = loyalty(stack, ops, member)
    near = loyalty(stack, ops, member, date(today.year + 1, 12, 15))

    assert far == {"balance": 250, "expiringSoon": []}
    assert near["expiringSoon"] == [
        {
            "points": 250,
            "expiresAt": f"{today.year + 2}-01-01T00:00:00+08:00",
            "expiresOn": f"{today.year + 2}-01-01",
        }
    ]


def test_points_expiry_grants_a_gold_members_birthday_points_once(
    stack: Stack, ops: str, tokens: Tokens, prefect: FlowsClient
) -> None:
    # given: a gold member (one big order) whose birthday, given in members, is today
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    make_organisation(stack, ops)
    member = make_member_at(stack, ops, "13800138222", "S1")
    pos = tokens.partner_for("orders:write", "members:read", stores=("S1",), client_id="pos-birthday")
    order = {
        "externalId": f"POS-{uuid.uuid4().hex[:10]}",
        "memberId": member,
        "storeCode": "S1",
        "channel": "IN_STORE",
        "paidFen": 600_000,
        "lines": [{"sku": "TEA-9", "category": "tea", "quantity": 1, "unitPriceFen": 600_000}],
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    recorded = stack.query(RECORD_ORDER, {"i": order}, token=pos).json()["data"]["recordOrder"]
    assert recorded["__typename"] == "RecordOrderSuccess", recorded
    born = date(1992 if (today.month, today.day) == (2, 29) else 1990, today.month, today.day)
    profile = stack.query(PROFILE, {"i": {"memberId": member, "birthday": born.isoformat()}}, token=ops).json()
    assert profile["data"]["updateMemberProfile"]["__typename"] == "MemberSuccess", profile
    wait_for_events(stack, within=90, consumers={"loyalty-tiers", "loyalty-directory"})
    before = tier(stack, ops, member, today)

    # when: the daily flow runs for today, then again
    first = points_expiry(as_of=today, shards=1)
    again = points_expiry(as_of=today, shards=1)

    # then: gold's 500 birthday points once
    assert before["tier"]["level"] == "gold"
    assert (first.birthday_members, first.birthday_points) == (1, 500)
    assert (again.birthday_members, again.birthday_points) == (0, 0)
    assert tier(stack, ops, member, today)["balance"] == before["balance"] + 500
