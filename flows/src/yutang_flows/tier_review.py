"""The monthly tier review: re-qualify every member, start grace below their level, downgrade when it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.logging import get_run_logger
from pydantic import Field

from yutang_flows.gateway import execute, retry_if_transient

LOCAL = ZoneInfo("Asia/Shanghai")

REVIEW = """
mutation Review($asOf: Date!, $after: UUID, $members: Int!) {
  reviewTiers(asOf: $asOf, after: $after, members: $members) {
    reviewed upgraded downgraded graceStarted nextAfter
  }
}
"""

AsOf = Annotated[
    date | None, Field(description="The local (Asia/Shanghai) date to review for; its month is the review period.")
]
MembersPerCall = Annotated[int, Field(ge=1, le=500, description="Members per reviewTiers call, 1 to 500.")]


@dataclass
class ReviewSummary:
    """What one run did."""

    as_of: date
    batches: int = 0
    reviewed: int = 0
    upgraded: int = 0
    downgraded: int = 0
    grace_started: int = 0


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="review batch {batch}",
)
def review_batch(as_of: date, after: str | None, members: int, batch: int) -> dict[str, int | str | None]:
    """Review one batch of members after `after`. Safe to retry: a member reviewed in the period is skipped."""
    variables = {"asOf": as_of.isoformat(), "after": after, "members": members}
    result: dict[str, int | str | None] = execute(REVIEW, variables)["reviewTiers"]
    return result


@flow(name="tier-review", flow_run_name="tier-review {as_of}", log_prints=True)
def tier_review(as_of: AsOf = None, members_per_call: MembersPerCall = 200) -> ReviewSummary:
    """Re-qualify every member on the 12 months up to `as_of`: upgrade those above their level, start a grace
    period (the notice) for those below it, downgrade those whose grace has ended.

    Args:
        as_of: the local date (Asia/Shanghai) to review for, default today; its month is the review period.
        members_per_call: members per reviewTiers call, one transaction each (1 to 500).

    Idempotent per review period: a member already reviewed in the month of `as_of` is skipped, so a re-run or
    a retried batch changes nothing twice.
    """
    day = as_of or datetime.now(UTC).astimezone(LOCAL).date()
    log = get_run_logger()
    summary = ReviewSummary(as_of=day)
    after: str | None = None
    while True:
        summary.batches += 1
        result = review_batch(day, after, members_per_call, summary.batches)
        summary.reviewed += int(result["reviewed"] or 0)
        summary.upgraded += int(result["upgraded"] or 0)
        summary.downgraded += int(result["downgraded"] or 0)
        summary.grace_started += int(result["graceStarted"] or 0)
        log.info("batch %d: %s", summary.batches, result)
        after = result["nextAfter"]  # type: ignore[assignment]
        if after is None:
            break
    log.info(
        "tier review %s: %d reviewed, %d up, %d down, %d grace started",
        day,
        summary.reviewed,
        summary.upgraded,
        summary.downgraded,
        summary.grace_started,
    )
    return summary
