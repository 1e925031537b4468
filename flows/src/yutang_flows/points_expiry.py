"""Expire lapsed points lots, shard by shard, grant the day's birthday points page by page, then list the members
whose points expire soon (the notice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.logging import get_run_logger
from pydantic import Field

from yutang_flows.gateway import execute, retry_if_transient

LOCAL = ZoneInfo("Asia/Shanghai")
PAGE = 100
BIRTHDAY_PAGE = 500  # grantBirthdayPoints' largest page

EXPIRE = """
mutation Expire($asOf: Date!, $shard: Int!, $shards: Int!, $members: Int!) {
  expirePoints(asOf: $asOf, shard: $shard, shards: $shards, members: $members) {
    __typename
    ... on ExpirePointsSuccess { lots points members more }
    ... on Error { message }
  }
}
"""
RELEASE_HOLDS = "mutation { releaseExpiredHolds { released } }"
BIRTHDAYS = """
mutation Birthdays($asOf: Date!, $after: UUID, $first: Int!) {
  grantBirthdayPoints(asOf: $asOf, after: $after, first: $first) {
    members granted points already noPoints refused nextAfter more
  }
}
"""
EXPIRING = """
query Expiring($asOf: Date!, $within: Int!, $first: Int!, $after: Cursor) {
  expiringPoints(asOf: $asOf, withinDays: $within, first: $first, after: $after) {
    edges { node { memberId points expiresOn } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

AsOf = Annotated[
    date | None,
    Field(description="The local (Asia/Shanghai) date to expire up to, inclusive; default today."),
]
Shards = Annotated[int, Field(ge=1, le=256, description="Members are split into this many shards (1 to 256).")]
MembersPerCall = Annotated[
    int, Field(ge=1, le=1000, description="Members per expirePoints call (one transaction), 1 to 1000.")
]
NoticeDays = Annotated[
    int, Field(ge=1, le=366, description="List members whose points expire within this many days (1 to 366).")
]


class ExpiryRefused(RuntimeError):
    """The loyalty service refused an expiry call (a bad shard): no retry can fix it."""


@dataclass
class ExpirySummary:
    """What one run did: lots, points and members expired, and the members to notify."""

    as_of: date
    lots: int = 0
    points: int = 0
    members: int = 0
    notice_members: list[str] = field(default_factory=list)
    notice_points: int = 0
    holds_released: int = 0
    birthday_members: int = 0
    birthday_points: int = 0


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="expire shard {shard}",
)
def expire_shard(as_of: date, shard: int, shards: int, members: int) -> tuple[int, int, int]:
    """Expire every lapsed lot of one shard, a batch of members per call, until none is left: (lots, points,
    members). Safe to retry: each lot expires once."""
    log = get_run_logger()
    lots = points = expired_members = calls = 0
    while True:
        result = execute(EXPIRE, {"asOf": as_of.isoformat(), "shard": shard, "shards": shards, "members": members})
        payload = result["expirePoints"]
        if payload["__typename"] != "ExpirePointsSuccess":
            raise ExpiryRefused(payload.get("message") or payload["__typename"])
        calls += 1
        lots, points, expired_members = (
            lots + payload["lots"],
            points + payload["points"],
            expired_members + payload["members"],
        )
        if not payload["more"] or not payload["lots"]:
            break
    log.info(
        "shard %d/%d: %d lots, %d points of %d members expired in %d calls",
        shard,
        shards,
        lots,
        points,
        expired_members,
        calls,
    )
    return lots, points, expired_members


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="release expired holds",
)
def release_holds() -> int:
    """Release every points-payment hold past its time (they also release themselves when a capture finds them
    expired): how many. Safe to retry: each hold releases once."""
    released = 0
    while (n := int(execute(RELEASE_HOLDS, {})["releaseExpiredHolds"]["released"])) > 0:
        released += n
    return released


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="birthday points {as_of}",
)
def grant_birthdays(as_of: date, members: int) -> tuple[int, int]:
    """Grant the birthday points of every active member whose birthday is `as_of`, a page of members per call:
    (members granted now, points). Safe to retry: each member gets them once a year (the ledger key)."""
    log = get_run_logger()
    granted = points = already = calls = 0
    after: str | None = None
    while True:
        page = execute(BIRTHDAYS, {"asOf": as_of.isoformat(), "after": after, "first": members})["grantBirthdayPoints"]
        calls += 1
        granted, points, already = granted + page["granted"], points + page["points"], already + page["already"]
        log.info(
            "birthday points page %d: %d members, %d granted now (%d points)",
            calls,
            page["members"],
            page["granted"],
            page["points"],
        )
        if not page["more"]:
            break
        after = page["nextAfter"]
    log.info(
        "birthday points %s: %d members granted %d points in %d calls; %d had them this year already",
        as_of,
        granted,
        points,
        calls,
        already,
    )
    return granted, points


@task(retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=retry_if_transient, task_run_name="list expiring")
def list_expiring(as_of: date, within_days: int) -> tuple[list[str], int]:
    """The members with points expiring within `within_days` days after `as_of`, and those points in all."""
    members: list[str] = []
    points = 0
    after: str | None = None
    while True:
        variables = {"asOf": as_of.isoformat(), "within": within_days, "first": PAGE, "after": after}
        page = execute(EXPIRING, variables)["expiringPoints"]
        for edge in page["edges"]:
            members.append(edge["node"]["memberId"])
            points += edge["node"]["points"]
        if not page["pageInfo"]["hasNextPage"]:
            return members, points
        after = page["pageInfo"]["endCursor"]


@flow(name="points-expiry", flow_run_name="points-expiry {as_of}", log_prints=True)
def points_expiry(
    as_of: AsOf = None, shards: Shards = 4, members_per_call: MembersPerCall = 200, notice_within_days: NoticeDays = 7
) -> ExpirySummary:
    """Release expired points-payment holds, expire every lot lapsed by `as_of` (shard by shard), grant the
    birthday points of the members whose birthday is `as_of`, then list the members whose points expire within
    `notice_within_days` days after it, for the expiry notice.

    Args:
        as_of: the local date (Asia/Shanghai) to expire up to, inclusive; default today. An operator (or a test)
            can run any date, e.g. to simulate a year.
        shards: members are split into this many shards, one task each (1 to 256).
        members_per_call: members per expirePoints call, one transaction each (1 to 1000); birthday pages hold
            at most 500 members.
        notice_within_days: the notice lists members with points expiring within this many days (1 to 366).

    Idempotent: every lot expires once and every member gets birthday points once a year, so a re-run for the
    same date (or a retried task) expires and grants nothing more.
    """
    day = as_of or datetime.now(UTC).astimezone(LOCAL).date()
    log = get_run_logger()
    summary = ExpirySummary(as_of=day)
    summary.holds_released = release_holds()
    for shard in range(shards):
        lots, points, members = expire_shard(day, shard, shards, members_per_call)
        summary.lots, summary.points, summary.members = (
            summary.lots + lots,
            summary.points + points,
            summary.members + members,
        )
    summary.birthday_members, summary.birthday_points = grant_birthdays(day, min(members_per_call, BIRTHDAY_PAGE))
    summary.notice_members, summary.notice_points = list_expiring(day, notice_within_days)
    log.info(
        "points expiry %s: %d lots, %d points of %d members expired; %d birthday members got %d points; "
        "%d members have %d points expiring within %d days",
        day,
        summary.lots,
        summary.points,
        summary.members,
        summary.birthday_members,
        summary.birthday_points,
        len(summary.notice_members),
        summary.notice_points,
        notice_within_days,
    )
    return summary
