"""Points as cash use cases: a quote holds points (a ledger debit from the soonest-expiring lots), a capture
makes the hold the spend, a void (or the hold's expiry) gives the points back to the lots they came from.

Exactly once: a quote per caller's key (unique in the table; a concurrent twin fails on it and replays), a
capture per payment (the row is locked; a repeat with the same key replays), a void or release per payment (the
row is locked, and the release's ledger key is `payment:<id>:release`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from loyalty.payment.errors import PaymentClosed, PaymentNotFound, QuoteRefused
from loyalty.payment.models import PaymentStatus, PointsPayment
from loyalty.payment.rules import CashRules
from loyalty.payment.views import PaymentView
from loyalty.points.errors import IdempotencyKeyReused
from loyalty.points.models import EntryKind
from loyalty.points.rules import KEY_PATTERN
from loyalty.points.service import post_entries
from loyalty.points.views import Posting
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import DomainError

ACTOR = "loyalty-payment"


async def quote_points_payment(
    uow: LoyaltyUnitOfWork,
    *,
    member_id: uuid.UUID,
    order_amount_fen: int,
    store_code: str,
    requested: int | None,
    quote_key: str,
    actor: str,
    rules: CashRules,
    now: datetime,
) -> PaymentView:
    """How many points can pay this order, held until `now` + the hold time. The same caller's key replays the
    quote. Raises QuoteRefused, IdempotencyKeyReused, UnknownMember; nothing is held then."""
    if not KEY_PATTERN.match(quote_key) or not 1 <= len(store_code) <= 64:
        raise QuoteRefused("idempotencyKey: 1–128 of letters, digits and : . _ / -; storeCode: 1–64 characters")
    for attempt in (1, 2):
        try:
            return await _quote(uow, member_id, order_amount_fen, store_code, requested, quote_key, actor, rules, now)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _quote(
    uow: LoyaltyUnitOfWork,
    member_id: uuid.UUID,
    order_amount_fen: int,
    store_code: str,
    requested: int | None,
    quote_key: str,
    actor: str,
    rules: CashRules,
    now: datetime,
) -> PaymentView:
    async with uow:
        if (prior := await uow.payment.by_key(actor, quote_key)) is not None:
            if (prior.member_id, prior.order_amount_fen, prior.store_code) != (member_id, order_amount_fen, store_code):
                raise IdempotencyKeyReused("this idempotencyKey was already used for another quote")
            return PaymentView.of(prior, replayed=True)
        state = (await uow.ledger.lock_accounts([member_id]))[member_id]
        points, amount_fen = rules.quote(order_amount_fen=order_amount_fen, balance=state.balance, requested=requested)
        payment_id = uuid.uuid4()
        hold = Posting(
            member_id,
            -points,
            EntryKind.POINTS_PAYMENT,
            f"积分抵现 paying at {store_code}",
            f"payment:{payment_id}:hold",
        )
        (result,) = await post_entries(uow, [hold], actor=ACTOR)
        if isinstance(result, DomainError):
            raise result
        row = PointsPayment(
            id=payment_id,
            member_id=member_id,
            store_code=store_code,
            order_amount_fen=order_amount_fen,
            points=points,
            amount_fen=amount_fen,
            status=PaymentStatus.HELD.value,
            hold_entry_id=result.entry.id,
            actor=actor,
            quote_key=quote_key,
            expires_at=now + timedelta(minutes=rules.hold_minutes),
        )
        await uow.payment.add(row)
        await uow.commit()
    return PaymentView.of(row)


async def capture_points_payment(
    uow: LoyaltyUnitOfWork, *, payment_id: uuid.UUID, capture_key: str, now: datetime
) -> PaymentView:
    """Make the hold the spend, once: the same key again replays. Raises PaymentNotFound, or PaymentClosed for a
    voided, expired (it releases itself then) or otherwise captured hold."""
    async with uow:
        row = await uow.payment.lock(payment_id)
        if row is None:
            raise PaymentNotFound(f"no points payment {payment_id}")
        if row.status == PaymentStatus.CAPTURED.value and row.capture_key == capture_key:
            return PaymentView.of(row, replayed=True)
        if row.status != PaymentStatus.HELD.value:
            raise PaymentClosed(f"the payment is {row.status}; it cannot be captured")
        if row.expires_at <= now:
            await _release([row], PaymentStatus.EXPIRED, uow, now)
            await uow.commit()
            expired = True
        else:
            await uow.payment.settle([row.id], PaymentStatus.CAPTURED.value, now, capture_key)
            await uow.commit()
            expired = False
    if expired:
        raise PaymentClosed("the hold expired and released its points; quote again")
    return PaymentView.of(row, status=PaymentStatus.CAPTURED)


async def void_points_payment(uow: LoyaltyUnitOfWork, *, payment_id: uuid.UUID, now: datetime) -> PaymentView:
    """Release the hold back to the lots it came from, once (a repeat replays). Raises PaymentNotFound, or
    PaymentClosed for a captured or expired payment."""
    async with uow:
        row = await uow.payment.lock(payment_id)
        if row is None:
            raise PaymentNotFound(f"no points payment {payment_id}")
        if row.status == PaymentStatus.VOIDED.value:
            return PaymentView.of(row, replayed=True)
        if row.status != PaymentStatus.HELD.value:
            raise PaymentClosed(f"the payment is {row.status}; it cannot be voided")
        await _release([row], PaymentStatus.VOIDED, uow, now)
        await uow.commit()
    return PaymentView.of(row, status=PaymentStatus.VOIDED)


async def release_expired_holds(uow: LoyaltyUnitOfWork, *, now: datetime, limit: int = 500) -> int:
    """Release every hold past its time (up to `limit` in one transaction): how many were released."""
    async with uow:
        rows = await uow.payment.expired(now, limit)
        if rows:
            await _release(rows, PaymentStatus.EXPIRED, uow, now)
            await uow.commit()
    return len(rows)


async def _release(rows: list[PointsPayment], status: PaymentStatus, uow: LoyaltyUnitOfWork, now: datetime) -> None:
    postings = [
        Posting(
            row.member_id,
            row.points,
            EntryKind.POINTS_PAYMENT_RELEASED,
            f"积分抵现 {status.value}: points back",
            f"payment:{row.id}:release",
            restores=row.hold_entry_id,
        )
        for row in rows
    ]
    for result in await post_entries(uow, postings, actor=ACTOR):
        if isinstance(result, DomainError):
            raise RuntimeError(f"releasing a hold was refused: {result}")
    await uow.payment.settle([row.id for row in rows], status.value, now)
