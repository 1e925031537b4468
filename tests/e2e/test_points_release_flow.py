"""The points-release flow, run by Prefect against the real gateway: orders' pending points become available once
their lock period ends, a page at a time, and a second run releases nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ParameterTypeError

from tests.e2e.factories import make_member_at, make_organisation, wait_for_events
from tests.e2e.test_group_bonus_flow import attempts, final_state, register_client
from tests.e2e.test_points_from_orders import EARNING, RECORD_ORDER, loyalty
from tests.stack import Stack
from yutang_dev.flows_client import FlowsClient
from yutang_flows import points_release
from yutang_flows.gateway import GatewayError
from yutang_flows.points_release import release_points, today


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page task with its retry policy and condition, but no wait between attempts."""
    monkeypatch.setattr(points_release, "release_page", points_release.release_page.with_options(retry_delay_seconds=0))


def record_orders(stack: Stack, ops: str, member_id: str, *paid_fen: int) -> None:
    """Orders recorded through the gateway a minute ago, their points pending once the earning consumer ran."""
    for amount in paid_fen:
        order = {
            "externalId": f"REL-{uuid.uuid4().hex[:10]}",
            "memberId": member_id,
            "storeCode": "S1",
            "channel": "IN_STORE",
            "paidFen": amount,
            "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 1, "unitPriceFen": amount}],
            "occurredAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        }
        recorded = stack.query(RECORD_ORDER, {"i": order}, token=ops).json()["data"]["recordOrder"]
        assert recorded["__typename"] == "RecordOrderSuccess", recorded
    wait_for_events(stack, within=90, consumers=EARNING)


def account(stack: Stack, ops: str, member_id: str) -> tuple[int, int]:
    found: dict[str, Any] = loyalty(stack, ops, member_id)
    return found["pending"], found["balance"]


def test_the_daily_run_releases_due_points_in_pages_and_a_rerun_releases_nothing(
    stack: Stack, ops: str, prefect: FlowsClient
) -> None:
    # given: three orders whose 10 + 20 + 30 points are pending
    make_organisation(stack, ops)
    member_id = make_member_at(stack, ops, "13900000881", "S1")
    record_orders(stack, ops, member_id, 1_000, 2_000, 3_000)
    assert account(stack, ops, member_id) == (60, 0)

    # when: today's run (the lock period has not ended) and then a run as of 8 days later, two orders a page
    early = release_points()
    later = today() + timedelta(days=8)
    released = release_points(as_of=later, page_size=2)
    again = release_points(as_of=later, page_size=2)

    # then: nothing before the lock period ends, then all 60 points in two pages, then nothing twice
    assert (early.as_of, early.orders, early.points, early.pages) == (today(), 0, 0, 1)
    assert (released.as_of, released.orders, released.points, released.pages) == (later, 3, 60, 2)
    assert (again.orders, again.points, again.pages) == (0, 0, 1)
    assert account(stack, ops, member_id) == (0, 60)


def test_each_page_is_a_task_and_logged(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    make_organisation(stack, ops)
    member_id = make_member_at(stack, ops, "13900000882", "S1")
    record_orders(stack, ops, member_id, 1_000, 1_000)

    state = release_points(as_of=today() + timedelta(days=8), page_size=1, return_state=True)

    assert final_state(state).type == StateType.COMPLETED
    as_of = (today() + timedelta(days=8)).isoformat()
    # two pages of one order each, then a third call that finds nothing left
    assert attempts(state) == {f"release page {n} up to {as_of}": 1 for n in (1, 2, 3)}
    assert state.result().orders == 2
    assert account(stack, ops, member_id) == (0, 20)


@pytest.mark.usefixtures("no_retry_delay")
def test_a_client_without_points_release_fails_at_once(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    # given: pending points, and a flows client that may grant points but not release them
    make_organisation(stack, ops)
    member_id = make_member_at(stack, ops, "13900000883", "S1")
    record_orders(stack, ops, member_id, 1_000)
    granter = register_client(stack, ops, "points:write")

    with pytest.MonkeyPatch.context() as env:
        for name, value in granter.env().items():
            env.setenv(name, value)
        state = release_points(as_of=today() + timedelta(days=8), return_state=True)

    # then: failed, not retried, nothing released
    assert final_state(state).type == StateType.FAILED
    with pytest.raises(GatewayError) as error:
        state.result()
    assert "FORBIDDEN" in error.value.codes
    assert len(attempts(state)) == 1
    assert next(iter(attempts(state).values())) == 1
    assert account(stack, ops, member_id) == (10, 0)


@pytest.mark.parametrize("page_size", [0, 100_001])
def test_a_page_size_out_of_range_fails_before_any_call(prefect: FlowsClient, page_size: int) -> None:
    with pytest.raises(ParameterTypeError, match="page_size"):
        release_points(page_size=page_size)
