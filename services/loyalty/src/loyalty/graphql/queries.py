"""Loyalty queries."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry

from loyalty.graphql.types import LoyaltyAccount
from yutang_shared.auth import Scope
from yutang_shared.graphql import self_or


@strawberry.type
class Query:
    @strawberry.field(
        description="A member's points account. Members read their own; others need points:read.",
        permission_classes=[self_or(Scope.POINTS_READ, argument="member_id")],
    )
    def loyalty_account(
        self, member_id: Annotated[uuid.UUID, strawberry.argument(description="The member's id.")]
    ) -> LoyaltyAccount:
        return LoyaltyAccount(member_id=member_id)
