"""Orders use cases: recording orders (one or a batch), refunds and behaviour events, exactly once per client id,
with their events in the same transaction; reading orders and members' order statistics."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from members.audit.models import OK
from members.audit.service import AuditAs, record_outcomes
from members.authorization import MemberScope
from members.models import OUTBOX
from members.orders.errors import (
    BehaviourConflict,
    MemberNotActive,
    OrderConflict,
    RefundConflict,
    RefundExceedsOrder,
    UnknownMember,
    UnknownOrder,
    UnknownStore,
)
from members.orders.errors import InvalidRefund as InvalidRefundError
from members.orders.models import Refund
from members.orders.rules import (
    behaviour_hash,
    check_behaviour,
    check_order,
    check_refund,
    lines_over,
    lines_summary,
    order_hash,
    plan_refund,
    refund_hash,
)
from members.orders.views import (
    NO_ORDERS,
    BehaviourInput,
    BehaviourView,
    FoundMember,
    MemberRef,
    Observed,
    OrderFilter,
    OrderInput,
    OrderStats,
    OrderView,
    Recorded,
    Refunded,
    RefundInput,
    RefundView,
)
from members.pii import MobileVault
from members.uow import MembersUnitOfWork
from yutang_shared.errors import DomainError
from yutang_shared.ids import uuid7
from yutang_shared.outbox import Event, record

log = logging.getLogger(__name__)
_ATTEMPTS = 3
T = TypeVar("T")


class _KeyRaced(Exception):
    """Another transaction committed one of this batch's ids after we looked: start over, it will replay."""


async def _retrying(attempt: Callable[[], Any], what: str) -> Any:
    for number in range(1, _ATTEMPTS + 1):
        try:
            return await attempt()
        except _KeyRaced:
            log.info("%s raced another transaction; retrying", what, extra={"attempt": number})
    raise RuntimeError(f"{what} kept racing other transactions")


# ------------------------------------------------------------------------------------------------ members


class _Members:
    """The members a batch's references name, found in one query."""

    def __init__(self, vault: MobileVault, found: Sequence[FoundMember]) -> None:
        self.vault = vault
        self.by_id = {m.id: m for m in found}
        self.by_fingerprint = {m.fingerprint: m for m in found if m.fingerprint}
        self.by_unionid = {m.unionid: m for m in found if m.unionid}

    def of(self, ref: MemberRef) -> FoundMember | None:
        if ref.member_id is not None:
            return self.by_id.get(ref.member_id)
        if ref.mobile is not None:
            return self.by_fingerprint.get(self.vault.fingerprint(ref.mobile))
        return self.by_unionid.get(ref.unionid or "")


async def _find_members(
    uow: MembersUnitOfWork, vault: MobileVault, refs: Sequence[MemberRef], *, scope: MemberScope | None = None
) -> _Members:
    """The members the references name; with a `scope`, only those within it (the others are not found)."""
    ids = [r.member_id for r in refs if r.member_id is not None]
    fingerprints = [vault.fingerprint(r.mobile) for r in refs if r.mobile is not None]
    unionids = [r.unionid for r in refs if r.unionid is not None]
    found = await uow.orders.find_members(ids, fingerprints, unionids)
    if scope is not None and not scope.everyone:
        homes = sorted({m.home_store_code for m in found if m.home_store_code is not None})
        regions = await uow.organisation.region_of_stores(homes) if scope.regions and homes else {}
        found = [
            m
            for m in found
            if str(m.id) == scope.member_id
            or m.home_store_code in scope.stores
            or (m.home_store_code is not None and regions.get(m.home_store_code) in scope.regions)
        ]
    return _Members(vault, found)


def _serviceable(member: FoundMember | None) -> FoundMember:
    if member is None:
        raise UnknownMember("no member has that id, mobile or unionid")
    if not member.active:
        raise MemberNotActive("the member is frozen or closed")
    return member


