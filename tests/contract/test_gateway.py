"""schemathesis once through the running gateway (three subgraph processes and Hive Gateway): no server errors.

Fewer examples than the in-process subgraph run: every call crosses four processes. Marked e2e like the other
tests that start the stack.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.graphql.schemas import GraphQLSchema

from tests.contract.conftest import EXAMPLES, GATEWAY_SETTINGS, MEMBER_ONLY
from tests.stack import Stack
from tests.support import Tokens

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def ops_headers(tokens: Tokens) -> dict[str, str]:
    return {"authorization": f"Bearer {tokens.ops()}"}


@pytest.fixture(scope="session")
def gateway_schema(stack: Stack, ops_headers: dict[str, str]) -> GraphQLSchema:
    """The supergraph as the gateway publishes it to an ops caller."""
    return schemathesis.graphql.from_url(stack.gateway, headers=ops_headers, timeout=30)


schema = schemathesis.pytest.from_fixture("gateway_schema")


@GATEWAY_SETTINGS
@schema.parametrize()
def test_no_server_errors_through_the_gateway(
    case: schemathesis.Case, ops_headers: dict[str, str], tokens: Tokens
) -> None:
    EXAMPLES[f"gateway {case.operation.label}"] += 1
    member = {"authorization": f"Bearer {tokens.member(uuid.uuid4())}"}
    headers = member if case.operation.label in MEMBER_ONLY else ops_headers
    case.call_and_validate(headers=headers, timeout=30, excluded_checks=[positive_data_acceptance])
