"""The grant_group_bonus flow, run by Prefect against the real gateway: each member is granted once per run key."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import State, StateType
from prefect.exceptions import ParameterTypeError
from prefect.states import Failed

from tests.e2e.factories import make_group, make_member
from tests.stack import Stack
from tests.support import Tokens
from yutang_dev.flows_client import FlowsClient
from yutang_flows import credentials, group_bonus
from yutang_flows.gateway import GatewayError
from yutang_flows.group_bonus import (
    REFUSED_STATE,
    GrantsRefused,
    UnknownGroup,
    grant_batch,
    grant_group_bonus,
    retry_if_transient,
)

REGISTER_CLIENT = """
mutation($scopes: [String!]!) {
  registerClient(name: "flows e2e", role: SERVICE, scopes: $scopes) {
    __typename ... on ClientSecretSuccess { clientSecret client { clientId } }
  }
}
"""
BALANCE = (
    "query($id: UUID!) { member(id: $id) { loyalty { balance entries(first: 10) { edges { node { reason } } } } } }"
)


def register_client(stack: Stack, ops: str, *scopes: str) -> FlowsClient:
    """A service client registered through the gateway by ops (registerClient)."""
    result = stack.query(REGISTER_CLIENT, {"scopes": list(scopes)}, token=ops).json()["data"]["registerClient"]
    return FlowsClient(result["client"]["clientId"], result["clientSecret"])


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow's tasks with their retry policy and condition, but no wait between attempts."""
    for name in ("read_members_page", "grant_batch"):
        monkeypatch.setattr(group_bonus, name, getattr(group_bonus, name).with_options(retry_delay_seconds=0))


def cached_token(client: FlowsClient, stack: Stack) -> str:
    key = credentials.ClientCredentials(client.client_id, client.client_secret, credentials.token_url(stack.gateway))
    return credentials._cache[key].token


def balance(stack: Stack, ops: str, member_id: str) -> int:
    result = stack.query(BALANCE, {"id": member_id}, token=ops).json()
    return int(result["data"]["member"]["loyalty"]["balance"])


def attempts(state: State[Any]) -> dict[str, int]:
    """How many times each task run of the flow run that ended in `state` ran (1 = never retried)."""
    flow_run = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        return {run.name: run.run_count for run in client.read_task_runs(flow_run_filter=flow_run)}


def final_state(state: State[Any]) -> State[Any]:
    """The flow run's state as the Prefect API (and so the UI) records it."""
    assert state.state_details.flow_run_id is not None
    with get_client(sync_client=True) as client:
        recorded = client.read_flow_run(state.state_details.flow_run_id).state
    assert recorded is not None
    return recorded


