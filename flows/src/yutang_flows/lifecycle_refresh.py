"""Refresh every member's RFM, lifecycle stage and automatic tags as of a date, shard by shard, through the
gateway (nightly). Idempotent: the same as_of twice gives the same stages, histories and tags, and no new
member.stage-changed events (the members service writes those with each shard's refresh, through its outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.logging import get_run_logger
from pydantic import Field

from yutang_flows.gateway import GatewayError, execute, retry_if_transient

BRAND_ZONE = ZoneInfo("Asia/Shanghai")
MAX_SHARDS = 1024

AsOf = Annotated[
    date | None,
    Field(
        description="The date (Asia/Shanghai) to compute as of, e.g. 2026-11-30; empty: yesterday, the last "
        "complete day. A date after today fails the run at once."
    ),
]
Shards = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_SHARDS,
        description=f"How many pieces to split the members into (1 to {MAX_SHARDS}); each is one task of a few "
        "seconds to a minute. Any number gives the same result.",
    ),
]

REFRESH = """
mutation RefreshInsights($asOf: Date!, $shard: Int!, $shards: Int!) {
  refreshInsights(asOf: $asOf, shard: $shard, shards: $shards) {
    __typename
    ... on RefreshInsightsSuccess { members transitions events }
    ... on Error { message }
  }
}
"""

APPLY_TAGS = """
mutation ApplyAutomaticTags($asOf: Date!) {
  applyAutomaticTags(asOf: $asOf) {
    __typename
    ... on ApplyAutomaticTagsSuccess { tags applied removed }
    ... on Error { message }
  }
}
"""


class RefreshRefused(ValueError):
    """The members service refused the refresh (a date after today, a bad shard): no retry can change that."""


@dataclass
class RefreshSummary:
    """What one run did: members recomputed, stage transitions and events written, automatic tags changed."""

    as_of: date
    members: int = 0
    transitions: int = 0
    events: int = 0
    tags: int = 0
    tags_applied: int = 0
    tags_removed: int = 0
    shards: list[int] = field(default_factory=list)


def yesterday() -> date:
    """The last complete day in the brand's zone."""
    return datetime.now(BRAND_ZONE).date() - timedelta(days=1)


def _payload(data: dict[str, Any], name: str, success: str) -> dict[str, Any]:
    result: dict[str, Any] = data[name]
    if result["__typename"] != success:
        raise RefreshRefused(f"{result['__typename']}: {result.get('message', '')}")
    return result


@task(
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=retry_if_transient,
    task_run_name="refresh shard {shard} of {shards}",
)
def refresh_shard(as_of: date, shard: int, shards: int) -> dict[str, int]:
    """One shard's refresh (set-based in the members database); safe to retry: the same date recomputes the
    same result and writes no second transition or event."""
    data = execute(REFRESH, {"asOf": as_of.isoformat(), "shard": shard, "shards": shards})
    result = _payload(data, "refreshInsights", "RefreshInsightsSuccess")
    return {key: int(result[key]) for key in ("members", "transitions", "events")}


@task(retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=retry_if_transient)
def apply_automatic_tags(as_of: date) -> dict[str, int]:
    """Re-evaluate every enabled automatic tag rule over the refreshed facts; safe to retry (set-based)."""
    result = _payload(
        execute(APPLY_TAGS, {"asOf": as_of.isoformat()}), "applyAutomaticTags", "ApplyAutomaticTagsSuccess"
    )
    return {key: int(result[key]) for key in ("tags", "applied", "removed")}


@flow(
    name="lifecycle-refresh",
    flow_run_name="lifecycle-refresh {as_of}",
    description="Refresh RFM, lifecycle stages (with member.stage-changed events) and automatic tags as of a date.",
    log_prints=True,
)
def lifecycle_refresh(as_of: AsOf = None, shards: Shards = 4) -> RefreshSummary:
    """Run every shard's refresh, then the automatic tags.

    Args:
        as_of: the date (Asia/Shanghai) to compute as of; None: yesterday. A date after today fails at once.
        shards: how many pieces to split the members into, 1 to 1024 (the result does not depend on it).

    Ends Completed with the counts; Failed when the members service refuses (not retried) or a shard keeps
    failing after 3 retries. Re-running the same as_of is safe and changes nothing the first run did.
    """
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be between 1 and {MAX_SHARDS}")
    day = as_of or yesterday()
    log = get_run_logger()
    summary = RefreshSummary(as_of=day)
    for shard in range(shards):
        counts = refresh_shard(day, shard, shards)
        summary.members += counts["members"]
        summary.transitions += counts["transitions"]
        summary.events += counts["events"]
        summary.shards.append(shard)
        log.info(
            "shard %d/%d: %d members, %d stage transitions, %d events (%d members so far)",
            shard + 1,
            shards,
            counts["members"],
            counts["transitions"],
            counts["events"],
            summary.members,
        )
    tags = apply_automatic_tags(day)
    summary.tags, summary.tags_applied, summary.tags_removed = tags["tags"], tags["applied"], tags["removed"]
    log.info(
        "%s: %d members, %d transitions, %d events; %d automatic tags: %d applied, %d removed",
        day,
        summary.members,
        summary.transitions,
        summary.events,
        summary.tags,
        summary.tags_applied,
        summary.tags_removed,
    )
    return summary


__all__ = ["GatewayError", "RefreshRefused", "RefreshSummary", "lifecycle_refresh"]
