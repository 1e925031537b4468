"""Basic-group sunset (daily): month 7 the dissolution notice (offering the warehouse's buffer group); month 8 the
members move to the buffer group in weekly batches and the group is dissolved in the last week. Idempotent."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.logging import get_run_logger

from yutang_flows.gateway import execute, retry_if_transient
from yutang_flows.lifecycle import list_groups, payload, today_if_none

SUNSET = """
mutation Sunset($group: UUID!, $asOf: Date!) {
  sunsetBasicGroup(groupId: $group, asOf: $asOf) {
    __typename
    ... on SunsetBasicGroupSuccess { created unchanged week }
    ... on Error { message }
  }
}
"""
EXPIRE = "mutation Expire($asOf: Date!) { expireTasks(asOf: $asOf) { expired } }"


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="sunset {group_name}",
)
def sunset_group(group_id: str, group_name: str, as_of: date) -> dict[str, Any]:
    """The day's sunset tasks for one group; safe to retry (keys)."""
    return payload(
        execute(SUNSET, {"group": group_id, "asOf": as_of.isoformat()}), "sunsetBasicGroup", "SunsetBasicGroupSuccess"
    )


@task(retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=retry_if_transient)
def expire_tasks(as_of: date) -> int:
    """Expire notices and warnings whose due date passed."""
    return int(execute(EXPIRE, {"asOf": as_of.isoformat()})["expireTasks"]["expired"])


@flow(name="basic-group-sunset", flow_run_name="basic-group-sunset {as_of}", log_prints=True)
def basic_group_sunset(as_of: date | None = None) -> dict[str, int]:
    """Notice in month 7, weekly moves to the buffer group and the dissolve task in month 8.

    Args:
        as_of: the day to act for (default today); any day, to simulate.
    """
    day = today_if_none(as_of)
    log = get_run_logger()
    totals = {"groups": 0, "created": 0, "unchanged": 0, "expired": expire_tasks(day)}
    for group in list_groups("BASIC", day):
        if group["phase"] not in ("NOTICE", "DISSOLVE"):
            continue
        result = sunset_group(group["id"], group["name"], day)
        totals["groups"] += 1
        totals["created"] += result["created"]
        totals["unchanged"] += result["unchanged"]
        log.info(
            "%s (month %s, week %s): %d tasks now, %d already there",
            group["name"],
            group["monthsOpen"],
            result["week"],
            result["created"],
            result["unchanged"],
        )
    log.info("basic-group-sunset %s: %s", day, totals)
    return totals
