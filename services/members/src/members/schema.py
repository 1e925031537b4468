"""The members subgraph schema: each feature's queries, mutations and errors, merged.

A new feature adds its module to FEATURES. Member is defined by the profile feature: members owns the entity.
"""

from __future__ import annotations

from types import ModuleType

from members.audiences import graphql as audiences
from members.audit import graphql as audit
from members.identity import graphql as identity
from members.insights import graphql as insights
from members.orders import graphql as orders
from members.organisation import graphql as organisation
from members.profile import graphql as profile
from members.registration import graphql as registration
from members.tags import graphql as tags
from yutang_shared.graphql import feature_schema

FEATURES: tuple[ModuleType, ...] = (
    profile,
    registration,
    orders,
    organisation,
    audit,
    identity,
    insights,
    audiences,
    tags,
)


schema = feature_schema(FEATURES, types=[profile.Member])
