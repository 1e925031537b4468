"""The orders feature in the members subgraph: recordOrder(s), recordRefund, recordBehaviour, order and orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry

from members.access import AuditRefusals, Authorized, member_scope
from members.audit.service import Actor, AuditAs
from members.context import MembersInfo
from members.orders.graphql.types import (
    HANDLERS,
    ORDERS,
    BehaviourConflictError,
    BehaviourEvent,
    InvalidAmountError,
    InvalidBehaviourError,
    InvalidOccurredAtError,
    InvalidOrderError,
    InvalidRefundError,
    LinesMismatchError,
    MemberNotActiveError,
    MemberOrders,
    Order,
    OrderConflictError,
    Refund,
    RefundConflictError,
    RefundExceedsOrderError,
    UnknownMemberError,
    UnknownOrderError,
    UnknownStoreError,
    order_by_id,
)
from members.orders.models import BehaviourKind, SalesChannel
from members.orders.rules import CLOCK_SKEW, MAX_BATCH, MAX_BEHAVIOUR_BATCH, MAX_LINES, STORE_CODE
from members.orders.service import (
    count_orders,
    list_orders,
    record_behaviour,
    record_orders,
    record_refund,
)
from members.orders.views import (
    BehaviourInput,
    Line,
    MemberRef,
    Observed,
    OrderFilter,
    OrderInput,
    Recorded,
    RefundInput,
    RefundLine,
)
from members.uow import MembersUnitOfWork
from yutang_shared.connections import DEFAULT_PAGE, MAX_PAGE, After, Connection, PageSize, page_of, page_size
from yutang_shared.context import principal_of
from yutang_shared.errors import BadUserInput, DomainError, as_union_member

__all__ = ["HANDLERS", "MemberOrders", "Mutation", "Query"]

_SKEW = int(CLOCK_SKEW.total_seconds() // 60)
_MEMBER_REF = "Give exactly one of memberId, mobile (matched like registration: spaces, dashes, +86 accepted) and "
_WHO = _MEMBER_REF + "unionid (the member's WeChat unionid)."
_SCOPED = (
    "Orders belong to the store that sold them: staff reach their stores' orders (supervisors: their regions' "
    "stores), partners their allowed stores', operations and services all; partners and services need orders:read."
)
_SCOPED_WRITE = "Staff and partners only for stores they reach (the order's storeCode, or the refunded order's)."


# ---------------------------------------------------------------------------------------------- inputs


@strawberry.input(description="One line of an order.")
class OrderLineInput:
    sku: str = strawberry.field(description="The product's sku, 1–64 characters.")
    category: str = strawberry.field(description="The product's category, 1–64 characters.")
    quantity: int = strawberry.field(description="How many were bought, 1 to 100 000.")
    unit_price_fen: int = strawberry.field(description="The price of one, in fen, before the order's discount.")
    name: str | None = strawberry.field(default=None, description="The product's name, up to 128 characters.")
    discounted: bool = strawberry.field(
        default=False, description="True when the line was sold at a discount or in a promotion."
    )

    def line(self) -> Line:
        return Line(self.sku, self.category, self.quantity, self.unit_price_fen, self.name, self.discounted)


@strawberry.input(description=f"An order as a till, shop or partner system sends it. {_WHO}")
class RecordOrderInput:
    external_id: str = strawberry.field(
        description="Your id for the order, 1–64 printable ASCII characters without spaces. Recording the same id "
        "again is a replay (nothing changes); the same id with different content is MEMBERS_ORDER_CONFLICT. Ids "
        "belong to the caller (the token's subject): two clients never collide."
    )
    store_code: str = strawberry.field(description="The store's code: 1–32 letters, digits, - or _.")
    channel: SalesChannel = strawberry.field(description="Where the order was placed.")
    paid_fen: int = strawberry.field(description="What the member paid, in fen; more than zero.")
    lines: list[OrderLineInput] = strawberry.field(
        description=f"The order's lines, 1 to {MAX_LINES}: sum(quantity × unitPriceFen) − discountFen must equal "
        "paidFen."
    )
    occurred_at: datetime = strawberry.field(
        description=f"When the member paid, with a time zone; not before 2000-01-01, at most {_SKEW} minutes ahead "
        "of Yutang's clock."
    )
    member_id: uuid.UUID | None = strawberry.field(default=None, description="The member's Yutang id.")
    mobile: str | None = strawberry.field(default=None, description="The member's mobile.")
    unionid: str | None = strawberry.field(default=None, description="The member's WeChat unionid.")
    discount_fen: int = strawberry.field(default=0, description="The order's discount, in fen; 0 or more.")
    guide: str | None = strawberry.field(
        default=None, description="The shopping guide credited (staff id or WeCom userid), up to 64 characters."
    )
    earns_points: bool = strawberry.field(default=True, description="Whether the order earns points.")

    def order(self) -> OrderInput:
        return OrderInput(
            external_id=self.external_id,
            member=MemberRef(self.member_id, self.mobile, self.unionid),
            store_code=self.store_code,
            channel=self.channel,
            paid_fen=self.paid_fen,
            discount_fen=self.discount_fen,
            lines=tuple(line.line() for line in self.lines),
            occurred_at=self.occurred_at,
            guide=self.guide,
            earns_points=self.earns_points,
        )


@strawberry.input(description="Part of an order's line to give back.")
class RefundLineInput:
    line: int = strawberry.field(description="The order's line number, from 1, in the order the lines were sent.")
    quantity: int = strawberry.field(description="How many to give back; at most what is left of the line.")


@strawberry.input(
    description="A refund: by amountFen, by lines, or in full (what is left) when neither is given. Name the order "
    "by orderId or by your externalOrderId."
)
class RecordRefundInput:
    refund_id: str = strawberry.field(
        description="Your id for the refund, 1–64 printable ASCII characters without spaces. The same id again is a "
        "replay; with different content MEMBERS_REFUND_CONFLICT."
    )
    occurred_at: datetime = strawberry.field(
        description="When the refund happened, with a time zone; not before the order."
    )
    order_id: uuid.UUID | None = strawberry.field(default=None, description="The order's Yutang id.")
    external_order_id: str | None = strawberry.field(
        default=None, description="The externalId you recorded the order under."
    )
    amount_fen: int | None = strawberry.field(default=None, description="The money to give back, in fen.")
    lines: list[RefundLineInput] | None = strawberry.field(
        default=None,
        description="The lines to give back; each is worth its share of the paid amount (the discount spread in "
        "proportion), and the last refund that returns every line takes exactly what is left.",
    )

    def refund(self) -> RefundInput:
        return RefundInput(
            external_id=self.refund_id,
            occurred_at=self.occurred_at,
            order_id=self.order_id,
            external_order_id=self.external_order_id,
            amount_fen=self.amount_fen,
            lines=None if self.lines is None else tuple(RefundLine(x.line, x.quantity) for x in self.lines),
        )


@strawberry.input(description=f"Something a member did. {_WHO}")
class RecordBehaviourInput:
    event_id: str = strawberry.field(
        description="Your id for the event, 1–64 printable ASCII characters without spaces; the same id again is a "
        "replay."
    )
    kind: BehaviourKind = strawberry.field(description="What the member did.")
    occurred_at: datetime = strawberry.field(
        description=f"When, with a time zone; not before 2000-01-01, at most {_SKEW} minutes ahead."
    )
    member_id: uuid.UUID | None = strawberry.field(default=None, description="The member's Yutang id.")
    mobile: str | None = strawberry.field(default=None, description="The member's mobile.")
    unionid: str | None = strawberry.field(default=None, description="The member's WeChat unionid.")
    sku: str | None = strawberry.field(default=None, description="The sku concerned (add-to-cart, visit of a product).")
    activity: str | None = strawberry.field(default=None, description="The activity concerned, up to 64 characters.")
    page: str | None = strawberry.field(
        default=None, description="The page or message concerned, up to 256 characters."
    )

    def event(self) -> BehaviourInput:
        return BehaviourInput(
            external_id=self.event_id,
            member=MemberRef(self.member_id, self.mobile, self.unionid),
            kind=self.kind,
            occurred_at=self.occurred_at,
            sku=self.sku,
            activity=self.activity,
            page=self.page,
        )


# -------------------------------------------------------------------------------------------- payloads


@strawberry.type(description="The order is recorded.")
class RecordOrderSuccess:
    order: Order = strawberry.field(description="The recorded order.")
    replayed: bool = strawberry.field(
        description="True when this client had already recorded the order: this is the original and nothing changed."
    )


@strawberry.type(description="The refund is recorded.")
class RecordRefundSuccess:
    refund: Refund = strawberry.field(description="The recorded refund.")
    order: Order = strawberry.field(description="The order, with its refunded and remaining amounts.")
    replayed: bool = strawberry.field(
        description="True when this client had already recorded the refund: this is the original, nothing changed."
    )


@strawberry.type(description="The behaviour event is recorded.")
class RecordBehaviourSuccess:
    event: BehaviourEvent = strawberry.field(description="The recorded event.")
    replayed: bool = strawberry.field(
        description="True when this client had already recorded the event: this is the original, nothing changed."
    )


RecordOrderPayload = Annotated[
    RecordOrderSuccess
    | InvalidOrderError
    | InvalidAmountError
    | LinesMismatchError
    | InvalidOccurredAtError
    | UnknownStoreError
    | UnknownMemberError
    | MemberNotActiveError
    | OrderConflictError,
    strawberry.union("RecordOrderPayload", description="The outcome of recording one order."),
]
RecordRefundPayload = Annotated[
    RecordRefundSuccess
    | InvalidRefundError
    | InvalidOccurredAtError
    | UnknownOrderError
    | RefundExceedsOrderError
    | RefundConflictError,
    strawberry.union("RecordRefundPayload", description="The outcome of recording a refund."),
]
RecordBehaviourPayload = Annotated[
    RecordBehaviourSuccess
    | InvalidBehaviourError
    | InvalidOccurredAtError
    | UnknownMemberError
    | MemberNotActiveError
    | BehaviourConflictError,
    strawberry.union("RecordBehaviourPayload", description="The outcome of recording one behaviour event."),
]


def _order_payload(result: Recorded | DomainError) -> RecordOrderPayload:
    if isinstance(result, DomainError):
        return as_union_member(result, HANDLERS)  # type: ignore[no-any-return]
    return RecordOrderSuccess(order=Order.of(result.order), replayed=result.replayed)


def _behaviour_payload(result: Observed | DomainError) -> RecordBehaviourPayload:
    if isinstance(result, DomainError):
        return as_union_member(result, HANDLERS)  # type: ignore[no-any-return]
    return RecordBehaviourSuccess(event=BehaviourEvent.of(result.event), replayed=result.replayed)


def _audit(info: MembersInfo) -> AuditAs:
    """Who calls, as this mutation: the use case audits each outcome in its transaction."""
    return AuditAs(Actor.of(principal_of(info)), info.field_name)


async def _record(info: MembersInfo, inputs: list[RecordOrderInput]) -> list[RecordOrderPayload]:
    results = await record_orders(
        MembersUnitOfWork(info.context.sessions),
        info.context.vault,
        [item.order() for item in inputs],
        client=principal_of(info).subject,
        audit=_audit(info),
    )
    return [_order_payload(result) for result in results]


# ------------------------------------------------------------------------------------------- arguments


def _instant(value: datetime | None, name: str) -> datetime | None:
    """A filter time: with a zone and a plausible year, else BAD_USER_INPUT before any SQL."""
    if value is not None and (value.tzinfo is None or not 1970 <= value.year <= 9000):
        raise BadUserInput(f"{name} must carry a time zone and a year from 1970 to 9000")
    return value


def _store(code: str | None) -> str | None:
    if code is not None and not STORE_CODE.match(code):
        raise BadUserInput("storeCode must be 1–32 letters, digits, - or _")
    return code


@strawberry.type
class Query:
    @strawberry.field(
        description=f"One order by its Yutang id, or null when there is none. {_SCOPED}",
        permission_classes=[Authorized],
    )
    async def order(
        self, info: MembersInfo, id: Annotated[uuid.UUID, strawberry.argument(description="The order's id.")]
    ) -> Order | None:
        found = await info.context.loaders(order_by_id).load(id)
        return None if found is None else Order.of(found)

    @strawberry.field(
        description=f"Orders newest first (by when they were paid), at most {MAX_PAGE} a page, optionally of one "
        f"store, of one member, and in a period [from, to); only the orders the caller reaches. {_SCOPED}",
        permission_classes=[Authorized],
    )
    async def orders(
        self,
        info: MembersInfo,
        first: PageSize = DEFAULT_PAGE,
        after: After = None,
        store_code: Annotated[str | None, strawberry.argument(description="Only this store's orders.")] = None,
        member_id: Annotated[uuid.UUID | None, strawberry.argument(description="Only this member's orders.")] = None,
        since: Annotated[
            datetime | None, strawberry.argument(name="from", description="Only orders paid at or after this time.")
        ] = None,
        until: Annotated[
            datetime | None, strawberry.argument(name="to", description="Only orders paid before this time.")
        ] = None,
    ) -> Connection[Order]:
        limit, position = page_size(first), ORDERS.position(after)
        filters = OrderFilter(member_id, _store(store_code), _instant(since, "from"), _instant(until, "to"))
        scope = member_scope(info, "Query.orders")
        uow = MembersUnitOfWork(info.context.sessions)
        rows = await list_orders(uow, filters, limit=limit + 1, before=position, scope=scope)
        return page_of(
            rows,
            limit,
            node=Order.of,
            cursor=lambda view: ORDERS.cursor(view.occurred_at, view.id),
            counter=partial(count_orders, MembersUnitOfWork(info.context.sessions), filters, scope),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record an order (消费记录) with an order.paid event, once per externalId of the caller. Needs "
        f"orders:write. {_SCOPED_WRITE}",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def record_order(
        self,
        info: MembersInfo,
        input: Annotated[
            RecordOrderInput,
            strawberry.argument(
                description="The order as the till or shop knows it; idempotent per client and external order id."
            ),
        ],
    ) -> RecordOrderPayload:
        (payload,) = await _record(info, [input])
        return payload

    @strawberry.mutation(
        description=f"Record up to {MAX_BATCH} orders in one transaction and answer one payload per input, in the "
        "same order: a refused order writes nothing and does not hold back the others; a retry records only what "
        f"is missing. Needs orders:write. {_SCOPED_WRITE} One order of a store out of reach refuses the whole batch "
        "(FORBIDDEN).",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def record_orders(
        self,
        info: MembersInfo,
        inputs: Annotated[list[RecordOrderInput], strawberry.argument(description=f"The orders, 1 to {MAX_BATCH}.")],
    ) -> list[RecordOrderPayload]:
        if not 1 <= len(inputs) <= MAX_BATCH:
            raise BadUserInput(f"a batch holds 1 to {MAX_BATCH} orders")
        return await _record(info, inputs)

    @strawberry.mutation(
        description="Record a refund (full, by amount or by lines) with an order.refunded event, once per refundId "
        f"of the caller; never more than is left to refund. Needs orders:write. {_SCOPED_WRITE}",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def record_refund(
        self,
        info: MembersInfo,
        input: Annotated[
            RecordRefundInput,
            strawberry.argument(
                description="The refund: its id (idempotent), the order, and the amount or lines refunded."
            ),
        ],
    ) -> RecordRefundPayload:
        result = await record_refund(
            MembersUnitOfWork(info.context.sessions),
            input.refund(),
            client=principal_of(info).subject,
            audit=_audit(info),
        )
        return RecordRefundSuccess(
            refund=Refund.of(result.refund), order=Order.of(result.order), replayed=result.replayed
        )

    @strawberry.mutation(
        description=f"Record up to {MAX_BEHAVIOUR_BATCH} behaviour events (visit, add-to-cart, follow, activity, "
        "message click) in one transaction, once per eventId of the caller; one payload per input, in order. "
        "Needs behaviour:write (ops, partners, services). A partner with allowed stores reaches only members of "
        "those stores (others are MEMBERS_UNKNOWN_MEMBER).",
        permission_classes=[Authorized],
        extensions=[AuditRefusals()],
    )
    async def record_behaviour(
        self,
        info: MembersInfo,
        events: Annotated[
            list[RecordBehaviourInput], strawberry.argument(description=f"The events, 1 to {MAX_BEHAVIOUR_BATCH}.")
        ],
    ) -> list[RecordBehaviourPayload]:
        if not 1 <= len(events) <= MAX_BEHAVIOUR_BATCH:
            raise BadUserInput(f"a batch holds 1 to {MAX_BEHAVIOUR_BATCH} events")
        results = await record_behaviour(
            MembersUnitOfWork(info.context.sessions),
            info.context.vault,
            [event.event() for event in events],
            client=principal_of(info).subject,
            scope=member_scope(info, "Mutation.recordBehaviour"),
            audit=_audit(info),
        )
        return [_behaviour_payload(result) for result in results]