def _checked(items: Sequence[T], check: Callable[[T], T]) -> list[T | DomainError]:
    results: list[T | DomainError] = []
    for item in items:
        try:
            results.append(check(item))
        except DomainError as exc:
            results.append(exc)
    return results


# ------------------------------------------------------------------------------------------------- orders


async def record_orders(
    uow: MembersUnitOfWork,
    vault: MobileVault,
    orders: Sequence[OrderInput],
    *,
    client: str,
    now: datetime | None = None,
    audit: AuditAs | None = None,
) -> list[Recorded | DomainError]:
    """Record orders of one client in one transaction, with an `order.paid` event each; one result per order.

    An id this client already used replays its order (`replayed`) when the content is the same, and is
    OrderConflict otherwise. A refused order (InvalidOrder, InvalidAmount, LinesMismatch, InvalidOccurredAt,
    UnknownStore, UnknownMember, MemberNotActive) is returned, not raised: nothing is written for it, and it
    does not hold back the others. The same id sent concurrently is one order: the later transaction replays.
    With `audit`, one audit entry per order in the same transaction: the order (new or replayed) and `ok`, or no
    target and the refusal's code.
    """
    at = now or datetime.now(UTC)
    checked = _checked(orders, lambda order: check_order(order, now=at))
    return await _retrying(lambda: _record(uow, vault, checked, client=client, now=at, audit=audit), "order id")  # type: ignore[no-any-return]


async def _record(
    uow: MembersUnitOfWork,
    vault: MobileVault,
    checked: Sequence[OrderInput | DomainError],
    *,
    client: str,
    now: datetime,
    audit: AuditAs | None,
) -> list[Recorded | DomainError]:
    valid = [order for order in checked if isinstance(order, OrderInput)]
    async with uow:
        members = await _find_members(uow, vault, [order.member for order in valid])
        known = {
            row.external_id: OrderView.of(row)
            for row in await uow.orders.orders_by_keys(client, [order.external_id for order in valid])
        }
        codes = sorted({order.store_code for order in valid})
        unknown_stores = set(codes) - set(await uow.organisation.region_of_stores(codes)) if codes else set()
        results: list[Recorded | DomainError] = []
        written: list[OrderView] = []
        for item in checked:
            if isinstance(item, DomainError):
                results.append(item)
                continue
            try:
                results.append(_one(item, members, known, unknown_stores, client=client, now=now, written=written))
            except DomainError as exc:
                results.append(exc)
        if written:
            inserted = await uow.orders.insert_orders(client, [_row(view) for view in written], now)
            if len(inserted) < len(written):
                raise _KeyRaced
            await record(uow.session, OUTBOX, [paid_event(view) for view in written])
        await record_outcomes(uow, audit, target_type="order", outcomes=_outcomes(results, lambda r: r.order.id))
        if written or audit is not None:
            await uow.commit()
    for view in written:
        log.info("order recorded", extra={"order_id": str(view.id), "member_id": str(view.member_id)})
    return results


def _outcomes(results: Sequence[T | DomainError], target: Callable[[T], object]) -> list[tuple[object | None, str]]:
    """Each item's audit target and outcome: its target and `ok`, or no target and its refusal's code."""
    return [(None, r.code.value) if isinstance(r, DomainError) else (target(r), OK) for r in results]


