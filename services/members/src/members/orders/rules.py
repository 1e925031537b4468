"""Pure rules of orders, refunds and behaviour: what a well-formed one is, what it hashes to, what a refund is
worth, and the lines summary the `order.paid` event carries."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from members.orders.errors import (
    InvalidAmount,
    InvalidBehaviour,
    InvalidOccurredAt,
    InvalidOrder,
    InvalidRefund,
    LinesMismatch,
    UnknownStore,
)
from members.orders.models import GUIDE_LENGTH, ID_LENGTH, STORE_CODE_LENGTH
from members.orders.views import BehaviourInput, Line, MemberRef, OrderInput, RefundInput, RefundLine
from members.registration.errors import InvalidMobile
from members.registration.rules import normalise_mobile
from yutang_shared.errors import DomainError

MAX_BATCH = 100  # orders per recordOrders
MAX_BEHAVIOUR_BATCH = 500  # events per recordBehaviour
MAX_LINES = 200
MAX_QUANTITY = 100_000
MAX_FEN = 10**11  # ¥1 000 000 000: far above any order, far below bigint
CLOCK_SKEW = timedelta(minutes=5)  # a till's clock may run this far ahead of ours
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

_EXTERNAL_ID = re.compile(rf"^[\x21-\x7e]{{1,{ID_LENGTH}}}$")  # printable ASCII, no spaces
STORE_CODE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{STORE_CODE_LENGTH - 1}}}$")
_UNIONID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str | None, *, field: str, limit: int, error: type[DomainError], required: bool = True) -> str | None:
    """A trimmed string of at most `limit` characters without control characters; None for a blank optional."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise error(f"{field} is required")
        return None
    if len(cleaned) > limit or _CONTROL.search(cleaned):
        raise error(f"{field} must be at most {limit} characters without control characters")
    return cleaned


def check_external_id(value: str, *, field: str, error: type[DomainError]) -> str:
    """A client's id for an order, refund or event: 1–64 printable ASCII characters, no spaces."""
    if not _EXTERNAL_ID.match(value):
        raise error(f"{field} must be 1–{ID_LENGTH} printable ASCII characters without spaces")
    return value


def check_member_ref(ref: MemberRef, *, error: type[DomainError]) -> MemberRef:
    """Exactly one of member id, mobile (normalised) or unionid."""
    given = [value for value in (ref.member_id, ref.mobile, ref.unionid) if value is not None]
    if len(given) != 1:
        raise error("give exactly one of memberId, mobile or unionid")
    if ref.mobile is not None:
        try:
            return MemberRef(mobile=normalise_mobile(ref.mobile))
        except InvalidMobile as exc:
            raise error("mobile must be an 11-digit mainland China number") from exc
    if ref.unionid is not None and not _UNIONID.match(ref.unionid):
        raise error("unionid must be 1–64 letters, digits, - or _")
    return ref


def check_store_code(code: str) -> str:
    """A store code's format (letters, digits, - and _, up to 32); whether the store exists is the service's."""
    if not STORE_CODE.match(code):
        raise UnknownStore(f"store code must be 1–{STORE_CODE_LENGTH} letters, digits, - or _")
    return code


def check_occurred_at(at: datetime, *, now: datetime) -> datetime:
    """A time with a zone, not before 2000-01-01 and not in the future beyond the clock skew."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidOccurredAt("occurredAt must carry a time zone")
    if at < EARLIEST:
        raise InvalidOccurredAt("occurredAt must not be before 2000-01-01")
    if at > now + CLOCK_SKEW:
        raise InvalidOccurredAt("occurredAt must not be in the future")
    return at


def check_line(line: Line, number: int) -> Line:
    """One line's fields: sku and category 1–64, name up to 128, quantity 1–100 000, price 0 or more."""
    where = f"line {number}"
    sku = _text(line.sku, field=f"{where}: sku", limit=64, error=InvalidOrder)
    category = _text(line.category, field=f"{where}: category", limit=64, error=InvalidOrder)
    name = _text(line.name, field=f"{where}: name", limit=128, error=InvalidOrder, required=False)
    if not 1 <= line.quantity <= MAX_QUANTITY:
        raise InvalidOrder(f"{where}: quantity must be 1 to {MAX_QUANTITY}")
    if not 0 <= line.unit_price_fen <= MAX_FEN:
        raise InvalidOrder(f"{where}: unit price must be 0 to {MAX_FEN} fen")
    return Line(sku or "", category or "", line.quantity, line.unit_price_fen, name, line.discounted)


