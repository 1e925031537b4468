"""schemathesis against each subgraph, in-process, behind its real trust check: no server errors.

Each subgraph gets its own app instance with `pool_size=0` (NullPool): schemathesis drives the app from its own
event loop thread, so no pooled connection may outlive a call. Expected failures must be union members or
validation errors without a path; anything else is a server error and fails the test.
"""

from __future__ import annotations

import importlib
import uuid

import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.graphql.schemas import GraphQLSchema
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.contract.conftest import EXAMPLES, MEMBER_ONLY, SUBGRAPH_SETTINGS, SignedLikeTheGateway
from tests.support import Tokens


@pytest.fixture(scope="session", params=["members", "loyalty", "community"])
def subgraph_schema(request: pytest.FixtureRequest, engine: AsyncEngine, tokens: Tokens) -> GraphQLSchema:
    """One subgraph's schema, introspected through its own signed app instance (the database is migrated)."""
    service: str = request.param
    settings_class = getattr(importlib.import_module(f"{service}.config"), f"{service.capitalize()}Settings")
    settings = settings_class(pool_size=0)
    app = importlib.import_module(f"{service}.app").create_app(settings=settings)
    wrapped = SignedLikeTheGateway(app, service=service, secret=tokens.secret, token=tokens.ops())
    return schemathesis.graphql.from_asgi("/graphql", wrapped)


# `_entities` and `_service` are hidden by default (they belong to federation); the gateway calls them, so do we.
schema = schemathesis.pytest.from_fixture("subgraph_schema").include(lambda ctx: True)


@SUBGRAPH_SETTINGS
@schema.parametrize()
def test_no_server_errors(case: schemathesis.Case, tokens: Tokens) -> None:
    # Positive cases carry junk scalars on purpose (refused by validation), so "positive data is accepted"
    # does not apply; every other default check does.
    EXAMPLES[f"{case.operation.schema.app.service} {case.operation.label}"] += 1
    member = {"authorization": f"Bearer {tokens.member(uuid.uuid4())}"}
    headers = member if case.operation.label in MEMBER_ONLY else None
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
