"""The members subgraph schema."""

from __future__ import annotations

from members.graphql.errors import HANDLERS
from members.graphql.mutations import Mutation
from members.graphql.queries import Query
from yutang_shared.graphql import Schema

schema = Schema(
    query=Query,
    mutation=Mutation,
    exception_handlers=HANDLERS,
)