def check_order(order: OrderInput, *, now: datetime) -> OrderInput:
    """The order cleaned, or the first rule it breaks: InvalidOrder, UnknownStore (format), InvalidAmount,
    LinesMismatch or InvalidOccurredAt. Pure: whether the member and store exist is the service's to check."""
    check_external_id(order.external_id, field="externalId", error=InvalidOrder)
    member = check_member_ref(order.member, error=InvalidOrder)
    store = check_store_code(order.store_code)
    guide = _text(order.guide, field="guide", limit=GUIDE_LENGTH, error=InvalidOrder, required=False)
    if not 0 < order.paid_fen <= MAX_FEN:
        raise InvalidAmount(f"paidFen must be 1 to {MAX_FEN}")
    if not 0 <= order.discount_fen <= MAX_FEN:
        raise InvalidAmount(f"discountFen must be 0 to {MAX_FEN}")
    if not 1 <= len(order.lines) <= MAX_LINES:
        raise InvalidOrder(f"an order has 1 to {MAX_LINES} lines")
    lines = tuple(check_line(line, number) for number, line in enumerate(order.lines, start=1))
    gross = gross_fen(lines)
    if gross - order.discount_fen != order.paid_fen:
        raise LinesMismatch(
            f"lines add up to {gross} fen, minus a discount of {order.discount_fen} is "
            f"{gross - order.discount_fen}, not the {order.paid_fen} paid"
        )
    occurred_at = check_occurred_at(order.occurred_at, now=now)
    return OrderInput(
        external_id=order.external_id,
        member=member,
        store_code=store,
        channel=order.channel,
        paid_fen=order.paid_fen,
        discount_fen=order.discount_fen,
        lines=lines,
        occurred_at=occurred_at,
        guide=guide,
        earns_points=order.earns_points,
    )


def gross_fen(lines: Sequence[Line]) -> int:
    """What the lines cost before the order's discount."""
    return sum(line.quantity * line.unit_price_fen for line in lines)


def _digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _instant(at: datetime) -> str:
    """The same instant written the same way whatever zone it was sent in."""
    return at.astimezone(UTC).isoformat()


def order_hash(order: OrderInput, member_id: uuid.UUID) -> str:
    """What identifies an order's content: the same order sent again (by mobile or by id) hashes the same."""
    return _digest(
        {
            "member": str(member_id),
            "store": order.store_code,
            "guide": order.guide,
            "channel": order.channel.value,
            "paid": order.paid_fen,
            "discount": order.discount_fen,
            "lines": [line.as_json() for line in order.lines],
            "at": _instant(order.occurred_at),
            "earns": order.earns_points,
        }
    )


def check_refund(refund: RefundInput, *, now: datetime) -> RefundInput:
    """The refund's own rules: InvalidRefund (id, order reference, amount, lines) or InvalidOccurredAt."""
    check_external_id(refund.external_id, field="refundId", error=InvalidRefund)
    if (refund.order_id is None) == (refund.external_order_id is None):
        raise InvalidRefund("give exactly one of orderId or externalOrderId")
    if refund.external_order_id is not None:
        check_external_id(refund.external_order_id, field="externalOrderId", error=InvalidRefund)
    if refund.amount_fen is not None and refund.lines is not None:
        raise InvalidRefund("refund by amount or by lines, not both")
    if refund.amount_fen is not None and not 0 < refund.amount_fen <= MAX_FEN:
        raise InvalidRefund("amountFen must be positive")
    if refund.lines is not None:
        if not 1 <= len(refund.lines) <= MAX_LINES:
            raise InvalidRefund(f"a refund by lines names 1 to {MAX_LINES} lines")
        if len({line.line for line in refund.lines}) != len(refund.lines):
            raise InvalidRefund("a refund names each line once")
        if any(line.quantity < 1 or line.line < 1 for line in refund.lines):
            raise InvalidRefund("line numbers and quantities start at 1")
    check_occurred_at(refund.occurred_at, now=now)
    return refund


