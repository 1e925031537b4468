"""VIP graduation over many basic-group members: the `vip-graduation` flow run by Prefect beside the same gateway
calls made without Prefect (goal: Prefect's overhead ≤ 20 %).

Seeded straight into community's tables (the directory, basic groups of 400 opened five months ago, one community
per group, and an order fact for every tenth member so a tenth qualify), then for each side: every basic group's
members in batches of 500 through `graduateVipMembers`, one VIP group planned per community and an invitation per
qualifying member. Between runs the invitations and planned groups are deleted, so each run does the same work.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]

from community.groups.rules import add_months
from yutang_dev.keys import KeyPaths
from yutang_dev.stack import Ports
from yutang_shared.auth import Role, issue_token

GROUP_SIZE = 400
T = TypeVar("T")
QUALIFY_EVERY = 10


async def seed(dsn: str, members: int, as_of: date) -> int:
    """`members` members in ceil(members / 400) active basic groups; every tenth with a ¥600 order. Groups made."""
    opened = add_months(as_of, -5)
    groups = -(-members // GROUP_SIZE)
    group_ids = [uuid.uuid4() for _ in range(groups)]
    member_ids = [uuid.uuid4() for _ in range(members)]
    paid_at = datetime.combine(as_of, datetime.min.time(), UTC) - timedelta(days=10)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.copy_records_to_table(
                "member_directory",
                schema_name="community",
                columns=["member_id", "status", "registered_at"],
                records=[(m, "active", paid_at) for m in member_ids],
            )
            await connection.copy_records_to_table(
                "groups",
                schema_name="community",
                columns=[
                    "id",
                    "name",
                    "type",
                    "scope_kind",
                    "scope_name",
                    "sequence",
                    "capacity",
                    "member_count",
                    "status",
                    "chat_id",
                    "opened_on",
                    "joined_total",
                ],
                records=[
                    (
                        g,
                        f"001·社区{n}·Bench",
                        "basic",
                        "community",
                        f"社区{n}",
                        1,
                        GROUP_SIZE,
                        min(GROUP_SIZE, members - n * GROUP_SIZE),
                        "active",
                        f"bench-{g}",
                        opened,
                        min(GROUP_SIZE, members - n * GROUP_SIZE),
                    )
                    for n, g in enumerate(group_ids)
                ],
            )
            await connection.copy_records_to_table(
                "group_members",
                schema_name="community",
                columns=["group_id", "member_id", "channel"],
                records=[(group_ids[i // GROUP_SIZE], m, "store_qr") for i, m in enumerate(member_ids)],
            )
            await connection.copy_records_to_table(
                "order_facts",
                schema_name="community",
                columns=["order_id", "member_id", "paid_fen", "paid_at"],
                records=[(uuid.uuid4(), m, 60_000, paid_at) for m in member_ids[::QUALIFY_EVERY]],
            )
    finally:
        await connection.close()
    return groups


async def reset(dsn: str) -> tuple[int, int]:
    """Delete what a run made (invitation and create-group tasks, planned groups); (tasks, groups) deleted."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            tasks = await connection.fetchval(
                "WITH d AS (DELETE FROM community.operator_tasks RETURNING 1) SELECT count(*) FROM d"
            )
            groups = await connection.fetchval(
                "WITH d AS (DELETE FROM community.groups WHERE status = 'planned' RETURNING 1) SELECT count(*) FROM d"
            )
    finally:
        await connection.close()
    return int(tasks), int(groups)


def without_prefect(as_of: date) -> dict[str, int]:
    """The flow's gateway calls in the flow's order, as plain functions (no Prefect run, no task per shard)."""
    from yutang_flows.lifecycle import list_groups
    from yutang_flows.vip_graduation import graduate_one, shards

    totals = {"groups": 0, "scanned": 0, "created": 0, "unchanged": 0}
    for shard in shards(_retried(list_groups.fn, "BASIC", as_of)):
        for group in shard:
            totals["groups"] += 1
            for key, value in _retried(graduate_one, group, as_of).items():
                totals[key] += value
    return totals


def _retried(call: Callable[..., T], *args: Any) -> T:
    """The call with the flow tasks' retry policy (3 retries after 1, 5 and 15 s, only for transient errors), so
    both sides survive the same hiccups."""
    from yutang_flows.gateway import is_permanent

    for delay in (1, 5, 15, None):
        try:
            return call(*args)
        except Exception as error:
            if delay is None or is_permanent(error):
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def with_prefect(as_of: date) -> dict[str, int]:
    from yutang_flows.vip_graduation import vip_graduation

    result: dict[str, int] = vip_graduation(as_of=as_of)
    return result


async def measure_graduation(*, ports: Ports, keys: KeyPaths, dsn: str, members: int, rounds: int = 2) -> list[str]:
    """Seed, then alternate the plain calls and the Prefect flow `rounds` times each; report lines."""
    from prefect.testing.utilities import prefect_test_harness

    as_of = date.today()
    groups = await seed(dsn, members, as_of)
    os.environ["YUTANG_GATEWAY_URL"] = f"http://127.0.0.1:{ports.gateway}/graphql"
    os.environ["YUTANG_SERVICE_TOKEN"] = issue_token(
        keys.jwt_private.read_text(),
        subject="bench-flows",
        role=Role.SERVICE,
        scopes=["groups:read", "groups:write"],
        extra={"rl_s": 1_000_000, "rl_d": 1_000_000_000},
    )
    os.environ.pop("YUTANG_CLIENT_ID", None)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    times: dict[str, list[float]] = {"plain": [], "prefect": []}
    outcomes: dict[str, dict[str, int]] = {}
    with prefect_test_harness(server_startup_timeout=120):
        for _ in range(rounds):
            for name, run in (("plain", without_prefect), ("prefect", with_prefect)):
                outcomes[name] = await asyncio.to_thread(_timed, run, as_of, times[name])
                await reset(dsn)
    if outcomes["plain"] != outcomes["prefect"]:
        raise RuntimeError(f"the two sides did different work: {outcomes}")
    plain, flow = statistics.median(times["plain"]), statistics.median(times["prefect"])
    done = outcomes["prefect"]
    return [
        f"{members:,} members in {groups} basic groups: {done['scanned']:,} scanned, {done['created']:,} invitations "
        f"({done['groups']} groups in months 4–6)",
        f"without Prefect: {plain:.1f} s (runs {', '.join(f'{t:.1f}' for t in times['plain'])})",
        f"vip-graduation flow: {flow:.1f} s (runs {', '.join(f'{t:.1f}' for t in times['prefect'])})",
        f"Prefect overhead: {flow / plain - 1:+.0%} (goal ≤ +20 %)",
    ]


def _timed(run: Callable[[date], dict[str, Any]], as_of: date, into: list[float]) -> dict[str, int]:
    started = time.perf_counter()
    outcome = run(as_of)
    into.append(time.perf_counter() - started)
    return outcome
