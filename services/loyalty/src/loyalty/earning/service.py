"""Earning use cases: points from orders (pending, then released), reversed by refunds, and the welcome gift.

Every change of points is a ledger posting through `points.service.post_entries` under the consumer's name
(`loyalty-earning`) and a key derived from the order (`order:<id>:pending`, `order:<id>:earn`,
`order:<id>:refund:<refund id>`, …) or the member (`member:<id>:welcome`), so a redelivered or replayed event
earns nothing twice even beside the inbox. Events out (`points.earned`, `points.released`, `points.reversed`) go
to loyalty's outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from loyalty.config import LoyaltySettings
from loyalty.directory.service import unknown_members
from loyalty.earning.models import OrderPoints, OrderPointsStatus
from loyalty.earning.rules import EarnRules, MemberDays, reversal_for_refund
from loyalty.earning.views import OrderLedger, Released
from loyalty.models import OUTBOX
from loyalty.points.lots import ExpiryPolicies
from loyalty.points.models import EntryKind
from loyalty.points.service import DEFAULT_EXPIRY, post_entries
from loyalty.points.views import Posted, Posting
from loyalty.tiers import service as tiers
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import DomainError
from yutang_shared.events.consumer import Subscription, durable_name
from yutang_shared.outbox import Event, record

ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
MEMBER_REGISTERED = "member.registered"
CONSUMER = "earning"
ACTOR = durable_name("loyalty", CONSUMER)
"""The ledger's `actor` of every entry this feature writes: the durable consumer's name."""
RELEASE_BATCH = 500
RELEASE_LIMIT_MAX = 100_000  # orders per releasePendingPoints call when the caller pages


class UnsupportedEvent(ValueError):
    """An event version this consumer does not understand: retried, then dead-lettered for an operator."""


class OrderNotEarned(RuntimeError):
    """A refund of an order loyalty has not earned on yet (its order.paid is being retried): retried."""


class PostingRefused(RuntimeError):
    """The ledger refused an earning posting (the member is not yet known, …): retried, then dead-lettered."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(f"{type(error).__name__}: {error}")


def rules_of(settings: LoyaltySettings) -> EarnRules:
    """The earning rules the settings configure; ValueError when they are inconsistent (at app start)."""
    return EarnRules(
        points_per_yuan=settings.earn_points_per_yuan,
        bonus_threshold_fen=settings.earn_bonus_threshold_fen,
        bonus_points=settings.earn_bonus_points,
        member_days=MemberDays.parse(settings.member_days),
        member_day_multiplier=settings.member_day_multiplier,
        lock_days=settings.earn_lock_days,
        welcome_points=settings.welcome_points,
        expiry=settings.expiry_policies(),
        tier_multipliers=settings.tier_rules().multipliers(),
    )


async def tier_multiplier(uow: LoyaltyUnitOfWork, member_id: uuid.UUID, rules: EarnRules) -> Decimal:
    """The member's tier earn multiplier (the tier they hold when the order is earned on; 1 without a tier),
    read in the open unit of work."""
    return await tiers.multiplier(uow, member_id, rules.tier_multipliers)


# --------------------------------------------------------------------------------------------- order.paid


