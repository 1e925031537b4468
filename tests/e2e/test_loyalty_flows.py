"""The points-expiry flow run by Prefect against the real gateway, with asOf stepped over a year and more."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tests.e2e.factories import make_member
from tests.stack import Stack
from yutang_dev.flows_client import FlowsClient
from yutang_flows.points_expiry import points_expiry

LOYALTY = """query($id: UUID!, $asOf: Date) { member(id: $id) { loyalty {
  balance expiringSoon(withinDays: 30, asOf: $asOf) { points expiresAt expiresOn } } } }"""


def loyalty(stack: Stack, ops: str, member_id: str, as_of: date | None = None) -> dict[str, object]:
    variables = {"id": member_id, "asOf": as_of.isoformat() if as_of else None}
    result = stack.query(LOYALTY, variables, token=ops).json()
    assert "errors" not in result, result
    data: dict[str, object] = result["data"]["member"]["loyalty"]
    return data


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
    assert (week_before.lots, sorted(week_before.notice_members), week_before.notice_points) == (0, sorted(members), 600)
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
