"""Points use cases: the one write path of the ledger, manual adjustments, balances and history."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty.directory.service import unknown_members
from loyalty.models import OUTBOX
from loyalty.points.errors import IdempotencyKeyReused, InsufficientPoints
from loyalty.points.lots import Allocation, ExpiryPolicies, LotEntry, allocate
from loyalty.points.models import Bucket, EntryKind, bucket_of
from loyalty.points.rules import check_adjustment
from loyalty.points.views import AccountState, EntryView, Posted, Posting
from loyalty.uow import LoyaltyUnitOfWork
from yutang_shared.errors import DomainError
from yutang_shared.outbox import Event, record

log = logging.getLogger(__name__)
_ATTEMPTS = 3
DEFAULT_EXPIRY = ExpiryPolicies()
BALANCE_CHANGED = "points.balance-changed"


class KeyRaced(Exception):
    """Another transaction committed one of this batch's keys after we looked: start over, it will replay."""


async def post_entries(
    uow: LoyaltyUnitOfWork, postings: Sequence[Posting], *, actor: str, expiry: ExpiryPolicies = DEFAULT_EXPIRY
) -> list[Posted | DomainError]:
    """Write ledger entries for one caller in one transaction: the only way points move.

    Locks the members' accounts in id order, looks the caller's keys up, appends each entry and moves the
    bucket its kind names (available balance, pending or owed); answers one result per posting, in order. A key
    already used by this caller with the same request replays its first result; with another request it is
    IdempotencyKeyReused. Every available-balance credit is a lot expiring as `expiry` says for its kind (or gives
    back the lots of the debit it `restores`); every debit takes from the soonest-expiring lots (an expiry from
    its lot, a refund's reversal from its order's lot first) and records the lots it used; and each member whose
    available balance moved gets one `points.balance-changed` event. A debit its bucket cannot cover is
    InsufficientPoints; a member the directory does not
    hold as active is UnknownMember (checked for the whole batch in one query, in the same transaction). Those
    results are returned, not raised: one refused posting does not hold back the others, and nothing is written
    for it.

    With a closed `uow` this opens it, commits, and starts over when a concurrent transaction took one of the
    keys. With an open one (an event handler's, whose inbox row must commit together with the entries) it
    writes in that transaction and leaves the commit to the caller; a key race then raises KeyRaced, and the
    caller rolls back and tries again (a consumer naks the event, which is redelivered and then replays).
    """
    if uow.is_open:
        return await _write(uow, postings, actor=actor, expiry=expiry)
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            async with uow:
                results = await _write(uow, postings, actor=actor, expiry=expiry)
                await uow.commit()
            return results
        except KeyRaced:
            log.info("idempotency key raced another transaction; retrying", extra={"attempt": attempt})
    raise RuntimeError("idempotency keys kept racing other transactions")


async def _write(
    uow: LoyaltyUnitOfWork, postings: Sequence[Posting], *, actor: str, expiry: ExpiryPolicies
) -> list[Posted | DomainError]:
    refused = await unknown_members(uow, {p.member_id for p in postings})
    states = await uow.ledger.lock_accounts([p.member_id for p in postings if p.member_id not in refused])
    known = {
        row["idempotency_key"]: EntryView.from_mapping(row)
        for row in await uow.ledger.by_keys(actor, [p.idempotency_key for p in postings])
    }
    start = datetime.now(UTC)
    results: list[Posted | DomainError] = []
    written: list[dict[str, Any]] = []
    on_lots: list[LotEntry] = []
    for index, posting in enumerate(postings):
        if (unknown := refused.get(posting.member_id)) is not None:
            results.append(unknown)
            continue
        state = states[posting.member_id]
        if (prior := known.get(posting.idempotency_key)) is not None:
            results.append(_replay(prior, posting, balance=state.balance))
            continue
        bucket = bucket_of(posting.kind)
        if state.of(bucket) + posting.points < 0:
            results.append(InsufficientPoints(balance=state.of(bucket), requested=posting.points))
            continue
        state = states[posting.member_id] = state.moved(bucket, posting.points)
        entry = _entry(posting, state.of(bucket), actor=actor, at=start + timedelta(microseconds=index))
        known[posting.idempotency_key] = entry
        written.append(_row(entry))
        if bucket is Bucket.AVAILABLE:
            on_lots.append(_on_lots(posting, entry))
        results.append(Posted(entry=entry, balance=state.balance, replayed=False))
    allocation = await _allocate(uow, on_lots, expiry) if on_lots else Allocation()
    if written and await uow.ledger.append(actor, written, allocation) < len(written):
        raise KeyRaced
    await record(uow.session, OUTBOX, _balance_changed(on_lots, states))
    if written:
        # One line per transaction, every entry on it: a batch of 100 used to write 100 lines (a tenth of its CPU).
        log.info(
            "points posted", extra={"actor": actor, "count": len(written), "entries": [_logged(r) for r in written]}
        )
    return results