async def on_order_paid(uow: LoyaltyUnitOfWork, event: Event, *, rules: EarnRules) -> None:
    """`order.paid` v1: the order's points go to the member's pending total until the lock period ends. Orders
    that do not earn (`earns_points` false, which historical imports are unless imported with --earn-points)
    earn nothing; an order already earned on earns nothing again."""
    _require_version(event, 1)
    data = event.data
    if not data["earns_points"]:
        return
    order_id, member_id = uuid.UUID(data["order_id"]), uuid.UUID(data["member_id"])
    await uow.earning.serialise(order_id)
    occurred_at = datetime.fromisoformat(data["occurred_at"])
    paid_fen = int(data["paid_fen"])
    closed = await uow.earning.is_closed(member_id)
    multiplier = await tier_multiplier(uow, member_id, rules)
    points = 0 if closed else rules.points_for(paid_fen=paid_fen, occurred_at=occurred_at, tier_multiplier=multiplier)
    status = (
        OrderPointsStatus.FORFEITED if closed else OrderPointsStatus.PENDING if points else OrderPointsStatus.RELEASED
    )
    row = OrderPoints(
        order_id=order_id,
        member_id=member_id,
        paid_fen=paid_fen,
        points=points,
        tier_multiplier=multiplier,
        pending=points,
        occurred_at=occurred_at,
        release_on=rules.release_on(occurred_at),
        status=status.value,
    )
    if not await uow.earning.add(row):
        return
    if points:
        reason = f"订单积分 order {data.get('external_id') or order_id}, pending until {row.release_on.isoformat()}"
        posting = Posting(
            member_id, points, EntryKind.EARN_PENDING, reason[:200], f"order:{order_id}:pending", order_id
        )
        _check(await post_entries(uow, [posting], actor=ACTOR, expiry=rules.expiry))
        earned = _earned(
            member_id, points, order_id, source="order", status="pending", available_on=row.release_on.isoformat()
        )
        await record(uow.session, OUTBOX, [earned])
    for parked in await uow.earning.take_parked(order_id):
        await _apply_refund(uow, parked)


# ----------------------------------------------------------------------------------------- order.refunded


async def on_order_refunded(uow: LoyaltyUnitOfWork, event: Event) -> None:
    """`order.refunded` v1: reverse the refund's share of the order's points. Pending points are cancelled
    first; available ones are taken back; what the member already spent becomes owed, settled from their next
    earnings. The balance never goes below zero."""
    _require_version(event, 1)
    data = dict(event.data)
    if not data["earns_points"]:
        return
    order_id, refund_id = uuid.UUID(data["order_id"]), uuid.UUID(data["refund_id"])
    await uow.earning.serialise(order_id)
    row = await uow.earning.lock(order_id)
    if row is None:
        # Its order.paid is still on its way (or was redelivered behind it): keep the refund for when it earns.
        await uow.earning.park(refund_id, order_id, data)
        return
    await _apply_refund(uow, data, row)


async def _apply_refund(uow: LoyaltyUnitOfWork, data: dict[str, Any], row: OrderPoints | None = None) -> None:
    """Reverse one refund's share of an order's points; `row` is the order's points row when already locked."""
    order_id, refund_id = uuid.UUID(data["order_id"]), uuid.UUID(data["refund_id"])
    row = row or await uow.earning.lock(order_id)
    if row is None:
        raise OrderNotEarned(f"order {order_id} has no points row")
    total_fen = int(data["total_refunded_fen"])
    key = f"order:{order_id}:refund:{refund_id}"
    keys = [f"{key}:pending", key, f"{key}:owed"]
    if row.status == OrderPointsStatus.FORFEITED.value or await uow.ledger.by_keys(ACTOR, keys):
        return
    points = reversal_for_refund(
        row.points, paid_fen=row.paid_fen, refunded_fen=int(data["refunded_fen"]), total_refunded_fen=total_fen
    )
    cancelled, taken, owed = await _split(uow, row, points)
    postings = [
        Posting(
            row.member_id, -amount, kind, f"退款冲回 refund {data.get('external_refund_id') or refund_id}", k, order_id
        )
        for amount, kind, k in (
            (cancelled, EntryKind.PENDING_CANCELLED, keys[0]),
            (taken, EntryKind.REVERSAL, keys[1]),
            (-owed, EntryKind.OWED, keys[2]),
        )
        if amount
    ]
    if postings:
        _check(await post_entries(uow, postings, actor=ACTOR))
    await uow.earning.refunded(order_id, cancelled=cancelled, reversed_points=points, refunded_fen=total_fen)
    if points:
        reversed_ = _reversed(row.member_id, order_id, refund_id, points, cancelled=cancelled, taken=taken, owed=owed)
        await record(uow.session, OUTBOX, [reversed_])


