"""The loyalty subgraph schema."""

from __future__ import annotations

from loyalty.graphql.errors import HANDLERS
from loyalty.graphql.mutations import Mutation
from loyalty.graphql.queries import Query
from loyalty.graphql.types import Member
from yutang_shared.graphql import Schema, schema_extensions

schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Member],
    federation_version="2.9",
    extensions=schema_extensions(),
    exception_handlers=HANDLERS,
)
