"""The loyalty subgraph schema: each feature's queries, mutations, Member fields and errors, merged.

A new feature adds its module to FEATURES and, when it adds Member fields, its type to Member's bases.
"""

from __future__ import annotations

import uuid

import strawberry
from strawberry.tools import merge_types

from loyalty.points import graphql as points
from yutang_shared.graphql import Schema

FEATURES = (points,)


@strawberry.federation.type(keys=["id"], description="A registered member of the brand (会员).")
class Member(points.MemberPoints):
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")

    @classmethod
    def resolve_reference(cls, id: str) -> Member | None:
        try:
            return cls(id=uuid.UUID(str(id)))
        except ValueError:
            return None


schema = Schema(
    query=merge_types("Query", tuple(feature.Query for feature in FEATURES)),
    mutation=merge_types("Mutation", tuple(feature.Mutation for feature in FEATURES)),
    types=[Member],
    exception_handlers=[handler for feature in FEATURES for handler in feature.HANDLERS],
)