def _one(
    order: OrderInput,
    members: _Members,
    known: dict[str, OrderView],
    unknown_stores: set[str],
    *,
    client: str,
    now: datetime,
    written: list[OrderView],
) -> Recorded:
    """One checked order: a replay, or a new order appended to `written` (raises its refusal)."""
    member = members.of(order.member)
    if (prior := known.get(order.external_id)) is not None:
        if member is None or prior.content_hash != order_hash(order, member.id):
            raise OrderConflict("this externalId was already used for a different order")
        return Recorded(order=prior, replayed=True)
    member = _serviceable(member)
    if order.store_code in unknown_stores:
        raise UnknownStore(f"no store has the code {order.store_code}")
    view = OrderView(
        id=uuid7(),
        client=client,
        external_id=order.external_id,
        member_id=member.id,
        store_code=order.store_code,
        guide=order.guide,
        channel=order.channel,
        paid_fen=order.paid_fen,
        discount_fen=order.discount_fen,
        refunded_fen=0,
        lines=order.lines,
        occurred_at=order.occurred_at,
        earns_points=order.earns_points,
        imported=False,
        recorded_at=now,
        content_hash=order_hash(order, member.id),
    )
    known[order.external_id] = view  # the same id again in this batch replays this one
    written.append(view)
    return Recorded(order=view, replayed=False)


def _row(view: OrderView) -> dict[str, Any]:
    return {
        "id": view.id,
        "external_id": view.external_id,
        "member_id": view.member_id,
        "store_code": view.store_code,
        "guide": view.guide,
        "channel": view.channel.value,
        "paid_fen": view.paid_fen,
        "discount_fen": view.discount_fen,
        "lines": [line.as_json() for line in view.lines],
        "occurred_at": view.occurred_at,
        "earns_points": view.earns_points,
        "content_hash": view.content_hash,
    }


def paid_event(order: OrderView) -> Event:
    """`order.paid` v1: what loyalty (points), tiers and RFM need of a new order; no personal data."""
    return Event(
        type="order.paid",
        aggregate_id=str(order.id),
        occurred_at=order.occurred_at,
        data={
            "order_id": str(order.id),
            "client": order.client,
            "external_id": order.external_id,
            "member_id": str(order.member_id),
            "store_code": order.store_code,
            "guide": order.guide,
            "channel": order.channel.value,
            "paid_fen": order.paid_fen,
            "discount_fen": order.discount_fen,
            "occurred_at": order.occurred_at.isoformat(),
            "earns_points": order.earns_points,
            "imported": order.imported,
            **lines_summary(order.lines),
        },
    )


# ------------------------------------------------------------------------------------------------ refunds


async def record_refund(
    uow: MembersUnitOfWork,
    refund: RefundInput,
    *,
    client: str,
    now: datetime | None = None,
    audit: AuditAs | None = None,
) -> Refunded:
    """Give money back on an order, in full, by amount or by lines, once per client refund id, with an
    `order.refunded` event in the same transaction.

    The order is locked while the refund is weighed, so concurrent refunds never take more than was paid (the
    orders table's CHECK backs it). Raises InvalidRefund, InvalidOccurredAt, UnknownOrder, RefundExceedsOrder or
    RefundConflict (the id was used for another refund); then nothing is written. With `audit`, a recorded or
    replayed refund is audited (target: the order) in the same transaction.
    """
    at = now or datetime.now(UTC)
    checked = check_refund(refund, now=at)
    return await _retrying(lambda: _refund(uow, checked, client=client, now=at, audit=audit), "refund id")  # type: ignore[no-any-return]


