"""Lots use cases: expiring lapsed lots as ledger entries, points expiring soon, and reconciliation.

Expiry writes through `points.service.post_entries` under the actor `loyalty-expiry`, one `expiry` entry per lot
naming it, keyed by the lot and how much of it had been used (`lot:<id>:expire:<used>`): a re-run or a concurrent
run finds nothing left, or replays the same key; a lot a void refilled after it expired lapses again under a new
key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from loyalty.lots.errors import InvalidShard, NoLotToExpire
from loyalty.lots.views import Expired, Expiring, LotMismatch
from loyalty.points.lots import Lot
from loyalty.points.models import EntryKind
from loyalty.points.service import post_entries
from loyalty.points.views import Posted, Posting
from loyalty.uow import LoyaltyUnitOfWork

ACTOR = "loyalty-expiry"
MAX_SHARDS = 256
MAX_BATCH = 1000


def check_shard(shard: int, shards: int) -> None:
    """Raises InvalidShard unless 1 ≤ shards ≤ 256 and 0 ≤ shard < shards."""
    if not 1 <= shards <= MAX_SHARDS or not 0 <= shard < shards:
        raise InvalidShard(f"shards must be 1 to {MAX_SHARDS} and shard 0 to shards − 1 (got {shard} of {shards})")


async def expire_points(
    uow: LoyaltyUnitOfWork, *, as_of: date, shard: int = 0, shards: int = 1, members: int = 200
) -> Expired:
    """Expire, in one transaction, every lapsed lot (its expiry date on or before `as_of`) of up to `members`
    members of the shard: one `expiry` entry per lot for what is left on it. `more` says whether the shard has
    further members due (call again). Idempotent per lot; raises InvalidShard."""
    check_shard(shard, shards)
    members = max(1, min(members, MAX_BATCH))
    async with uow:
        due = await uow.lots.due_members(as_of=as_of, shard=shard, shards=shards, limit=members)
        await uow.ledger.lock_accounts(due)
        lots = await uow.lots.due_lots(due, as_of=as_of)
        results = await post_entries(uow, [_expiry(lot) for lot in lots], actor=ACTOR) if lots else []
        await uow.commit()
    written = [r for r in results if isinstance(r, Posted) and not r.replayed]
    return Expired(
        as_of=as_of,
        shard=shard,
        shards=shards,
        lots=len(written),
        points=-sum(r.entry.points for r in written),
        members=len({r.entry.member_id for r in written}),
        more=len(due) == members,
    )


async def expire_lot(uow: LoyaltyUnitOfWork, *, lot_id: uuid.UUID, as_of: date) -> Expired:
    """Expire one lapsed lot now (an operator's correction). Raises NoLotToExpire when the lot does not exist,
    has not lapsed by `as_of`, or has nothing left; nothing is written then."""
    async with uow:
        found = await uow.lots.lot(lot_id)
        if found is not None:
            await uow.ledger.lock_accounts([found.member_id])
            found = await uow.lots.lot(lot_id)
        if found is None or found.expires_on is None or found.expires_on > as_of or found.remaining <= 0:
            raise NoLotToExpire(f"lot {lot_id} has no lapsed points to expire as of {as_of.isoformat()}")
        (result,) = await post_entries(uow, [_expiry(found)], actor=ACTOR)
        await uow.commit()
    if not isinstance(result, Posted):
        raise result
    return Expired(as_of=as_of, shard=0, shards=1, lots=1, points=found.remaining, members=1, more=False)


def _expiry(lot: Lot) -> Posting:
    assert lot.expires_on is not None
    reason = f"积分过期 points expired on {lot.expires_on.isoformat()} (earned {lot.earned_at.date().isoformat()})"
    key = f"lot:{lot.id}:expire:{lot.points - lot.remaining}"
    return Posting(lot.member_id, -lot.remaining, EntryKind.EXPIRY, reason, key, lot_id=lot.id)


async def expiring_soon(
    uow: LoyaltyUnitOfWork, member_ids: Sequence[uuid.UUID], *, as_of: date, within_days: int
) -> list[list[Expiring]]:
    """Per member (in order), their points expiring within `within_days` days after `as_of`, by date."""
    async with uow:
        found = await uow.lots.expiring(member_ids, as_of=as_of, until=as_of + timedelta(days=within_days))
    by_member: dict[uuid.UUID, list[Expiring]] = {}
    for item in found:
        by_member.setdefault(item.member_id, []).append(item)
    return [by_member.get(member_id, []) for member_id in member_ids]


async def expiring_members(
    uow: LoyaltyUnitOfWork, *, as_of: date, within_days: int, after: uuid.UUID | None, limit: int
) -> list[Expiring]:
    """Members whose points expire within `within_days` days after `as_of` (what the expiry notice lists), by id."""
    async with uow:
        return await uow.lots.expiring_members(
            as_of=as_of, until=as_of + timedelta(days=within_days), after=after, limit=limit
        )


async def lot_mismatches(uow: LoyaltyUnitOfWork, *, limit: int = 100) -> list[LotMismatch]:
    """Every disagreement between accounts, lots and entries, up to `limit` (reconciliation)."""
    async with uow:
        return await uow.lots.mismatches(limit)
