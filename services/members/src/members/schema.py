"""The members subgraph schema: each feature's queries, mutations and errors, merged.

A new feature adds its module to FEATURES. Member is defined by the profile feature: members owns the entity.
"""

from __future__ import annotations

from types import ModuleType

from strawberry.tools import merge_types

from members.profile import graphql as profile
from members.registration import graphql as registration
from yutang_shared.graphql import Schema

FEATURES: tuple[ModuleType, ...] = (profile, registration)


def _merged(name: str) -> type:
    """The feature's `name` types (Query or Mutation) as one; a feature without one is skipped."""
    return merge_types(name, tuple(getattr(f, name) for f in FEATURES if hasattr(f, name)))


schema = Schema(
    query=_merged("Query"),
    mutation=_merged("Mutation"),
    types=[profile.Member],
    exception_handlers=[handler for feature in FEATURES for handler in getattr(feature, "HANDLERS", ())],
)