async def _split(uow: LoyaltyUnitOfWork, row: OrderPoints, points: int) -> tuple[int, int, int]:
    """(cancelled from pending, taken from the balance, recorded as owed) for a reversal of `points`, the
    member's account locked."""
    cancelled = min(points, row.pending)
    rest = points - cancelled
    if not rest:
        return cancelled, 0, 0
    state = (await uow.ledger.lock_accounts([row.member_id]))[row.member_id]
    taken = min(rest, state.balance)
    return cancelled, taken, rest - taken


# ---------------------------------------------------------------------------------------------- releasing


async def release_pending_points(
    uow: LoyaltyUnitOfWork,
    *,
    as_of: date,
    batch: int = RELEASE_BATCH,
    limit: int | None = None,
    expiry: ExpiryPolicies = DEFAULT_EXPIRY,
) -> Released:
    """Make available the pending points of every order whose release date is on or before `as_of`: per order a
    `pending_released` and an `earn` entry, and, when the member owes points, `owed_settlement`/`owed_settled`
    entries taking the owed out of the new points first. Idempotent per order (a released order is never
    released again; concurrent calls wait for each other). Orders of members closed since are forfeited.

    One transaction per `batch` orders, oldest release date first, each batch starting after the last one (a
    keyset, so a large backlog is read once, not rescanned per batch). With `limit`, stops after that many orders
    (`more` is then true: call again to go on); without, goes on until nothing is due."""
    orders = points = 0
    after: tuple[date, uuid.UUID] | None = None
    while True:
        size = batch if limit is None else min(batch, limit - orders)
        async with uow:
            due = await uow.earning.lock_due(as_of, size, after=after)
            if due:
                released = await _release(uow, due, expiry)
                await uow.commit()
                orders, points = orders + len(due), points + released
                after = (due[-1].release_on, due[-1].order_id)
        if not due:  # not `len(due) < size`: rows a concurrent call took are skipped, and more may follow them
            return Released(as_of=as_of, orders=orders, points=points, more=False)
        if limit is not None and orders >= limit:
            return Released(as_of=as_of, orders=orders, points=points, more=True)


async def _release(uow: LoyaltyUnitOfWork, due: Sequence[OrderPoints], expiry: ExpiryPolicies) -> int:
    now = datetime.now(UTC)
    refused = await unknown_members(uow, {row.member_id for row in due})
    states = await uow.ledger.lock_accounts([row.member_id for row in due if row.member_id not in refused])
    owed = {member_id: state.owed for member_id, state in states.items()}
    postings: list[Posting] = []
    events: list[Event] = []
    for row in due:
        if row.member_id in refused or not row.pending:
            continue
        settled = min(owed[row.member_id], row.pending)
        owed[row.member_id] -= settled
        postings.extend(_release_postings(row, settled))
        events.append(_released(row, settled))
    if postings:
        _check(await post_entries(uow, postings, actor=ACTOR, expiry=expiry))
    released = [row for row in due if row.member_id not in refused]
    points = sum(row.pending for row in released)
    await uow.earning.mark([row.order_id for row in released], OrderPointsStatus.RELEASED, now)
    if forfeited := [row.order_id for row in due if row.member_id in refused]:
        await uow.earning.mark(forfeited, OrderPointsStatus.FORFEITED, now)
    await record(uow.session, OUTBOX, events)
    return points


def _release_postings(row: OrderPoints, settled: int) -> list[Posting]:
    key, reason = f"order:{row.order_id}", f"订单积分解锁 order points available ({row.release_on.isoformat()})"
    postings = [
        Posting(row.member_id, -row.pending, EntryKind.PENDING_RELEASED, reason, f"{key}:release", row.order_id),
        Posting(row.member_id, row.pending, EntryKind.EARN, reason, f"{key}:earn", row.order_id),
    ]
    if settled:
        owed_reason = "抵扣欠分 owed points settled from new earnings"
        postings += [
            Posting(row.member_id, -settled, EntryKind.OWED_SETTLEMENT, owed_reason, f"{key}:settle", row.order_id),
            Posting(row.member_id, -settled, EntryKind.OWED_SETTLED, owed_reason, f"{key}:settled", row.order_id),
        ]
    return postings