async def _refund(
    uow: MembersUnitOfWork, refund: RefundInput, *, client: str, now: datetime, audit: AuditAs | None
) -> Refunded:
    content_hash = refund_hash(refund)
    async with uow:
        if (prior := await uow.orders.refund_by_key(client, refund.external_id)) is not None:
            if prior.content_hash != content_hash:
                raise RefundConflict("this refundId was already used for a different refund")
            (refunded,) = await uow.orders.by_ids([prior.order_id])
            await record_outcomes(uow, audit, target_type="order", outcomes=[(prior.order_id, OK)])
            if audit is not None:
                await uow.commit()
            return Refunded(refund=RefundView.of(prior), order=OrderView.of(refunded), replayed=True)
        locked = await uow.orders.lock_order(
            order_id=refund.order_id, client=client, external_id=refund.external_order_id
        )
        if locked is None:
            raise UnknownOrder("no order has that id")
        order = OrderView.of(locked)
        if refund.occurred_at < order.occurred_at:
            raise InvalidRefundError("a refund cannot happen before its order")
        returned = await uow.orders.returned_quantities(order.id) if refund.lines is not None else {}
        if refund.lines is not None and (over := lines_over(refund.lines, order.lines, returned)):
            raise RefundExceedsOrder(f"lines {over} would give back more than was bought")
        plan = plan_refund(
            refund, paid_fen=order.paid_fen, refunded_fen=order.refunded_fen, lines=order.lines, returned=returned
        )
        if not 0 < plan.amount_fen <= order.remaining_fen:
            raise RefundExceedsOrder(f"{order.remaining_fen} fen is left to refund on this order")
        stored = Refund(
            id=uuid7(),
            client=client,
            external_id=refund.external_id,
            order_id=order.id,
            amount_fen=plan.amount_fen,
            lines=None if plan.lines is None else [{"line": x.line, "quantity": x.quantity} for x in plan.lines],
            occurred_at=refund.occurred_at,
            content_hash=content_hash,
            recorded_at=now,
        )
        if not await uow.orders.insert_refund(stored):
            raise _KeyRaced
        order = replace(order, refunded_fen=await uow.orders.add_refunded(order.id, plan.amount_fen))
        view = RefundView.of(stored)
        await record(uow.session, OUTBOX, [refunded_event(order, view)])
        await record_outcomes(uow, audit, target_type="order", outcomes=[(order.id, OK)])
        await uow.commit()
    log.info("order refunded", extra={"order_id": str(order.id), "refund_id": str(view.id)})
    return Refunded(refund=view, order=order, replayed=False)


def refunded_event(order: OrderView, refund: RefundView) -> Event:
    """`order.refunded` v1: enough for loyalty to reverse points in proportion (refunded of paid)."""
    return Event(
        type="order.refunded",
        aggregate_id=str(order.id),
        occurred_at=refund.occurred_at,
        data={
            "order_id": str(order.id),
            "refund_id": str(refund.id),
            "client": order.client,
            "external_refund_id": refund.external_id,
            "member_id": str(order.member_id),
            "refunded_fen": refund.amount_fen,
            "paid_fen": order.paid_fen,
            "total_refunded_fen": order.refunded_fen,
            "remaining_fen": order.remaining_fen,
            "earns_points": order.earns_points,
            "occurred_at": refund.occurred_at.isoformat(),
        },
    )


# ---------------------------------------------------------------------------------------------- behaviour


async def record_behaviour(
    uow: MembersUnitOfWork,
    vault: MobileVault,
    events: Sequence[BehaviourInput],
    *,
    client: str,
    now: datetime | None = None,
    scope: MemberScope | None = None,
    audit: AuditAs | None = None,
) -> list[Observed | DomainError]:
    """Record behaviour events of one client in one transaction, once per client event id; one result per
    event. A refused event (InvalidBehaviour, InvalidOccurredAt, UnknownMember, MemberNotActive,
    BehaviourConflict) is returned, not raised, and does not hold back the others. A member outside `scope`
    (their home store not among its stores or regions) is UnknownMember, like one that does not exist. With
    `audit`, one audit entry per event in the same transaction: the member and `ok` (a replay included), or no
    target and the refusal's code."""
    at = now or datetime.now(UTC)
    checked = _checked(events, lambda event: check_behaviour(event, now=at))
    return await _retrying(  # type: ignore[no-any-return]
        lambda: _observe(uow, vault, checked, client=client, now=at, scope=scope, audit=audit), "event id"
    )


