"""The loyalty subgraph schema."""

from __future__ import annotations

from loyalty.graphql.errors import HANDLERS
from loyalty.graphql.mutations import Mutation
from loyalty.graphql.queries import Query
from loyalty.graphql.types import Member
from yutang_shared.graphql import Schema

schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Member],
    exception_handlers=HANDLERS,
)
