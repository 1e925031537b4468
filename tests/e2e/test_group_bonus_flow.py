"""The grant_group_bonus flow, run by Prefect against the real gateway: each member is granted once per run key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness

from tests.e2e.factories import make_group, make_member
from tests.stack import Stack
from tests.support import Tokens
from yutang_flows.group_bonus import grant_batch, grant_group_bonus

BALANCE = (
    "query($id: UUID!) { member(id: $id) { loyalty { balance entries(first: 10) { edges { node { reason } } } } } }"
)


@pytest.fixture(scope="module")
def prefect(stack: Stack, tokens: Tokens) -> Iterator[None]:
    """A throwaway Prefect API, and the flows' service credential pointed at the test gateway."""
    with pytest.MonkeyPatch.context() as env, prefect_test_harness(server_startup_timeout=120):
        env.setenv("YUTANG_GATEWAY_URL", stack.gateway)
        env.setenv("YUTANG_SERVICE_TOKEN", tokens.service("groups:read", "points:write"))
        yield


def balance(stack: Stack, ops: str, member_id: str) -> int:
    result = stack.query(BALANCE, {"id": member_id}, token=ops).json()
    return int(result["data"]["member"]["loyalty"]["balance"])


def test_running_the_flow_twice_grants_each_member_once(stack: Stack, ops: str, prefect: None) -> None:
    members = [make_member(stack, ops, f"1350013500{i}", points=10 * i) for i in range(3)]
    group = make_group(stack, ops, *members)

    first = grant_group_bonus(group_id=group["id"], points=88, reason="群活动奖励", run_key="activity-2026-11")
    second = grant_group_bonus(group_id=group["id"], points=88, reason="群活动奖励", run_key="activity-2026-11")

    assert (first.granted, first.already_granted, first.refused) == (3, 0, [])
    assert (second.granted, second.already_granted, second.refused) == (0, 3, [])
    assert [balance(stack, ops, m) for m in members] == [88, 98, 108]


def test_a_retried_batch_grants_nothing_twice(stack: Stack, ops: str, prefect: None) -> None:
    member = make_member(stack, ops, "13400134000")

    first = grant_batch.fn([member], 5, "重试测试", "retry-run", 1)
    retry = grant_batch.fn([member], 5, "重试测试", "retry-run", 1)

    assert (first.granted, retry.granted, retry.already_granted) == (1, 0, 1)
    assert balance(stack, ops, member) == 5


def test_a_new_run_key_is_a_new_grant(stack: Stack, ops: str, prefect: None) -> None:
    member = make_member(stack, ops, "13300133000")
    group = make_group(stack, ops, member)

    grant_group_bonus(group_id=group["id"], points=7, reason="第一周", run_key="week-1")
    grant_group_bonus(group_id=group["id"], points=7, reason="第二周", run_key="week-2")

    assert balance(stack, ops, member) == 14


def test_bad_parameters_fail_before_any_grant(stack: Stack, ops: str, prefect: None) -> None:
    member = make_member(stack, ops, "13200132000")
    group = make_group(stack, ops, member)

    with pytest.raises(ValueError, match="points"):
        grant_group_bonus(group_id=group["id"], points=0, reason="x", run_key="bad")

    assert balance(stack, ops, member) == 0
