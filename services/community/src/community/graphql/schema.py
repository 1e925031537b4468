"""The community subgraph schema."""

from __future__ import annotations

from community.graphql.errors import HANDLERS
from community.graphql.mutations import Mutation
from community.graphql.queries import Query
from community.graphql.types import Member
from yutang_shared.graphql import Schema, schema_extensions

schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Member],
    federation_version="2.9",
    extensions=schema_extensions(),  # type: ignore[arg-type]  # strawberry also takes extension instances
    exception_handlers=HANDLERS,
)