def test_running_the_flow_twice_grants_each_member_once(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    members = [make_member(stack, ops, f"1350013500{i}", points=10 * i) for i in range(3)]
    group = make_group(stack, ops, *members)

    first = grant_group_bonus(group_id=group["id"], points=88, reason="群活动奖励", run_key="activity-2026-11")
    second = grant_group_bonus(group_id=group["id"], points=88, reason="群活动奖励", run_key="activity-2026-11")

    assert (first.granted, first.already_granted, first.refused) == (3, 0, [])
    assert (second.granted, second.already_granted, second.refused) == (0, 3, [])
    assert [balance(stack, ops, m) for m in members] == [88, 98, 108]


def test_a_retried_batch_grants_nothing_twice(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    member = make_member(stack, ops, "13400134000")

    first = grant_batch.fn([member], 5, "重试测试", "retry-run", 1)
    retry = grant_batch.fn([member], 5, "重试测试", "retry-run", 1)

    assert (first.granted, retry.granted, retry.already_granted) == (1, 0, 1)
    assert balance(stack, ops, member) == 5


def test_a_new_run_key_is_a_new_grant(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    member = make_member(stack, ops, "13300133000")
    group = make_group(stack, ops, member)

    grant_group_bonus(group_id=group["id"], points=7, reason="第一周", run_key="week-1")
    grant_group_bonus(group_id=group["id"], points=7, reason="第二周", run_key="week-2")

    assert balance(stack, ops, member) == 14


@pytest.mark.parametrize(
    ("points", "run_key", "parameter"),
    [(0, "bad", "points"), (100_001, "bad", "points"), (5, "no spaces allowed", "run_key")],
)
def test_bad_parameters_fail_before_any_grant(
    stack: Stack, ops: str, prefect: FlowsClient, points: int, run_key: str, parameter: str
) -> None:
    member = make_member(stack, ops, f"132001320{points % 10}{len(run_key) % 10}")
    group = make_group(stack, ops, member)

    with pytest.raises(ParameterTypeError, match=parameter):
        grant_group_bonus(group_id=group["id"], points=points, reason="x", run_key=run_key)

    assert balance(stack, ops, member) == 0


@pytest.mark.usefixtures("no_retry_delay")
def test_an_unknown_group_fails_the_run_at_once(prefect: FlowsClient) -> None:
    missing = uuid.uuid4()

    state = grant_group_bonus(group_id=missing, points=5, reason="群活动奖励", run_key="unknown", return_state=True)

    assert final_state(state).type == StateType.FAILED
    with pytest.raises(UnknownGroup, match=f"group {missing} does not exist"):
        state.result()
    assert attempts(state) == {"read members page 1": 1}


@pytest.mark.usefixtures("no_retry_delay")
def test_a_permission_refusal_is_not_retried(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    # given: the flows' client may read groups but not write points
    member = make_member(stack, ops, "13100131000")
    group = make_group(stack, ops, member)
    reader = register_client(stack, ops, "groups:read")

    with pytest.MonkeyPatch.context() as env:
        for name, value in reader.env().items():
            env.setenv(name, value)
        state = grant_group_bonus(
            group_id=group["id"], points=5, reason="群活动奖励", run_key="no-perm", return_state=True
        )

    assert final_state(state).type == StateType.FAILED
    with pytest.raises(GatewayError) as error:
        state.result()
    assert "FORBIDDEN" in error.value.codes
    assert attempts(state) == {"read members page 1": 1, "grant 5 points to page 1": 1}
    assert balance(stack, ops, member) == 0


def test_the_flows_get_one_token_for_their_client_and_reuse_it(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    member = make_member(stack, ops, "13600136000")
    group = make_group(stack, ops, member)

    grant_group_bonus(group_id=group["id"], points=3, reason="群活动奖励", run_key="cached-1")
    token = cached_token(prefect, stack)
    grant_group_bonus(group_id=group["id"], points=3, reason="群活动奖励", run_key="cached-2")

    assert cached_token(prefect, stack) == token
    assert jwt.decode(token, options={"verify_signature": False})["client_id"] == prefect.client_id
    assert balance(stack, ops, member) == 6


def test_a_token_the_gateway_refuses_is_replaced_once(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    # given: the cached token of the flows' client is one the gateway refuses (401)
    member = make_member(stack, ops, "13600136001")
    group = make_group(stack, ops, member)
    client = credentials.ClientCredentials(
        prefect.client_id, prefect.client_secret, credentials.token_url(stack.gateway)
    )
    credentials._cache[client] = credentials._Cached("not-a-token", time.monotonic() + 3600)

    summary = grant_group_bonus(group_id=group["id"], points=4, reason="群活动奖励", run_key="refused-token")

    assert summary.granted == 1
    assert cached_token(prefect, stack) != "not-a-token"


def test_without_a_client_the_flows_use_the_service_token(
    stack: Stack, ops: str, tokens: Tokens, prefect: FlowsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = make_member(stack, ops, "13600136002")
    group = make_group(stack, ops, member)
    monkeypatch.delenv("YUTANG_CLIENT_ID")
    monkeypatch.setenv("YUTANG_SERVICE_TOKEN", tokens.service("groups:read", "points:write"))

    summary = grant_group_bonus(group_id=group["id"], points=2, reason="群活动奖励", run_key="fallback")

    assert summary.granted == 1
    assert balance(stack, ops, member) == 2


@pytest.mark.usefixtures("no_retry_delay")
def test_an_unreachable_gateway_is_retried(prefect: FlowsClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUTANG_GATEWAY_URL", "http://127.0.0.1:9/graphql")  # discard port: connection refused

    state = grant_group_bonus(group_id=uuid.uuid4(), points=5, reason="群活动奖励", run_key="down", return_state=True)

    assert final_state(state).type == StateType.FAILED
    assert attempts(state) == {"read members page 1": 4}  # the first attempt and 3 retries


def test_a_run_with_refused_members_ends_failed_and_counts_them(stack: Stack, ops: str, prefect: FlowsClient) -> None:
    # given: one member already holds this run's key for another amount, so loyalty refuses reusing it
    reused, fresh = make_member(stack, ops, "13000130000"), make_member(stack, ops, "13000130001")
    group = make_group(stack, ops, reused, fresh)
    grant_batch.fn([reused], 5, "群活动奖励", "refusals", 1)

    # when
    state = grant_group_bonus(
        group_id=group["id"], points=7, reason="群活动奖励", run_key="refusals", return_state=True
    )

    # then: not green in the UI, the counts in the message, the grant that could be made is made
    recorded = final_state(state)
    assert (recorded.type, recorded.name) == (StateType.FAILED, REFUSED_STATE)
    assert recorded.message is not None
    assert "1 of 2 members refused (LOYALTY_IDEMPOTENCY_KEY_REUSED: 1)" in recorded.message
    with pytest.raises(GrantsRefused) as error:
        state.result()
    summary = error.value.summary
    assert (summary.granted, summary.already_granted) == (1, 0)
    assert [(r.member_id, r.code) for r in summary.refused] == [(reused, "LOYALTY_IDEMPOTENCY_KEY_REUSED")]
    assert (balance(stack, ops, reused), balance(stack, ops, fresh)) == (5, 7)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (UnknownGroup("group x does not exist"), False),
        (ValueError("points must be between 1 and 100000"), False),
        (GatewayError("forbidden", codes=("FORBIDDEN",)), False),
        (GatewayError("no token", status=401), False),
        (GatewayError("bad request", status=400, codes=("GRAPHQL_VALIDATION_FAILED",)), False),
        (GatewayError("bad gateway", status=502), True),
        (GatewayError("masked", codes=("INTERNAL_SERVER_ERROR",)), True),
        (httpx.ConnectError("connection refused"), True),
    ],
)
def test_only_transient_failures_are_retried(error: Exception, retried: bool) -> None:
    assert retry_if_transient(grant_batch, None, Failed(data=error)) is retried  # type: ignore[arg-type]
