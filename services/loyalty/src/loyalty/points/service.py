"""Adjusting points: append a ledger entry and move the balance in one transaction, exactly once per key."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError

from loyalty.domain.errors import IdempotencyKeyReused, InsufficientPoints
from loyalty.domain.models import LedgerEntry
from loyalty.domain.rules import check_adjustment
from loyalty.services.views import Adjustment, EntryView
from loyalty.uow import LoyaltyUnitOfWork

log = logging.getLogger(__name__)
KEY_CONSTRAINT = "uq_ledger_entries_idempotency_key"


async def adjust_points(
    uow: LoyaltyUnitOfWork,
    *,
    member_id: uuid.UUID,
    points: int,
    reason: str,
    idempotency_key: str,
    actor: str,
    max_points: int,
) -> Adjustment:
    """Credit (points > 0) or debit (points < 0) a member's balance, with a reason, once per idempotency key.

    The same key with the same member, points and reason returns the first result (`replayed`), so callers can
    retry freely. Raises InvalidAdjustment, InsufficientPoints (the balance never goes below zero) or
    IdempotencyKeyReused (the key was used for a different adjustment); then nothing is written.
    """
    cleaned = check_adjustment(points=points, reason=reason, idempotency_key=idempotency_key, max_points=max_points)
    request = (member_id, points, cleaned)
    try:
        return await _apply(uow, request, idempotency_key=idempotency_key, actor=actor)
    except IntegrityError as exc:
        if KEY_CONSTRAINT not in str(exc):
            raise
    # Another transaction committed the same key between our check and our insert (possible only across
    # members, since one member's writes are serialised by the account lock): answer as that write did.
    async with uow:
        existing = await uow.ledger.by_key(idempotency_key)
        if existing is None:
            raise RuntimeError(f"idempotency key {idempotency_key!r} collided but no entry holds it")
        accounts = await uow.accounts.by_member_ids([existing.member_id])
        return _replay(existing, request, balance=accounts[0].balance)


async def _apply(
    uow: LoyaltyUnitOfWork, request: tuple[uuid.UUID, int, str], *, idempotency_key: str, actor: str
) -> Adjustment:
    member_id, points, reason = request
    async with uow:
        account = await uow.accounts.lock(member_id)
        if (existing := await uow.ledger.by_key(idempotency_key)) is not None:
            return _replay(existing, request, balance=account.balance)
        balance = account.balance + points
        if balance < 0:
            raise InsufficientPoints(balance=account.balance, requested=points)
        entry = await uow.ledger.append(
            LedgerEntry(
                member_id=member_id,
                points=points,
                balance_after=balance,
                kind="adjustment",
                reason=reason,
                idempotency_key=idempotency_key,
                actor=actor,
            )
        )
        await uow.accounts.set_balance(member_id, balance)
        view = EntryView.of(entry)
        await uow.commit()
    log.info(
        "points adjusted",
        extra={"member_id": str(member_id), "points": points, "balance": balance, "key": idempotency_key},
    )
    return Adjustment(entry=view, balance=balance, replayed=False)


def _replay(existing: LedgerEntry, request: tuple[uuid.UUID, int, str], *, balance: int) -> Adjustment:
    """The first result of a key, when the request matches it; `balance` is the member's balance now."""
    if (existing.member_id, existing.points, existing.reason) != request:
        raise IdempotencyKeyReused("this idempotencyKey was already used for a different adjustment")
    return Adjustment(entry=EntryView.of(existing), balance=balance, replayed=True)
