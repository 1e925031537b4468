"""VIP graduation (daily): members of basic groups in months 4–6 who qualify are invited into VIP groups of the same
scope; a new VIP group is planned when those are full. Idempotent: invitations carry deterministic keys."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.logging import get_run_logger

from yutang_flows.gateway import execute, retry_if_transient
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


GROUPS_PER_TASK = 5
"""Groups one task graduates: a task is seconds of work, so Prefect's cost per task run stays small beside it."""


def graduate_one(group: dict[str, Any], as_of: date, log: Any = None) -> dict[str, int]:
    """Every batch of one basic group's members through `graduateVipMembers`; the group's totals."""
    totals = {"scanned": 0, "created": 0, "unchanged": 0}
    after: str | None = None
    while True:
        data = execute(GRADUATE, {"group": group["id"], "asOf": as_of.isoformat(), "first": BATCH, "after": after})
        batch = payload(data, "graduateVipMembers", "LifecycleBatchSuccess")
        for key in totals:
            totals[key] += batch[key]
        after = batch["nextAfter"]
        if after is None:
            break
    if log is not None:
        log.info(
            "%s: %d scanned, %d invited now, %d already invited",
            group["name"],
            totals["scanned"],
            totals["created"],
            totals["unchanged"],
        )
    return totals


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="graduate groups {first_group}…",
)
def graduate_groups(groups: list[dict[str, Any]], as_of: date, first_group: str) -> dict[str, int]:
    """A shard of basic groups, one after the other; safe to retry (the invitations' keys make repeats no-ops)."""
    log = get_run_logger()
    totals = {"scanned": 0, "created": 0, "unchanged": 0}
    for group in groups:
        for key, value in graduate_one(group, as_of, log).items():
            totals[key] += value
    return totals


def shards(groups: list[dict[str, Any]], size: int = GROUPS_PER_TASK) -> list[list[dict[str, Any]]]:
    """The basic groups in months 4–6, `size` to a shard."""
    layer = [g for g in groups if g["phase"] == "LAYER"]
    return [layer[i : i + size] for i in range(0, len(layer), size)]


@flow(name="vip-graduation", flow_run_name="vip-graduation {as_of}", log_prints=True)
def vip_graduation(as_of: date | None = None) -> dict[str, int]:
    """Invite qualified members of basic groups in months 4–6 into VIP groups of their scope.

    Args:
        as_of: the day to act for (default today); any day, to simulate.
    """
    day = today_if_none(as_of)
    log = get_run_logger()
    totals = {"groups": 0, "scanned": 0, "created": 0, "unchanged": 0}
    found = shards(list_groups("BASIC", day))
    for number, shard in enumerate(found, 1):
        done = graduate_groups(shard, day, shard[0]["name"])
        totals["groups"] += len(shard)
        for key, value in done.items():
            totals[key] += value
        log.info("shard %d of %d: %d groups, %d invited now so far", number, len(found), len(shard), totals["created"])
    log.info("vip-graduation %s: %s", day, totals)
    return totals
