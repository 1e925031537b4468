"""Every day: make available the pending points of orders whose lock period has ended (releasePendingPoints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.logging import get_run_logger
from pydantic import Field

from yutang_flows.gateway import execute, retry_if_transient

PAGE = 5_000  # orders per releasePendingPoints call: a few seconds of work, well inside a request's timeout
MAX_PAGE = 100_000  # loyalty's cap on `limit`
LOCAL = ZoneInfo("Asia/Shanghai")

AsOf = Annotated[
    date | None,
    Field(
        description="Release the orders whose lock period ends on or before this date (YYYY-MM-DD, inclusive). "
        "Default: today in Asia/Shanghai. A past date releases nothing a later date would not; re-running the same "
        "date releases nothing twice."
    ),
]
PageSize = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_PAGE,
        description=f"Orders released per call to the loyalty service, 1 to {MAX_PAGE:,} (default {PAGE:,}).",
    ),
]

RELEASE = """
mutation ReleasePendingPoints($asOf: Date!, $limit: Int!) {
  releasePendingPoints(asOf: $asOf, limit: $limit) { asOf orders points more }
}
"""


@dataclass(frozen=True)
class ReleasedPage:
    """What one call released, and whether more may be due."""

    orders: int
    points: int
    more: bool


@dataclass(frozen=True)
class ReleaseSummary:
    """What one run released, up to which date, in how many calls."""

    as_of: date
    orders: int
    points: int
    pages: int


def today() -> date:
    """The local date in Asia/Shanghai (the loyalty service's default `asOf`)."""
    return datetime.now(UTC).astimezone(LOCAL).date()


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="release page {page_number} up to {as_of}",
)
def release_page(as_of: date, limit: int, page_number: int) -> ReleasedPage:
    """Release up to `limit` due orders through the gateway. Safe to retry: loyalty releases each order once (a
    retried call after a lost answer finds those orders released and goes on with the next)."""
    data: dict[str, Any] = execute(RELEASE, {"asOf": as_of.isoformat(), "limit": limit})["releasePendingPoints"]
    return ReleasedPage(orders=int(data["orders"]), points=int(data["points"]), more=bool(data["more"]))


@flow(
    name="points-release",
    flow_run_name="points-release {as_of}",
    description="Make available the pending points of every order whose lock period ended on or before as_of "
    "(default today, Asia/Shanghai); pages of page_size orders, each released once.",
    log_prints=True,
)
def release_points(as_of: AsOf = None, page_size: PageSize = PAGE) -> ReleaseSummary:
    """Call releasePendingPoints(asOf, limit: page_size) until it says nothing due is left.

    Args:
        as_of: release what is due on or before this date (inclusive); default today in Asia/Shanghai.
        page_size: orders per call, 1 to 100,000.

    Idempotent: the loyalty service releases each order once, so a re-run, a retried page or two runs at the same
    time release nothing twice (the second finds the orders released). Each page is logged with its orders and
    points; the run's total at the end. A permission refusal (the flows' client lacks points:release) or a bad
    parameter fails at once; network errors and 5xx answers are retried, 3 times per page.
    """
    if not 1 <= page_size <= MAX_PAGE:  # the Field limits, for callers of `.fn` that bypass Prefect's checks
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
    day = as_of or today()
    log = get_run_logger()
    log.info("releasing pending points due on or before %s, %d orders a call", day, page_size)
    orders = points = pages = 0
    while True:
        pages += 1
        page = release_page(day, page_size, pages)
        orders, points = orders + page.orders, points + page.points
        log.info(
            "page %d: %d orders, %d points released (%d orders, %d points so far)",
            pages,
            page.orders,
            page.points,
            orders,
            points,
        )
        if not page.more or not page.orders:
            break
    log.info("released %d orders, %d points, up to %s in %d calls", orders, points, day, pages)
    return ReleaseSummary(as_of=day, orders=orders, points=points, pages=pages)
