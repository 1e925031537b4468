"""Loyalty mutations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from loyalty.config import get_settings
from loyalty.graphql.errors import (
    HANDLERS,
    IdempotencyKeyReusedError,
    InsufficientPointsError,
    InvalidAdjustmentError,
)
from loyalty.graphql.types import LedgerEntry, LoyaltyAccount
from loyalty.services.points import adjust_points
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.auth import Scope
from yutang_shared.errors import BadUserInput, DomainError, as_union_member
from yutang_shared.graphql import RequestContext, principal_of, requires
from yutang_shared.pagination import MAX_PAGE


@strawberry.input(description="A manual points adjustment (积分调整).")
class AdjustPointsInput:
    member_id: uuid.UUID = strawberry.field(description="Whose balance to change.")
    points: int = strawberry.field(description="Points to add (positive) or take (negative); never zero.")
    reason: str = strawberry.field(description="Why, for the audit trail: 1–200 characters.")
    idempotency_key: str = strawberry.field(
        description="Unique per intended change (1–128 of letters, digits, `:._/-`). Retrying with the same key "
        "never applies twice."
    )


@strawberry.type(description="The adjustment is on the ledger.")
class AdjustPointsSuccess:
    entry: LedgerEntry = strawberry.field(description="The ledger entry of this adjustment.")
    account: LoyaltyAccount = strawberry.field(description="The member's account after the adjustment.")
    replayed: bool = strawberry.field(
        description="True when the key had already been applied: this is the original entry and nothing changed."
    )


AdjustPointsPayload = Annotated[
    AdjustPointsSuccess | InsufficientPointsError | IdempotencyKeyReusedError | InvalidAdjustmentError,
    strawberry.union("AdjustPointsPayload", description="The outcome of one points adjustment."),
]


async def _adjust(info: Info[RequestContext, Any], item: AdjustPointsInput) -> AdjustPointsSuccess:
    adjustment = await adjust_points(
        LoyaltyUnitOfWork(info.context.sessions),
        member_id=item.member_id,
        points=item.points,
        reason=item.reason,
        idempotency_key=item.idempotency_key,
        actor=principal_of(info).subject,
        max_points=get_settings().max_adjustment_points,
    )
    # The balance is known: prime the loader so `account { balance }` costs no second query.
    info.context.loaders.balance_by_member_id.prime(item.member_id, adjustment.balance)
    return AdjustPointsSuccess(
        entry=LedgerEntry.of(adjustment.entry),
        account=LoyaltyAccount(member_id=item.member_id),
        replayed=adjustment.replayed,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add or take points with a reason, exactly once per idempotency key; the balance never goes "
        "below zero. Needs points:write.",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def adjust_points(self, info: Info[RequestContext, Any], input: AdjustPointsInput) -> AdjustPointsPayload:
        return await _adjust(info, input)

    @strawberry.mutation(
        description=f"Apply up to {MAX_PAGE} adjustments, each in its own transaction, and answer one payload per "
        "input in the same order: one failure does not hold back the others, and a retry applies only what is "
        "missing. Needs points:write.",
        permission_classes=[requires(Scope.POINTS_WRITE)],
    )
    async def adjust_points_batch(
        self,
        info: Info[RequestContext, Any],
        inputs: Annotated[
            list[AdjustPointsInput], strawberry.argument(description=f"The adjustments, at most {MAX_PAGE}.")
        ],
    ) -> list[AdjustPointsPayload]:
        if len(inputs) > MAX_PAGE:
            raise BadUserInput(f"at most {MAX_PAGE} adjustments per batch")
        results: list[AdjustPointsPayload] = []
        for item in inputs:
            try:
                results.append(await _adjust(info, item))
            except DomainError as exc:
                results.append(as_union_member(exc, HANDLERS))
        return results
