"""VIP graduation (daily): members of basic groups in months 4–6 who qualify are invited into VIP groups of the same
scope; a new VIP group is planned when those are full. Idempotent: invitations carry deterministic keys."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.logging import get_run_logger

from yutang_flows.gateway import execute
from yutang_flows.group_bonus import retry_if_transient
from yutang_flows.lifecycle import BATCH, list_groups, payload, today_if_none

GRADUATE = """
mutation Graduate($group: UUID!, $asOf: Date!, $first: Int!, $after: UUID) {
  graduateVipMembers(groupId: $group, asOf: $asOf, first: $first, after: $after) {
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
    task_run_name="graduate {group_name} from {after}",
)
def graduate_group(group_id: str, group_name: str, as_of: date, after: str | None) -> dict[str, Any]:
    """One batch of a basic group's members; safe to retry (the invitations' keys make repeats no-ops)."""
    data = execute(GRADUATE, {"group": group_id, "asOf": as_of.isoformat(), "first": BATCH, "after": after})
    return payload(data, "graduateVipMembers", "LifecycleBatchSuccess")


@flow(name="vip-graduation", flow_run_name="vip-graduation {as_of}", log_prints=True)
def vip_graduation(as_of: date | None = None) -> dict[str, int]:
    """Invite qualified members of basic groups in months 4–6 into VIP groups of their scope.

    Args:
        as_of: the day to act for (default today); any day, to simulate.
    """
    day = today_if_none(as_of)
    log = get_run_logger()
    totals = {"groups": 0, "scanned": 0, "created": 0, "unchanged": 0}
    for group in list_groups("BASIC", day):
        if group["phase"] != "LAYER":
            continue
        totals["groups"] += 1
        after: str | None = None
        while True:
            batch = graduate_group(group["id"], group["name"], day, after)
            for key in ("scanned", "created", "unchanged"):
                totals[key] += batch[key]
            log.info(
                "%s: %d scanned, %d invited now, %d already invited",
                group["name"],
                batch["scanned"],
                batch["created"],
                batch["unchanged"],
            )
            after = batch["nextAfter"]
            if after is None:
                break
    log.info("vip-graduation %s: %s", day, totals)
    return totals