def _logged(row: dict[str, Any]) -> str:
    """An entry as the log shows it: `<member> <points> <kind> balance <after> key <key>`."""
    member, points, kind, after, key = (
        row[k] for k in ("member_id", "points", "kind", "balance_after", "idempotency_key")
    )
    return f"{member} {points:+d} {kind} balance {after} key {key}"


async def _allocate(uow: LoyaltyUnitOfWork, entries: Sequence[LotEntry], expiry: ExpiryPolicies) -> Allocation:
    """The lots each entry creates, takes from or gives back to (one query loads the lots debits need)."""
    debtors = [e.member_id for e in entries if e.points < 0]
    restores = [e.restores for e in entries if e.points > 0 and e.restores is not None]
    lots, consumed = await uow.ledger.lots_for(debtors, restores) if debtors or restores else ([], {})
    return allocate(entries, lots, consumed, expiry)


def _on_lots(posting: Posting, entry: EntryView) -> LotEntry:
    return LotEntry(
        entry_id=entry.id,
        member_id=posting.member_id,
        points=posting.points,
        kind=posting.kind,
        at=entry.created_at,
        order_id=posting.order_id,
        lot_id=posting.lot_id,
        restores=posting.restores,
        expires_on=posting.expires_on,
    )


def _balance_changed(entries: Sequence[LotEntry], states: dict[uuid.UUID, AccountState]) -> list[Event]:
    """`points.balance-changed` v1 once per member whose available balance this batch moved."""
    at = datetime.now(UTC).isoformat()
    members = dict.fromkeys(e.member_id for e in entries)
    return [
        Event(
            type=BALANCE_CHANGED,
            aggregate_id=str(member_id),
            data={"member_id": str(member_id), "available": states[member_id].balance, "changed_at": at},
        )
        for member_id in members
    ]


def _entry(posting: Posting, balance_after: int, *, actor: str, at: datetime) -> EntryView:
    return EntryView(
        id=uuid.uuid4(),
        member_id=posting.member_id,
        points=posting.points,
        balance_after=balance_after,
        kind=posting.kind,
        reason=posting.reason,
        idempotency_key=posting.idempotency_key,
        actor=actor,
        created_at=at,
        order_id=posting.order_id,
    )


def _row(entry: EntryView) -> dict[str, Any]:
    return {
        "id": entry.id,
        "member_id": entry.member_id,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "kind": entry.kind.value,
        "bucket": entry.bucket.value,
        "order_id": entry.order_id,
        "reason": entry.reason,
        "idempotency_key": entry.idempotency_key,
        "created_at": entry.created_at,
    }


