"""VIP monthly review (月度核查, monthly): warn VIP members who no longer qualify, remove them after the grace
period (to their buffer group when the setting says so). Idempotent: warnings and removals carry keys."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.logging import get_run_logger

from yutang_flows.gateway import execute, retry_if_transient
from yutang_flows.lifecycle import BATCH, list_groups, payload, today_if_none

REVIEW = """
mutation Review($group: UUID!, $asOf: Date!, $first: Int!, $after: UUID) {
  reviewVipMembers(groupId: $group, asOf: $asOf, first: $first, after: $after) {
    __typename
    ... on LifecycleBatchSuccess { scanned created unchanged skipped nextAfter }
    ... on Error { message }
  }
}
"""


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="review {group_name} from {after}",
)
def review_group(group_id: str, group_name: str, as_of: date, after: str | None) -> dict[str, Any]:
    """One batch of a VIP group's members; safe to retry."""
    data = execute(REVIEW, {"group": group_id, "asOf": as_of.isoformat(), "first": BATCH, "after": after})
    return payload(data, "reviewVipMembers", "LifecycleBatchSuccess")


@flow(name="vip-monthly-review", flow_run_name="vip-monthly-review {as_of}", log_prints=True)
def vip_monthly_review(as_of: date | None = None) -> dict[str, int]:
    """Warn, then after the grace remove, VIP members who no longer meet the entry rule.

    Args:
        as_of: the day to act for (default today); any day, to simulate.
    """
    day = today_if_none(as_of)
    log = get_run_logger()
    totals = {"groups": 0, "scanned": 0, "created": 0, "unchanged": 0}
    for group in list_groups("VIP", day):
        totals["groups"] += 1
        after: str | None = None
        while True:
            batch = review_group(group["id"], group["name"], day, after)
            for key in ("scanned", "created", "unchanged"):
                totals[key] += batch[key]
            log.info(
                "%s: %d scanned, %d tasks now, %d unchanged",
                group["name"],
                batch["scanned"],
                batch["created"],
                batch["unchanged"],
            )
            after = batch["nextAfter"]
            if after is None:
                break
    log.info("vip-monthly-review %s: %s", day, totals)
    return totals
