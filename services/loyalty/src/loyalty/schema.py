"""The loyalty subgraph schema: the features' queries, mutations, errors and Member fields, merged.

A new feature adds its module to FEATURES and, when it adds Member fields, its type to Member's bases.
"""

from __future__ import annotations

import uuid

import strawberry

from loyalty.birthday import graphql as birthday
from loyalty.checkin import graphql as checkin
from loyalty.earning import graphql as earning
from loyalty.lots import graphql as lots
from loyalty.payment import graphql as payment
from loyalty.points import graphql as points
from loyalty.tiers import graphql as tiers
from yutang_shared.graphql import feature_schema, uuid_reference

FEATURES = (points, earning, lots, tiers, checkin, payment, birthday)


@strawberry.federation.type(keys=["id"], description="A registered member of the brand (会员).")
class Member(points.MemberPoints):
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")

    @classmethod
    def resolve_reference(cls, id: str) -> Member | None:
        return uuid_reference(cls, id)


schema = feature_schema(FEATURES, types=[Member])
