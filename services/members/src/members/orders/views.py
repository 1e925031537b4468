"""What the orders use cases take and return: frozen inputs and snapshots, never ORM objects."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from members.orders.models import BehaviourEvent, BehaviourKind, Order, Refund, SalesChannel


@dataclass(frozen=True, slots=True)
class MemberRef:
    """Who bought: exactly one of our member id, a mobile (matched by its keyed fingerprint) or a WeChat unionid."""

    member_id: uuid.UUID | None = None
    mobile: str | None = None
    unionid: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an order: a sku bought `quantity` times at `unit_price_fen`."""

    sku: str
    category: str
    quantity: int
    unit_price_fen: int
    name: str | None = None
    discounted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "quantity": self.quantity,
            "unit_price_fen": self.unit_price_fen,
            "discounted": self.discounted,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Line:
        return cls(
            sku=str(raw["sku"]),
            name=raw.get("name"),
            category=str(raw["category"]),
            quantity=int(raw["quantity"]),
            unit_price_fen=int(raw["unit_price_fen"]),
            discounted=bool(raw.get("discounted", False)),
        )


@dataclass(frozen=True, slots=True)
class OrderInput:
    """An order as a till, shop or partner system sends it."""

    external_id: str
    member: MemberRef
    store_code: str
    channel: SalesChannel
    paid_fen: int
    discount_fen: int
    lines: tuple[Line, ...]
    occurred_at: datetime
    guide: str | None = None
    earns_points: bool = True


@dataclass(frozen=True, slots=True)
class OrderView:
    """A recorded order."""

    id: uuid.UUID
    client: str
    external_id: str
    member_id: uuid.UUID
    store_code: str
    guide: str | None
    channel: SalesChannel
    paid_fen: int
    discount_fen: int
    refunded_fen: int
    lines: tuple[Line, ...]
    occurred_at: datetime
    earns_points: bool
    imported: bool
    recorded_at: datetime
    content_hash: str

    @property
    def remaining_fen(self) -> int:
        """What is left to refund."""
        return self.paid_fen - self.refunded_fen

    @classmethod
    def of(cls, row: Order) -> OrderView:
        return cls(
            id=row.id,
            client=row.client,
            external_id=row.external_id,
            member_id=row.member_id,
            store_code=row.store_code,
            guide=row.guide,
            channel=SalesChannel(row.channel),
            paid_fen=row.paid_fen,
            discount_fen=row.discount_fen,
            refunded_fen=row.refunded_fen,
            lines=tuple(Line.from_json(line) for line in row.lines),
            occurred_at=row.occurred_at,
            earns_points=row.earns_points,
            imported=row.imported,
            recorded_at=row.recorded_at,
            content_hash=row.content_hash,
        )


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording one order: the order, and whether it was already recorded (a replay)."""

    order: OrderView
    replayed: bool


@dataclass(frozen=True, slots=True)
class RefundLine:
    """Part of a line given back: `quantity` of the order's line number `line` (1-based, as sent)."""

    line: int
    quantity: int


@dataclass(frozen=True, slots=True)
class RefundInput:
    """A refund as a till or partner sends it: by amount, by lines, or in full when neither is given."""

    external_id: str
    occurred_at: datetime
    order_id: uuid.UUID | None = None
    external_order_id: str | None = None
    amount_fen: int | None = None
    lines: tuple[RefundLine, ...] | None = None


@dataclass(frozen=True, slots=True)
class RefundView:
    """A recorded refund."""

    id: uuid.UUID
    external_id: str
    order_id: uuid.UUID
    amount_fen: int
    lines: tuple[RefundLine, ...] | None
    occurred_at: datetime
    recorded_at: datetime
    content_hash: str

    @classmethod
    def of(cls, row: Refund) -> RefundView:
        lines = row.lines
        return cls(
            id=row.id,
            external_id=row.external_id,
            order_id=row.order_id,
            amount_fen=row.amount_fen,
            lines=None if lines is None else tuple(RefundLine(int(x["line"]), int(x["quantity"])) for x in lines),
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            content_hash=row.content_hash,
        )


@dataclass(frozen=True, slots=True)
class Refunded:
    """The outcome of a refund: the refund, the order after it, and whether it was already recorded."""

    refund: RefundView
    order: OrderView
    replayed: bool


@dataclass(frozen=True, slots=True)
class BehaviourInput:
    """Something a member did, as the mini-program, official account or a partner reports it."""

    external_id: str
    member: MemberRef
    kind: BehaviourKind
    occurred_at: datetime
    sku: str | None = None
    activity: str | None = None
    page: str | None = None


@dataclass(frozen=True, slots=True)
class BehaviourView:
    """A recorded behaviour event."""

    id: uuid.UUID
    external_id: str
    member_id: uuid.UUID
    kind: BehaviourKind
    sku: str | None
    activity: str | None
    page: str | None
    occurred_at: datetime
    content_hash: str

    @classmethod
    def of(cls, row: BehaviourEvent) -> BehaviourView:
        return cls(
            id=row.id,
            external_id=row.external_id,
            member_id=row.member_id,
            kind=BehaviourKind(row.kind),
            sku=row.sku,
            activity=row.activity,
            page=row.page,
            occurred_at=row.occurred_at,
            content_hash=row.content_hash,
        )


@dataclass(frozen=True, slots=True)
class Observed:
    """The outcome of recording one behaviour event, and whether it was already recorded."""

    event: BehaviourView
    replayed: bool


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Which orders a list holds: of one member, of one store, paid in [since, until)."""

    member_id: uuid.UUID | None = None
    store_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderStats:
    """A member's purchases net of refunds; a fully refunded order does not count as an order."""

    order_count: int
    total_spent_fen: int
    first_order_at: datetime | None
    last_order_at: datetime | None

    @property
    def average_order_fen(self) -> int | None:
        """Spend per counted order, rounded to the fen; None without orders."""
        return None if self.order_count == 0 else round(self.total_spent_fen / self.order_count)


NO_ORDERS = OrderStats(order_count=0, total_spent_fen=0, first_order_at=None, last_order_at=None)


@dataclass(frozen=True, slots=True)
class FoundMember:
    """A member a reference resolved to, with what ordering needs to know about them."""

    id: uuid.UUID
    active: bool
    fingerprint: str | None
    unionid: str | None
    home_store_code: str | None = None