# ---------------------------------------------------------------------------------------- member.registered


async def on_member_registered(uow: LoyaltyUnitOfWork, event: Event, *, rules: EarnRules) -> None:
    """`member.registered` v1: the card-opening gift (开卡礼), when configured. The member goes into the directory
    here too (the same idempotent upsert as the directory consumer's), so the gift and the member's first
    orders never wait for the other consumer."""
    _require_version(event, 1)
    member_id = uuid.UUID(event.data["member_id"])
    await uow.directory.register(member_id, datetime.fromisoformat(event.data["registered_at"]))
    if not rules.welcome_points or await uow.earning.is_closed(member_id):
        return
    posting = Posting(
        member_id, rules.welcome_points, EntryKind.WELCOME, "开卡礼 welcome gift", f"member:{member_id}:welcome"
    )
    (result,) = await post_entries(uow, [posting], actor=ACTOR, expiry=rules.expiry)
    _check([result])
    if isinstance(result, Posted) and not result.replayed:
        welcome = _earned(
            member_id, rules.welcome_points, None, source="welcome", status="available", available_on=None
        )
        await record(uow.session, OUTBOX, [welcome])


# ------------------------------------------------------------------------------------------ reconciliation


async def order_ledger_page(uow: LoyaltyUnitOfWork, *, after: uuid.UUID | None, limit: int) -> list[OrderLedger]:
    """Orders loyalty knows (from its rows or from ledger entries naming them) after `after`, by id, with the
    ledger's sums: what reconciliation compares with members' orders."""
    async with uow:
        return [OrderLedger.of(row) for row in await uow.earning.ledger_by_order(after=after, limit=limit)]


# ------------------------------------------------------------------------------------------------- wiring


def subscription(rules: EarnRules) -> Subscription[LoyaltyUnitOfWork]:
    """Loyalty's earning consumer (the durable `loyalty-earning`) with the configured rules."""
    return Subscription(
        name=CONSUMER,
        source="members",
        handlers={
            ORDER_PAID: partial(on_order_paid, rules=rules),
            ORDER_REFUNDED: on_order_refunded,
            MEMBER_REGISTERED: partial(on_member_registered, rules=rules),
        },
    )


def _check(results: Sequence[Posted | DomainError]) -> None:
    for result in results:
        if isinstance(result, DomainError):
            raise PostingRefused(result)


def _require_version(event: Event, version: int) -> None:
    if event.version != version:
        raise UnsupportedEvent(f"{event.type} v{event.version} is not supported (expected v{version})")


def _earned(
    member_id: uuid.UUID, points: int, order_id: uuid.UUID | None, *, source: str, status: str, available_on: Any
) -> Event:
    return Event(
        type="points.earned",
        aggregate_id=str(member_id),
        data={
            "member_id": str(member_id),
            "order_id": None if order_id is None else str(order_id),
            "source": source,
            "points": points,
            "status": status,
            "available_on": available_on,
        },
    )


def _released(row: OrderPoints, settled: int) -> Event:
    return Event(
        type="points.released",
        aggregate_id=str(row.member_id),
        data={
            "member_id": str(row.member_id),
            "order_id": str(row.order_id),
            "points": row.pending,
            "owed_settled": settled,
            "release_on": row.release_on.isoformat(),
        },
    )


def _reversed(
    member_id: uuid.UUID,
    order_id: uuid.UUID,
    refund_id: uuid.UUID,
    points: int,
    *,
    cancelled: int,
    taken: int,
    owed: int,
) -> Event:
    return Event(
        type="points.reversed",
        aggregate_id=str(member_id),
        data={
            "member_id": str(member_id),
            "order_id": str(order_id),
            "refund_id": str(refund_id),
            "points": points,
            "pending_cancelled": cancelled,
            "taken": taken,
            "owed": owed,
        },
    )
