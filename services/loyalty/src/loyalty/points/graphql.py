"""Loyalty GraphQL object types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from loyalty.graphql.loaders import Loaders
from loyalty.services.queries import ledger_page
from loyalty.services.views import EntryView
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.auth import Scope
from yutang_shared.graphql import RequestContext, self_or
from yutang_shared.pagination import (
    DEFAULT_PAGE,
    After,
    CursorValue,
    PageInfo,
    PageSize,
    cursor_of,
    page_size,
    position_of,
)


@strawberry.type(description="One change to a member's points balance. The ledger is append-only.")
class LedgerEntry:
    id: uuid.UUID = strawberry.field(description="The entry's id.")
    points: int = strawberry.field(description="Points added (positive) or taken (negative).")
    balance_after: int = strawberry.field(description="The balance right after this entry.")
    kind: str = strawberry.field(description="What produced the entry: `adjustment` for a manual adjustment.")
    reason: str = strawberry.field(description="Why the points moved, as recorded by the caller.")
    idempotency_key: str = strawberry.field(description="The caller's key; the same key never applies twice.")
    actor: str = strawberry.field(description="Who made the change (the token's subject).")
    created_at: datetime = strawberry.field(description="When the entry was written.")

    @classmethod
    def of(cls, view: EntryView) -> LedgerEntry:
        return cls(
            id=view.id,
            points=view.points,
            balance_after=view.balance_after,
            kind=view.kind,
            reason=view.reason,
            idempotency_key=view.idempotency_key,
            actor=view.actor,
            created_at=view.created_at,
        )


@strawberry.type(description="A ledger entry and its position in the member's history.")
class LedgerEntryEdge:
    node: LedgerEntry = strawberry.field(description="The entry.")
    cursor: CursorValue = strawberry.field(description="Pass as `after` to continue with older entries.")


@strawberry.type(description="A page of a member's ledger, newest first.")
class LedgerEntryConnection:
    edges: list[LedgerEntryEdge] = strawberry.field(description="The entries on this page.")
    page_info: PageInfo = strawberry.field(description="Whether older entries follow, and from where.")


@strawberry.type(description="A member's points account (积分账户).")
class LoyaltyAccount:
    member_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="Points available now; always the sum of the ledger, never below zero.")
    async def balance(self, info: Info[RequestContext, Any]) -> int:
        loaders: Loaders = info.context.loaders
        return await loaders.balance_by_member_id.load(self.member_id)

    @strawberry.field(description="The member's ledger entries, newest first.")
    async def entries(
        self,
        info: Info[RequestContext, Any],
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
    ) -> LedgerEntryConnection:
        page = await ledger_page(
            LoyaltyUnitOfWork(info.context.sessions), self.member_id, limit=page_size(first), before=position_of(after)
        )
        edges = [LedgerEntryEdge(node=LedgerEntry.of(e), cursor=cursor_of(e.created_at, e.id)) for e in page.entries]
        end = edges[-1].cursor if edges else None
        return LedgerEntryConnection(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end))


@strawberry.federation.type(keys=["id"], description="A registered member of the brand (会员).")
class Member:
    id: uuid.UUID = strawberry.field(description="The member's id; the same in every service.")

    @strawberry.field(
        description="The member's points. Members read their own; others need points:read.",
        permission_classes=[self_or(Scope.POINTS_READ)],
    )
    def loyalty(self) -> LoyaltyAccount:
        return LoyaltyAccount(member_id=self.id)

    @classmethod
    def resolve_reference(cls, id: str) -> Member | None:
        try:
            return cls(id=uuid.UUID(str(id)))
        except ValueError:
            return None
