"""The community subgraph schema: each feature's queries, mutations, Member fields and errors, merged.

A new feature adds its module to FEATURES and, when it adds Member fields, its type to Member's bases.
"""

from __future__ import annotations

import uuid

import strawberry

from community.groups import graphql as groups
from community.memberships import graphql as memberships
from community.tasks import graphql as tasks
from community.vip import graphql as vip
from yutang_shared.graphql import feature_schema, uuid_reference

FEATURES = (groups, memberships, tasks, vip)


@strawberry.federation.type(
    keys=["id"],
    description="A member of the brand (会员). The members service owns the member; this service adds their groups.",
)
class Member(memberships.MemberGroups):
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")

    @classmethod
    def resolve_reference(cls, id: str) -> Member | None:
        # No lookup: the members subgraph owns whether the member exists; an id that is no UUID is no member.
        return uuid_reference(cls, id)


schema = feature_schema(FEATURES, types=[Member])
