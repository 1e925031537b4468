"""What the community lifecycle flows share: reading groups page by page, the batch tasks, the asOf default."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task

from yutang_flows.gateway import execute, retry_if_transient

PAGE = 100
BATCH = 500

GROUPS = """
query LifecycleGroups($type: GroupType!, $first: Int!, $after: Cursor, $asOf: Date!) {
  groups(type: $type, status: ACTIVE, first: $first, after: $after) {
    edges { node { id name phase(asOf: $asOf) monthsOpen(asOf: $asOf) } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def today_if_none(as_of: date | None) -> date:
    """The day a run acts for: `as_of`, else today."""
    return as_of or date.today()


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="list {group_type} groups",
)
def list_groups(group_type: str, as_of: date) -> list[dict[str, Any]]:
    """Every active group of a type with its phase on `as_of` (pages of 100 through the gateway)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        data = execute(GROUPS, {"type": group_type, "first": PAGE, "after": after, "asOf": as_of.isoformat()})
        page = data["groups"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def payload(data: dict[str, Any], field: str, success: str) -> dict[str, Any]:
    """The mutation's payload; a union error becomes a ValueError (not retried: the same call fails again)."""
    result: dict[str, Any] = data[field]
    if result["__typename"] != success:
        raise ValueError(f"{field}: {result.get('code') or result['__typename']}: {result.get('message')}")
    return result