async def _observe(
    uow: MembersUnitOfWork,
    vault: MobileVault,
    checked: Sequence[BehaviourInput | DomainError],
    *,
    client: str,
    now: datetime,
    scope: MemberScope | None,
    audit: AuditAs | None,
) -> list[Observed | DomainError]:
    valid = [event for event in checked if isinstance(event, BehaviourInput)]
    async with uow:
        members = await _find_members(uow, vault, [event.member for event in valid], scope=scope)
        rows = await uow.orders.events_by_keys(client, [event.external_id for event in valid])
        known = {row.external_id: BehaviourView.of(row) for row in rows}
        results: list[Observed | DomainError] = []
        written: list[BehaviourView] = []
        for item in checked:
            if isinstance(item, DomainError):
                results.append(item)
                continue
            try:
                results.append(_observe_one(item, members, known, written))
            except DomainError as exc:
                results.append(exc)
        if written:
            inserted = await uow.orders.insert_events(client, [_event_row(view) for view in written], now)
            if len(inserted) < len(written):
                raise _KeyRaced
        outcomes = _outcomes(results, lambda r: r.event.member_id)
        await record_outcomes(uow, audit, target_type="member", outcomes=outcomes)
        if written or audit is not None:
            await uow.commit()
    return results


def _observe_one(
    event: BehaviourInput, members: _Members, known: dict[str, BehaviourView], written: list[BehaviourView]
) -> Observed:
    member = members.of(event.member)
    if (prior := known.get(event.external_id)) is not None:
        if member is None or prior.content_hash != behaviour_hash(event, member.id):
            raise BehaviourConflict("this eventId was already used for a different event")
        return Observed(event=prior, replayed=True)
    member = _serviceable(member)
    view = BehaviourView(
        id=uuid7(),
        external_id=event.external_id,
        member_id=member.id,
        kind=event.kind,
        sku=event.sku,
        activity=event.activity,
        page=event.page,
        occurred_at=event.occurred_at,
        content_hash=behaviour_hash(event, member.id),
    )
    known[event.external_id] = view
    written.append(view)
    return Observed(event=view, replayed=False)


def _event_row(view: BehaviourView) -> dict[str, Any]:
    return {
        "id": view.id,
        "external_id": view.external_id,
        "member_id": view.member_id,
        "kind": view.kind.value,
        "sku": view.sku,
        "activity": view.activity,
        "page": view.page,
        "occurred_at": view.occurred_at,
        "content_hash": view.content_hash,
    }


# -------------------------------------------------------------------------------------------------- reads


async def orders_by_ids(uow: MembersUnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OrderView]:
    """The orders among `ids` that exist, keyed by id, in one query."""
    async with uow:
        return {row.id: OrderView.of(row) for row in await uow.orders.by_ids(ids)}


async def order_by_key(uow: MembersUnitOfWork, client: str, external_id: str) -> OrderView | None:
    """The order this client recorded under `external_id`, if any."""
    async with uow:
        found = await uow.orders.orders_by_keys(client, [external_id])
        return OrderView.of(found[0]) if found else None


async def list_orders(
    uow: MembersUnitOfWork,
    filters: OrderFilter,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
    scope: MemberScope | None = None,
) -> list[OrderView]:
    """Up to `limit` orders newest first, older than the (occurred_at, id) position `before`, filtered, of the
    stores within `scope` (in SQL)."""
    async with uow:
        rows = await uow.orders.page(filters, limit=limit, before=before, scope=scope)
        return [OrderView.of(row) for row in rows]


async def count_orders(uow: MembersUnitOfWork, filters: OrderFilter, scope: MemberScope | None = None) -> int:
    """How many orders match the filters within `scope`, in one query."""
    async with uow:
        return await uow.orders.count(filters, scope)


async def order_stats(uow: MembersUnitOfWork, member_ids: Sequence[uuid.UUID]) -> list[OrderStats]:
    """Each member's order statistics net of refunds, in the order asked, in one query."""
    async with uow:
        found = await uow.orders.stats(member_ids)
    return [found.get(member_id, NO_ORDERS) for member_id in member_ids]
