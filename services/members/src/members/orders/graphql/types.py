"""GraphQL types of the orders feature: orders and their lines, refunds, behaviour events, order statistics,
the expected errors, and the Member fields this feature adds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry

from members.access import Authorized
from members.context import MembersInfo
from members.orders.errors import (
    BehaviourConflict,
    InvalidAmount,
    InvalidBehaviour,
    InvalidOccurredAt,
    InvalidOrder,
    InvalidRefund,
    LinesMismatch,
    MemberNotActive,
    OrderConflict,
    OrdersErrorCode,
    RefundConflict,
    RefundExceedsOrder,
    UnknownMember,
    UnknownOrder,
    UnknownStore,
)
from members.orders.models import BehaviourKind, SalesChannel
from members.orders.rules import CLOCK_SKEW, MAX_LINES
from members.orders.service import count_orders, list_orders, order_stats, orders_by_ids
from members.orders.views import BehaviourView, Line, OrderFilter, OrderStats, OrderView, RefundView
from members.uow import MembersUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, Keyset, PageSize, page_of, page_size
from yutang_shared.db import SessionFactory
from yutang_shared.enums import graphql_enum
from yutang_shared.errors import Error, error_handlers

if TYPE_CHECKING:
    from members.profile.graphql import Member

graphql_enum(
    SalesChannel,
    "Where an order was placed (销售渠道).",
    {
        "IN_STORE": "At a store's till (门店).",
        "MINI_PROGRAM": "The brand's WeChat mini-program shop (小程序商城).",
        "DELIVERY_PLATFORM": "A delivery platform such as Meituan, JD Daojia or Ele.me (外卖 / 到家平台).",
        "LIVE_STREAM": "A live-stream sale (直播).",
        "COMMUNITY_GROUP": "A community group purchase (社群团购).",
        "E_COMMERCE": "The brand's shop on an e-commerce platform (电商).",
        "OTHER": "Any other channel.",
    },
)
graphql_enum(
    BehaviourKind,
    "What a member did short of buying (会员行为).",
    {
        "VISIT": "Visited a store, the mini-program or a page.",
        "ADD_TO_CART": "Added a sku to the cart (加购).",
        "FOLLOW_OFFICIAL_ACCOUNT": "Followed the brand's official account (关注公众号).",
        "ACTIVITY_PARTICIPATION": "Took part in an activity (参与活动).",
        "MESSAGE_CLICK": "Clicked a message the brand sent.",
    },
)
graphql_enum(
    OrdersErrorCode,
    "Codes of the expected errors of recording orders, refunds and behaviour.",
    {
        "MEMBERS_UNKNOWN_MEMBER": "No member has that id, mobile or unionid.",
        "MEMBERS_MEMBER_NOT_ACTIVE": "The member is frozen or closed.",
        "MEMBERS_UNKNOWN_STORE": "The store code is malformed or names no store.",
        "MEMBERS_INVALID_ORDER": "The order's id, member reference, guide or lines are malformed.",
        "MEMBERS_INVALID_AMOUNT": "The paid amount is not positive or the discount is negative.",
        "MEMBERS_LINES_MISMATCH": "sum(quantity × unit price) − discount differs from the paid amount.",
        "MEMBERS_INVALID_OCCURRED_AT": "The time is in the future, before 2000-01-01, or has no time zone.",
        "MEMBERS_ORDER_CONFLICT": "The order id was already used by this client for a different order.",
        "MEMBERS_UNKNOWN_ORDER": "No order has that id.",
        "MEMBERS_INVALID_REFUND": "The refund's id, order reference, amount or lines are malformed.",
        "MEMBERS_REFUND_EXCEEDS_ORDER": "The refund asks for more than is left to refund.",
        "MEMBERS_REFUND_CONFLICT": "The refund id was already used by this client for a different refund.",
        "MEMBERS_INVALID_BEHAVIOUR": "The behaviour event's id, member reference or references are malformed.",
        "MEMBERS_BEHAVIOUR_CONFLICT": "The event id was already used by this client for a different event.",
    },
)

MEMBER_ORDERS = Keyset("member-orders")
ORDERS = Keyset("orders")
_SKEW_MINUTES = int(CLOCK_SKEW.total_seconds() // 60)

# -------------------------------------------------------------------------------------------------- errors


@strawberry.type(description="No member has that id, mobile or unionid; nothing was written.")
class UnknownMemberError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_MEMBER.")


@strawberry.type(description="The member is frozen or closed and cannot be served; nothing was written.")
class MemberNotActiveError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_MEMBER_NOT_ACTIVE.")


@strawberry.type(description="The store code is malformed or names no store; nothing was written.")
class UnknownStoreError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_STORE.")


@strawberry.type(
    description=f"The order's id, member reference, guide or lines (1 to {MAX_LINES}) are malformed; nothing "
    "was written."
)
class InvalidOrderError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_INVALID_ORDER.")


@strawberry.type(description="The paid amount is zero or negative, or the discount negative; nothing was written.")
class InvalidAmountError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_INVALID_AMOUNT.")


@strawberry.type(
    description="The lines do not add up: sum(quantity × unit price) − discount must equal the paid amount; "
    "nothing was written."
)
class LinesMismatchError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_LINES_MISMATCH.")


@strawberry.type(
    description=f"The time is more than {_SKEW_MINUTES} minutes in the future, before 2000-01-01, or has no "
    "time zone; nothing was written."
)
class InvalidOccurredAtError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_INVALID_OCCURRED_AT.")


@strawberry.type(
    description="This client already recorded a different order under that externalId; nothing was written."
)
class OrderConflictError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_ORDER_CONFLICT.")


@strawberry.type(description="No order has that id (or that externalOrderId from this client).")
class UnknownOrderError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_UNKNOWN_ORDER.")


@strawberry.type(
    description="The refund's id, order reference, amount or lines are malformed, or it is dated before its "
    "order; nothing was written."
)
class InvalidRefundError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_INVALID_REFUND.")


@strawberry.type(
    description="The refund asks for more than is left to refund on the order (money, or a line's quantity); "
    "nothing was written."
)
class RefundExceedsOrderError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_REFUND_EXCEEDS_ORDER.")


@strawberry.type(
    description="This client already recorded a different refund under that refundId; nothing was written."
)
class RefundConflictError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_REFUND_CONFLICT.")


@strawberry.type(description="The event's id, member reference or references are malformed; nothing was written.")
class InvalidBehaviourError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_INVALID_BEHAVIOUR.")


@strawberry.type(description="This client already recorded a different event under that eventId; nothing was written.")
class BehaviourConflictError(Error):
    code: OrdersErrorCode = strawberry.field(description="MEMBERS_BEHAVIOUR_CONFLICT.")


HANDLERS = error_handlers(
    {
        UnknownMember: UnknownMemberError,
        MemberNotActive: MemberNotActiveError,
        UnknownStore: UnknownStoreError,
        InvalidOrder: InvalidOrderError,
        InvalidAmount: InvalidAmountError,
        LinesMismatch: LinesMismatchError,
        InvalidOccurredAt: InvalidOccurredAtError,
        OrderConflict: OrderConflictError,
        UnknownOrder: UnknownOrderError,
        InvalidRefund: InvalidRefundError,
        RefundExceedsOrder: RefundExceedsOrderError,
        RefundConflict: RefundConflictError,
        InvalidBehaviour: InvalidBehaviourError,
        BehaviourConflict: BehaviourConflictError,
    }
)


# --------------------------------------------------------------------------------------------- loaders


async def order_by_id(sessions: SessionFactory, ids: Sequence[uuid.UUID]) -> list[OrderView | None]:
    """Orders by id (None for an unknown id), in one SELECT per request batch (access checks and `order`)."""
    found = await orders_by_ids(MembersUnitOfWork(sessions), ids)
    return [found.get(order_id) for order_id in ids]


async def order_stats_by_member_id(sessions: SessionFactory, member_ids: Sequence[uuid.UUID]) -> list[OrderStats]:
    """Order statistics for a batch of members, in one SELECT."""
    return await order_stats(MembersUnitOfWork(sessions), member_ids)


# ----------------------------------------------------------------------------------------------- types


@strawberry.type(description="One line of an order.")
class OrderLine:
    number: int = strawberry.field(description="The line's position in the order, from 1 (refunds name it).")
    sku: str = strawberry.field(description="The product's sku.")
    name: str | None = strawberry.field(description="The product's name as the till printed it.")
    category: str = strawberry.field(description="The product's category.")
    quantity: int = strawberry.field(description="How many were bought.")
    unit_price_fen: int = strawberry.field(description="The price of one, in fen, before the order's discount.")
    discounted: bool = strawberry.field(description="True when the line was sold at a discount or in a promotion.")

    @classmethod
    def of(cls, number: int, line: Line) -> OrderLine:
        return cls(
            number=number,
            sku=line.sku,
            name=line.name,
            category=line.category,
            quantity=line.quantity,
            unit_price_fen=line.unit_price_fen,
            discounted=line.discounted,
        )


@strawberry.type(description="A purchase (消费记录) recorded by a till, shop or partner system.")
class Order:
    id: uuid.UUID = strawberry.field(description="The order's id in Yutang.")
    view: strawberry.Private[OrderView]

    @strawberry.field(description="The id the recording client gave the order (unique per client).")
    def external_id(self) -> str:
        return self.view.external_id

    @strawberry.field(description="The id of the member who bought.")
    def member_id(self) -> uuid.UUID:
        return self.view.member_id

    @strawberry.field(description="The member who bought; their fields need their own permissions.")
    async def member(self, info: MembersInfo) -> Annotated[Member, strawberry.lazy("members.profile.graphql")] | None:
        from members.profile.graphql import Member, member_by_id

        view = await info.context.loaders(member_by_id).load(self.view.member_id)
        return None if view is None else Member.of(view)

    @strawberry.field(description="The code of the store the order belongs to.")
    def store_code(self) -> str:
        return self.view.store_code

    @strawberry.field(description="The shopping guide credited with the sale (staff id or WeCom userid), if any.")
    def guide(self) -> str | None:
        return self.view.guide

    @strawberry.field(description="Where the order was placed.")
    def channel(self) -> SalesChannel:
        return self.view.channel

    @strawberry.field(description="What the member paid, in fen.")
    def paid_fen(self) -> int:
        return self.view.paid_fen

    @strawberry.field(description="The order's discount, in fen: the lines' total minus what was paid.")
    def discount_fen(self) -> int:
        return self.view.discount_fen

    @strawberry.field(description="What has been refunded so far, in fen; never more than was paid.")
    def refunded_fen(self) -> int:
        return self.view.refunded_fen

    @strawberry.field(description="What is left to refund, in fen.")
    def remaining_fen(self) -> int:
        return self.view.remaining_fen

    @strawberry.field(description="The order's lines, in the order they were sent.")
    def lines(self) -> list[OrderLine]:
        return [OrderLine.of(number, line) for number, line in enumerate(self.view.lines, start=1)]

    @strawberry.field(description="When the member paid.")
    def occurred_at(self) -> datetime:
        return self.view.occurred_at

    @strawberry.field(description="Whether the order earns points.")
    def earns_points(self) -> bool:
        return self.view.earns_points

    @strawberry.field(description="True for historical orders brought in by the bulk import.")
    def imported(self) -> bool:
        return self.view.imported

    @strawberry.field(description="When Yutang recorded the order.")
    def recorded_at(self) -> datetime:
        return self.view.recorded_at

    @classmethod
    def of(cls, view: OrderView) -> Order:
        return cls(id=view.id, view=view)


@strawberry.type(description="Part of an order's line given back.")
class RefundedLine:
    line: int = strawberry.field(description="The order's line number, from 1.")
    quantity: int = strawberry.field(description="How many of it were given back.")


@strawberry.type(description="Money given back on an order (退款).")
class Refund:
    id: uuid.UUID = strawberry.field(description="The refund's id in Yutang.")
    refund_id: str = strawberry.field(description="The id the recording client gave the refund (unique per client).")
    order_id: uuid.UUID = strawberry.field(description="The refunded order's id.")
    amount_fen: int = strawberry.field(description="The money given back, in fen.")
    lines: list[RefundedLine] | None = strawberry.field(
        description="The lines given back; null for a refund by amount."
    )
    occurred_at: datetime = strawberry.field(description="When the refund happened.")
    recorded_at: datetime = strawberry.field(description="When Yutang recorded the refund.")

    @classmethod
    def of(cls, view: RefundView) -> Refund:
        lines = None if view.lines is None else [RefundedLine(line=x.line, quantity=x.quantity) for x in view.lines]
        return cls(
            id=view.id,
            refund_id=view.external_id,
            order_id=view.order_id,
            amount_fen=view.amount_fen,
            lines=lines,
            occurred_at=view.occurred_at,
            recorded_at=view.recorded_at,
        )


@strawberry.type(description="Something a member did short of buying.")
class BehaviourEvent:
    id: uuid.UUID = strawberry.field(description="The event's id in Yutang.")
    event_id: str = strawberry.field(description="The id the recording client gave the event (unique per client).")
    member_id: uuid.UUID = strawberry.field(description="The member's id.")
    kind: BehaviourKind = strawberry.field(description="What the member did.")
    sku: str | None = strawberry.field(description="The sku concerned, if any.")
    activity: str | None = strawberry.field(description="The activity concerned, if any.")
    page: str | None = strawberry.field(description="The page or message concerned, if any.")
    occurred_at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def of(cls, view: BehaviourView) -> BehaviourEvent:
        return cls(
            id=view.id,
            event_id=view.external_id,
            member_id=view.member_id,
            kind=view.kind,
            sku=view.sku,
            activity=view.activity,
            page=view.page,
            occurred_at=view.occurred_at,
        )


@strawberry.type(description="A member's purchases net of refunds; a fully refunded order does not count as an order.")
class MemberOrderStats:
    stats: strawberry.Private[OrderStats]

    @strawberry.field(description="Orders not fully refunded.")
    def order_count(self) -> int:
        return self.stats.order_count

    @strawberry.field(description="What the member paid, minus refunds, in fen.")
    def total_spent_fen(self) -> int:
        return self.stats.total_spent_fen

    @strawberry.field(description="When the first counted order was paid; null without orders.")
    def first_order_at(self) -> datetime | None:
        return self.stats.first_order_at

    @strawberry.field(description="When the last counted order was paid; null without orders.")
    def last_order_at(self) -> datetime | None:
        return self.stats.last_order_at

    @strawberry.field(description="Spend per counted order, in fen, rounded; null without orders (客单价).")
    def average_order_fen(self) -> int | None:
        return self.stats.average_order_fen


@strawberry.type
class MemberOrders:
    """The orders fields of Member (a base of profile's Member)."""

    id: uuid.UUID

    @strawberry.field(
        description=f"The member's orders (in every store), newest first, at most {MAX_PAGE} a page. Members read "
        "their own; staff and partners those of the members they reach; partners and services need orders:read.",
        permission_classes=[Authorized],
    )
    async def orders(self, info: MembersInfo, first: PageSize = DEFAULT_PAGE, after: After = None) -> Connection[Order]:
        limit, position = page_size(first), MEMBER_ORDERS.position(after)
        filters = OrderFilter(member_id=self.id)
        rows = await list_orders(MembersUnitOfWork(info.context.sessions), filters, limit=limit + 1, before=position)
        return page_of(
            rows,
            limit,
            node=Order.of,
            cursor=lambda view: MEMBER_ORDERS.cursor(view.occurred_at, view.id),
            counter=partial(count_orders, MembersUnitOfWork(info.context.sessions), filters),
        )

    @strawberry.field(
        description="The member's order count, spend, first and last order and average order value, net of "
        "refunds (in every store). Members read their own; staff and partners those of the members they reach; "
        "partners and services need orders:read.",
        permission_classes=[Authorized],
    )
    async def order_stats(self, info: MembersInfo) -> MemberOrderStats:
        return MemberOrderStats(stats=await info.context.loaders(order_stats_by_member_id).load(self.id))
