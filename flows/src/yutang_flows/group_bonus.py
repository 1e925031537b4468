"""Grant every member of a group the same points, once per member per run key (for example a group event)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, task
from prefect.logging import get_run_logger

from yutang_flows.gateway import execute

PAGE = 100
RUN_KEY = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

GROUP_MEMBERS = """
query GroupMembers($id: UUID!, $first: Int!, $after: Cursor) {
  group(id: $id) {
    name
    members(first: $first, after: $after) {
      edges { node { member { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

GRANT = """
mutation GrantGroupBonus($inputs: [AdjustPointsInput!]!) {
  adjustPointsBatch(inputs: $inputs) {
    __typename
    ... on AdjustPointsSuccess { replayed }
    ... on Error { message }
  }
}
"""


@dataclass
class BonusSummary:
    """What one run did: granted now, granted by an earlier run or attempt, refused."""

    granted: int = 0
    already_granted: int = 0
    refused: list[str] = field(default_factory=list)

    def add(self, other: BonusSummary) -> None:
        self.granted += other.granted
        self.already_granted += other.already_granted
        self.refused += other.refused


def idempotency_key(run_key: str, member_id: str) -> str:
    """One key per run and member: a retried task or a re-run flow finds its earlier grant."""
    return f"group-bonus:{run_key}:{member_id}"


@task(retries=3, retry_delay_seconds=[1, 5, 15], task_run_name="read members page {page_number}")
def read_members_page(group_id: uuid.UUID, after: str | None, page_number: int) -> tuple[list[str], str | None]:
    """One page of the group's member ids, and the cursor of the next page (None on the last)."""
    data = execute(GROUP_MEMBERS, {"id": str(group_id), "first": PAGE, "after": after})
    group = data["group"]
    if group is None:
        raise ValueError(f"group {group_id} does not exist")
    members = group["members"]
    ids = [edge["node"]["member"]["id"] for edge in members["edges"]]
    return ids, members["pageInfo"]["endCursor"] if members["pageInfo"]["hasNextPage"] else None


@task(retries=3, retry_delay_seconds=[1, 5, 15], task_run_name="grant {points} points to page {page_number}")
def grant_batch(member_ids: list[str], points: int, reason: str, run_key: str, page_number: int) -> BonusSummary:
    """Grant one page of members through adjustPointsBatch; safe to retry (keys make repeats replays)."""
    inputs = [
        {"memberId": m, "points": points, "reason": reason, "idempotencyKey": idempotency_key(run_key, m)}
        for m in member_ids
    ]
    results: list[dict[str, Any]] = execute(GRANT, {"inputs": inputs})["adjustPointsBatch"]
    summary = BonusSummary()
    for member_id, result in zip(member_ids, results, strict=True):
        if result["__typename"] != "AdjustPointsSuccess":
            summary.refused.append(f"{member_id}: {result['__typename']}: {result.get('message')}")
        elif result["replayed"]:
            summary.already_granted += 1
        else:
            summary.granted += 1
    return summary


def _check(points: int, reason: str, run_key: str) -> None:
    if not 0 < points <= 100_000:
        raise ValueError("points must be between 1 and 100000")
    if not reason.strip():
        raise ValueError("reason must not be empty")
    if not RUN_KEY.match(run_key):
        raise ValueError("run_key must be 1–64 characters of letters, digits and . _ -")


@flow(
    name="grant-group-bonus",
    flow_run_name="group-bonus {run_key}",
    description="Grant every member of a WeChat group the same points, once per member for a given run_key.",
    log_prints=True,
)
def grant_group_bonus(group_id: uuid.UUID, points: int, reason: str, run_key: str) -> BonusSummary:
    """Page through the group's members and grant each page in one batch.

    `run_key` names the occasion (e.g. `2026-11-activity-012`): running again with the same key grants nobody
    twice, and a new key is a new grant.
    """
    _check(points, reason, run_key)
    log = get_run_logger()
    summary = BonusSummary()
    after: str | None = None
    page_number = 1
    while True:
        member_ids, after = read_members_page(group_id, after, page_number)
        if member_ids:
            page = grant_batch(member_ids, points, reason, run_key, page_number)
            summary.add(page)
            log.info(
                "page %d: %d members, %d granted, %d already granted, %d refused",
                page_number,
                len(member_ids),
                page.granted,
                page.already_granted,
                len(page.refused),
            )
        if after is None:
            break
        page_number += 1
    log.info(
        "group %s: %d granted, %d already granted, %d refused",
        group_id,
        summary.granted,
        summary.already_granted,
        len(summary.refused),
    )
    for refusal in summary.refused:
        log.warning("refused: %s", refusal)
    return summary
