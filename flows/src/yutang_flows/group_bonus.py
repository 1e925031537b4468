"""Grant every member of a group the same points, once per member per run key (for example a group event)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any

from prefect import flow, task
from prefect.client.schemas.objects import State
from prefect.logging import get_run_logger
from prefect.states import Failed
from pydantic import Field

from yutang_flows.gateway import execute, retry_if_transient

PAGE = 100
MAX_POINTS = 100_000
REASON_MAX = 200  # loyalty's limit on a ledger entry's reason
RUN_KEY_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
RUN_KEY = re.compile(RUN_KEY_PATTERN)
REFUSED_STATE = "PartiallyRefused"

GroupId = Annotated[
    uuid.UUID,
    Field(description="The group's id (a UUID). An unknown group fails the run at once, without retries."),
]
Points = Annotated[
    int,
    Field(ge=1, le=MAX_POINTS, description=f"Points granted to each member: a whole number from 1 to {MAX_POINTS:,}."),
]
Reason = Annotated[
    str,
    Field(
        min_length=1,
        max_length=REASON_MAX,
        description=f"Why, as each member's ledger entry shows it (e.g. 群活动奖励): 1 to {REASON_MAX} characters, "
        "not blank.",
    ),
]
RunKey = Annotated[
    str,
    Field(
        pattern=RUN_KEY_PATTERN,
        description="Names the occasion (e.g. 2026-11-activity-012): 1 to 64 letters, digits, '.', '_' or '-'. "
        "Re-running with the same key grants nobody twice; a new key is a new grant.",
    ),
]

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
    ... on InsufficientPointsError { code }
    ... on IdempotencyKeyReusedError { code }
    ... on InvalidAdjustmentError { code }
  }
}
"""


class UnknownGroup(ValueError):
    """The group does not exist: no retry can change that."""


@dataclass(frozen=True)
class Refusal:
    """One member the loyalty service refused, with its error code (or type name) and message."""

    member_id: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.member_id}: {self.code}: {self.message}"


@dataclass
class BonusSummary:
    """What one run did: granted now, granted by an earlier run or attempt, refused."""

    granted: int = 0
    already_granted: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def add(self, other: BonusSummary) -> None:
        self.granted += other.granted
        self.already_granted += other.already_granted
        self.refused += other.refused

    @property
    def members(self) -> int:
        return self.granted + self.already_granted + len(self.refused)

    def describe(self) -> str:
        """`2 of 120 members refused (LOYALTY_…: 2); 118 granted, 0 already granted`."""
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(Counter(r.code for r in self.refused).items()))
        return (
            f"{len(self.refused)} of {self.members} members refused ({codes}); "
            f"{self.granted} granted, {self.already_granted} already granted"
        )


class GrantsRefused(RuntimeError):
    """The run finished but the loyalty service refused some members; `summary` says who and why."""

    def __init__(self, summary: BonusSummary) -> None:
        super().__init__(summary.describe())
        self.summary = summary


def idempotency_key(run_key: str, member_id: str) -> str:
    """One key per run and member: a retried task or a re-run flow finds its earlier grant."""
    return f"group-bonus:{run_key}:{member_id}"


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="read members page {page_number}",
)
def read_members_page(group_id: uuid.UUID, after: str | None, page_number: int) -> tuple[list[str], str | None]:
    """One page of the group's member ids, and the cursor of the next page (None on the last).

    Raises UnknownGroup (not retried) when the group does not exist.
    """
    data = execute(GROUP_MEMBERS, {"id": str(group_id), "first": PAGE, "after": after})
    group = data["group"]
    if group is None:
        raise UnknownGroup(f"group {group_id} does not exist")
    members = group["members"]
    ids = [edge["node"]["member"]["id"] for edge in members["edges"]]
    return ids, members["pageInfo"]["endCursor"] if members["pageInfo"]["hasNextPage"] else None


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_if_transient,
    task_run_name="grant {points} points to page {page_number}",
)
def grant_batch(member_ids: list[str], points: int, reason: str, run_key: str, page_number: int) -> BonusSummary:
    """Grant one page of members through adjustPointsBatch; safe to retry (keys make repeats replays).

    A member the loyalty service refuses (a union error such as LOYALTY_INVALID_ADJUSTMENT) is counted in
    `refused`, not retried: the same request would be refused again.
    """
    inputs = [
        {"memberId": m, "points": points, "reason": reason, "idempotencyKey": idempotency_key(run_key, m)}
        for m in member_ids
    ]
    results: list[dict[str, Any]] = execute(GRANT, {"inputs": inputs})["adjustPointsBatch"]
    summary = BonusSummary()
    for member_id, result in zip(member_ids, results, strict=True):
        if result["__typename"] != "AdjustPointsSuccess":
            code = result.get("code") or result["__typename"]
            summary.refused.append(Refusal(member_id, code, result.get("message") or ""))
        elif result["replayed"]:
            summary.already_granted += 1
        else:
            summary.granted += 1
    return summary


def _check(points: int, reason: str, run_key: str) -> None:
    """The same limits as the parameters' Field constraints, for callers of `.fn` that bypass Prefect's checks."""
    if not 0 < points <= MAX_POINTS:
        raise ValueError(f"points must be between 1 and {MAX_POINTS}")
    if not reason.strip() or len(reason) > REASON_MAX:
        raise ValueError(f"reason must be 1 to {REASON_MAX} characters and not blank")
    if not RUN_KEY.match(run_key):
        raise ValueError("run_key must be 1–64 characters of letters, digits and . _ -")


@flow(
    name="grant-group-bonus",
    flow_run_name="group-bonus {run_key}",
    description=f"Grant each member of a WeChat group the same points (1 to {MAX_POINTS:,}), once per run_key.",
    log_prints=True,
)
def grant_group_bonus(group_id: GroupId, points: Points, reason: Reason, run_key: RunKey) -> BonusSummary | State[Any]:
    """Page through the group's members and grant each page in one batch.

    Args:
        group_id: the group's id (a UUID); an unknown group fails the run at once, without retries.
        points: points for each member, 1 to 100,000.
        reason: the ledger entry's reason, 1 to 200 characters, not blank.
        run_key: names the occasion (e.g. `2026-11-activity-012`), 1 to 64 of letters, digits, `.`, `_`, `-`.
            Running again with the same key grants nobody twice; a new key is a new grant.

    How a run ends, as the Prefect UI shows it:
        - Completed (green): every member is granted now or was granted by an earlier run with this key.
        - Failed, named "PartiallyRefused" (red): the run went through every page, but the loyalty service
          refused some members (e.g. LOYALTY_IDEMPOTENCY_KEY_REUSED when the key was used before with other
          points or reason). The message gives the counts per code; each refusal is logged as a warning. A
          Completed state with a custom name would still be green, and would not trigger the failure
          notifications operators rely on, so refusals use the FAILED type. The grants that were made stand;
          fix the cause and re-run with the same key: nobody is granted twice.
        - Failed (red): a parameter is out of range, the group does not exist or the flows' credential lacks a
          permission; these fail at once, since a retry cannot fix them. Network errors and 5xx answers are
          retried (3 times per task).
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
    if not summary.refused:
        return summary
    for refusal in summary.refused:
        log.warning("refused: %s", refusal)
    return Failed(name=REFUSED_STATE, message=summary.describe(), data=GrantsRefused(summary))
