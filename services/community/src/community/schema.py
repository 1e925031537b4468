"""The community subgraph schema."""

from __future__ import annotations

from community.graphql.errors import HANDLERS
from community.graphql.mutations import Mutation
from community.graphql.queries import Query
from community.graphql.types import Member
from yutang_shared.graphql import Schema

schema = Schema(
    query=Query,
    mutation=Mutation,
    types=[Member],
    exception_handlers=HANDLERS,
)