def refund_hash(refund: RefundInput) -> str:
    """What identifies a refund's content."""
    lines = None if refund.lines is None else sorted((line.line, line.quantity) for line in refund.lines)
    return _digest(
        {
            "order": str(refund.order_id or ""),
            "external_order": refund.external_order_id,
            "amount": refund.amount_fen,
            "lines": lines,
            "at": _instant(refund.occurred_at),
        }
    )


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What a refund takes: its amount, and the line quantities it gives back (None for refunds by amount)."""

    amount_fen: int
    lines: tuple[RefundLine, ...] | None


def plan_refund(
    refund: RefundInput,
    *,
    paid_fen: int,
    refunded_fen: int,
    lines: Sequence[Line],
    returned: Mapping[int, int],
) -> RefundPlan:
    """The amount of a refund on an order that has `refunded_fen` refunded and `returned` quantities per line.

    In full: what is left. By amount: that amount. By lines: each line's share of the paid amount (the order's
    discount spread in proportion), and what is left exactly once every line is back, so rounding never strands a
    fen. Raises InvalidRefund for a line the order does not have, RefundExceedsOrder (from the caller's CHECK)
    is the caller's: this only computes.
    """
    remaining = paid_fen - refunded_fen
    if refund.lines is None:
        return RefundPlan(remaining if refund.amount_fen is None else refund.amount_fen, None)
    gross = gross_fen(lines)
    amount = 0
    for item in refund.lines:
        if item.line > len(lines):
            raise InvalidRefund(f"the order has no line {item.line}")
        line = lines[item.line - 1]
        amount += round(item.quantity * line.unit_price_fen * paid_fen / gross) if gross else 0
    asked = {item.line: item.quantity for item in refund.lines}
    all_back = all(
        returned.get(number, 0) + asked.get(number, 0) >= line.quantity for number, line in enumerate(lines, start=1)
    )
    return RefundPlan(remaining if all_back else amount, refund.lines)


def lines_over(refund_lines: Sequence[RefundLine], lines: Sequence[Line], returned: Mapping[int, int]) -> list[int]:
    """The line numbers a refund would give back more of than was bought."""
    return [
        item.line
        for item in refund_lines
        if item.line <= len(lines) and returned.get(item.line, 0) + item.quantity > lines[item.line - 1].quantity
    ]


def check_behaviour(event: BehaviourInput, *, now: datetime) -> BehaviourInput:
    """A behaviour event cleaned: InvalidBehaviour (id, member reference, references) or InvalidOccurredAt."""
    check_external_id(event.external_id, field="eventId", error=InvalidBehaviour)
    member = check_member_ref(event.member, error=InvalidBehaviour)
    sku = _text(event.sku, field="sku", limit=64, error=InvalidBehaviour, required=False)
    activity = _text(event.activity, field="activity", limit=64, error=InvalidBehaviour, required=False)
    page = _text(event.page, field="page", limit=256, error=InvalidBehaviour, required=False)
    occurred_at = check_occurred_at(event.occurred_at, now=now)
    return BehaviourInput(event.external_id, member, event.kind, occurred_at, sku, activity, page)


def behaviour_hash(event: BehaviourInput, member_id: uuid.UUID) -> str:
    """What identifies a behaviour event's content."""
    return _digest(
        {
            "member": str(member_id),
            "kind": event.kind.value,
            "sku": event.sku,
            "activity": event.activity,
            "page": event.page,
            "at": _instant(event.occurred_at),
        }
    )


def lines_summary(lines: Sequence[Line]) -> dict[str, Any]:
    """What tiers and RFM need of an order's lines: spend per category (before the order's discount), the share
    of it on discounted lines, and how many items."""
    categories: dict[str, int] = {}
    discounted = 0
    for line in lines:
        amount = line.quantity * line.unit_price_fen
        categories[line.category] = categories.get(line.category, 0) + amount
        discounted += amount if line.discounted else 0
    gross = gross_fen(lines)
    return {
        "categories": [{"category": name, "gross_fen": fen} for name, fen in sorted(categories.items())],
        "discounted_share": round(discounted / gross, 4) if gross else 0.0,
        "item_count": sum(line.quantity for line in lines),
        "line_count": len(lines),
    }