def _replay(prior: EntryView, posting: Posting, *, balance: int) -> Posted | DomainError:
    """The first result of a key when the request matches it; `balance` is the member's balance now."""
    if (prior.member_id, prior.points, prior.kind, prior.reason) != (
        posting.member_id,
        posting.points,
        posting.kind,
        posting.reason,
    ):
        return IdempotencyKeyReused("this idempotencyKey was already used for a different request")
    return Posted(entry=prior, balance=balance, replayed=True)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A manual adjustment as asked for: whose balance, how many points, why, under which key."""

    member_id: uuid.UUID
    points: int
    reason: str
    idempotency_key: str


async def adjust_points(
    uow: LoyaltyUnitOfWork,
    *,
    member_id: uuid.UUID,
    points: int,
    reason: str,
    idempotency_key: str,
    actor: str,
    max_points: int,
    expiry: ExpiryPolicies = DEFAULT_EXPIRY,
) -> Posted:
    """Credit (points > 0) or debit (points < 0) a member's balance with a reason, once per idempotency key.

    The same key with the same request replays the first result (`replayed`), so callers can retry freely.
    Raises InvalidAdjustment, UnknownMember (not in the directory, or closed), InsufficientPoints (the balance
    never goes below zero) or IdempotencyKeyReused; then nothing is written.
    """
    adjustment = Adjustment(member_id, points, reason, idempotency_key)
    (result,) = await adjust_points_batch(uow, [adjustment], actor=actor, max_points=max_points, expiry=expiry)
    if isinstance(result, DomainError):
        raise result
    return result


async def adjust_points_batch(
    uow: LoyaltyUnitOfWork,
    adjustments: Sequence[Adjustment],
    *,
    actor: str,
    max_points: int,
    expiry: ExpiryPolicies = DEFAULT_EXPIRY,
) -> list[Posted | DomainError]:
    """Credit (points > 0) or debit (points < 0) members' balances with a reason, once per idempotency key, in
    one transaction; one result per adjustment, in order.

    An invalid adjustment is InvalidAdjustment and the others still apply; see `post_entries` for the rest.
    """
    results: list[Posted | DomainError | None] = []
    postings: list[Posting] = []
    for adjustment in adjustments:
        try:
            reason = check_adjustment(
                points=adjustment.points,
                reason=adjustment.reason,
                idempotency_key=adjustment.idempotency_key,
                max_points=max_points,
            )
        except DomainError as exc:
            results.append(exc)
            continue
        results.append(None)
        postings.append(
            Posting(adjustment.member_id, adjustment.points, EntryKind.ADJUSTMENT, reason, adjustment.idempotency_key)
        )
    posted = iter(await post_entries(uow, postings, actor=actor, expiry=expiry) if postings else [])
    return [next(posted) if result is None else result for result in results]


async def balances(uow: LoyaltyUnitOfWork, member_ids: Sequence[uuid.UUID]) -> list[int]:
    """Each member's available balance (zero without an account), in the order asked, in one query."""
    return [state.balance for state in await account_states(uow, member_ids)]


async def account_states(uow: LoyaltyUnitOfWork, member_ids: Sequence[uuid.UUID]) -> list[AccountState]:
    """Each member's available, pending and owed points (zeros without an account), in order, in one query."""
    async with uow:
        found = {
            a.member_id: AccountState(a.balance, a.pending, a.owed)
            for a in await uow.accounts.by_member_ids(member_ids)
        }
    return [found.get(member_id, AccountState()) for member_id in member_ids]


async def ledger_page(
    uow: LoyaltyUnitOfWork, member_id: uuid.UUID, *, limit: int, before: tuple[datetime, uuid.UUID] | None = None
) -> list[EntryView]:
    """Up to `limit` of the member's entries, newest first, older than `before`."""
    async with uow:
        return [EntryView.of(r) for r in await uow.ledger.page(member_id, limit=limit, before=before)]


async def ledger_size(uow: LoyaltyUnitOfWork, member_id: uuid.UUID) -> int:
    """How many entries the member's ledger holds."""
    async with uow:
        return await uow.ledger.count(member_id)
